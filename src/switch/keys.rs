//! The journalist's two kinds of signing key, kept in the vault: the device keys that sign
//! every request to a watcher, and the sealing key that signs every bundle for the lawyers.
//! Made from the OS random generator (through `ring`) the first time they are needed.

use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::SwitchError;
use super::settings::{DEVICE_KEYS, SEALING_KEY};
use crate::protocol;
use crate::release::bundle;
use crate::vault::Vault;

/// A view's two signing keys (PKCS#8, base64): `device` signs its requests; `duress` is its
/// decoy's `device` key, registered with each watcher as the key that means coercion. Every
/// view, the decoy included, holds both, so the keys say nothing about which view is open.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct DeviceKeys {
    pub(crate) device: String,
    pub(crate) duress: String,
}

impl DeviceKeys {
    pub(crate) fn generate() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let make = || {
            let pkcs8 =
                Ed25519KeyPair::generate_pkcs8(&rng).expect("the OS random generator works");
            protocol::b64(pkcs8.as_ref())
        };
        DeviceKeys {
            device: make(),
            duress: make(),
        }
    }

    pub(crate) fn pair(text: &str) -> Result<Ed25519KeyPair, SwitchError> {
        let bytes =
            Zeroizing::new(protocol::unb64(text).map_err(|_| SwitchError::DamagedKey("device"))?);
        Ed25519KeyPair::from_pkcs8(&bytes).map_err(|_| SwitchError::DamagedKey("device"))
    }

    /// This view's keys, if it has enrolled.
    pub(crate) fn load(vault: &Vault) -> Result<Option<DeviceKeys>, SwitchError> {
        Ok(vault.setting(DEVICE_KEYS)?)
    }

    /// This view's keys, made and kept the first time.
    pub(crate) fn load_or_make(vault: &Vault) -> Result<DeviceKeys, SwitchError> {
        match Self::load(vault)? {
            Some(keys) => Ok(keys),
            None => {
                let keys = DeviceKeys::generate();
                vault.set_setting(DEVICE_KEYS, &keys)?;
                Ok(keys)
            }
        }
    }
}

/// The key this view signs its requests with.
pub(crate) fn signing_key(vault: &Vault) -> Result<Ed25519KeyPair, SwitchError> {
    let keys = DeviceKeys::load(vault)?.ok_or(SwitchError::NotEnrolled)?;
    DeviceKeys::pair(&keys.device)
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct SealingKey {
    pkcs8: String,
}

/// The vault's sealing key, made (from the OS random generator) and kept the first time.
pub(crate) fn sealing_key(vault: &Vault) -> Result<Ed25519KeyPair, SwitchError> {
    let stored: Option<SealingKey> = vault.setting(SEALING_KEY)?;
    let stored = match stored {
        Some(key) => key,
        None => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                .map_err(|_| SwitchError::Random)?;
            let key = SealingKey {
                pkcs8: protocol::b64(pkcs8.as_ref()),
            };
            vault.set_setting(SEALING_KEY, &key)?;
            key
        }
    };
    let bytes = Zeroizing::new(
        protocol::unb64(&stored.pkcs8).map_err(|_| SwitchError::DamagedKey("sealing"))?,
    );
    Ed25519KeyPair::from_pkcs8(&bytes).map_err(|_| SwitchError::DamagedKey("sealing"))
}

/// The fingerprint of the sealing key, which the journalist gives each lawyer in person so
/// that `open --from` can tell their bundles from forgeries.
pub fn sealing_fingerprint(vault: &Vault) -> Result<String, SwitchError> {
    Ok(bundle::sealing_fingerprint(
        sealing_key(vault)?.public_key().as_ref(),
    ))
}
