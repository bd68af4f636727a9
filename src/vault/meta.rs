//! Sealed metadata of one vault view (real or decoy): small values such as the capture
//! identity, the slot table, the event log and settings of other parts of posbon, each sealed
//! under the view's key with its label in the associated data.

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::secret::{Key32, SecretBytes};

use super::error::{Result, VaultError};
use super::store::Store;
use super::{Space, Vault};

impl Vault {
    /// A sealed setting of this view of the vault (real or decoy), such as the watcher links.
    pub fn setting<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<Option<T>> {
        get_meta_json(&self.store, &self.space, &self.key, &setting_label(name))
    }

    pub fn set_setting<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        put_meta_json(
            &self.store,
            &self.space,
            &self.key,
            &setting_label(name),
            value,
        )
    }

    /// Reads a setting of this view's decoy.
    pub fn decoy_setting<T: for<'de> serde::Deserialize<'de>>(
        &self,
        name: &str,
    ) -> Result<Option<T>> {
        let Some((decoy_key, decoy_space)) = self.decoy()? else {
            return Ok(None);
        };
        get_meta_json(&self.store, &decoy_space, &decoy_key, &setting_label(name))
    }

    /// Writes a setting into the decoy view, so that the decoy behaves like the real vault
    /// (for example, it checks in with the watchers, with the duress key). Returns false when
    /// no duress passphrase was ever set.
    pub fn set_decoy_setting<T: Serialize>(&self, name: &str, value: &T) -> Result<bool> {
        let Some((decoy_key, decoy_space)) = self.decoy()? else {
            return Ok(false);
        };
        put_meta_json(
            &self.store,
            &decoy_space,
            &decoy_key,
            &setting_label(name),
            value,
        )?;
        Ok(true)
    }
}

fn setting_label(name: &str) -> String {
    format!("setting/{name}")
}

pub(super) fn meta_aad(label: &str) -> Vec<u8> {
    format!("posbon/v1/meta/{label}").into_bytes()
}

/// The database name of a label: keyed by the view's key, so that a raw copy of the vault
/// does not say which settings exist (a plain `decoy-key` or `setting/watchers` would).
pub(crate) fn meta_name(key: &Key32, label: &str) -> [u8; 16] {
    let mut name = [0u8; 16];
    crypto::hkdf_into(
        key.expose(),
        b"posbon/v2/meta-name",
        label.as_bytes(),
        &mut name,
    );
    name
}

pub(super) fn put_meta(
    store: &Store,
    space: &Space,
    key: &Key32,
    label: &str,
    value: &[u8],
) -> Result<()> {
    let padded = crypto::pad(value, 256);
    store.put(key, &space.meta, &meta_name(key, label), |entry_key| {
        Ok(crypto::seal(entry_key, &meta_aad(label), padded.expose()))
    })
}

pub(super) fn get_meta(
    store: &Store,
    space: &Space,
    key: &Key32,
    label: &str,
) -> Result<Option<SecretBytes>> {
    let Some(entry) = store.get(key, &space.meta, &meta_name(key, label))? else {
        return Ok(None);
    };
    let damaged =
        || VaultError::Damaged(format!("the vault's {label} entry does not authenticate"));
    let entry_key = entry.key.ok_or_else(damaged)?;
    let padded = crypto::open(&entry_key, &meta_aad(label), &entry.value).map_err(|_| damaged())?;
    let value = crypto::unpad(padded.expose()).ok_or_else(damaged)?;
    Ok(Some(SecretBytes::new(value.to_vec())))
}

pub(super) fn put_meta_json<T: Serialize>(
    store: &Store,
    space: &Space,
    key: &Key32,
    label: &str,
    value: &T,
) -> Result<()> {
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(value).map_err(|e| VaultError::Invalid(e.to_string()))?,
    );
    put_meta(store, space, key, label, &json)
}

pub(super) fn get_meta_json<T: for<'de> Deserialize<'de>>(
    store: &Store,
    space: &Space,
    key: &Key32,
    label: &str,
) -> Result<Option<T>> {
    match get_meta(store, space, key, label)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(bytes.expose())
            .map(Some)
            .map_err(|_| VaultError::Damaged(format!("the vault's {label} entry is malformed"))),
    }
}
