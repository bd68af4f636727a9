//! The watcher's two keys, each a file in the data directory made once on first use: its
//! Ed25519 signing key (`watcher.key`) and the key link tokens are derived under
//! (`link.key`). Made so that two processes starting at once end up with the same key.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use ring::signature::Ed25519KeyPair;

use super::{StoreError, io};

/// The key download and acknowledgement tokens are derived under (`DATA/link.key`, 32
/// random bytes, made on first use). Tokens are made from it when a delivery is sent and
/// never stored: the database keeps only their SHA-256, so a copy of the database alone
/// cannot spend a link. Losing the file only kills the links of deliveries still pending.
pub fn link_key(data: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>, StoreError> {
    let path = data.join("link.key");
    if !path.exists() {
        let key = zeroize::Zeroizing::new(crate::crypto::random_array::<32>());
        create_key_file_once(data, &path, key.as_ref())?;
    }
    let bytes = zeroize::Zeroizing::new(fs::read(&path).map_err(|e| io(&path, e))?);
    if bytes.len() != 32 {
        return Err(StoreError::Damaged(format!(
            "{} is not a 32-byte key",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Writes `key` to `path` (0600, in `data`, 0700) unless a key is there already, durably.
/// A hard link only succeeds if no key exists yet: two processes starting at once (the
/// daemon and `watch invite`) end up with the same key, the first one's.
fn create_key_file_once(data: &Path, path: &Path, key: &[u8]) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data)
        .map_err(|e| io(data, e))?;
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| io(&temp, e))?;
    file.write_all(key)
        .and_then(|_| file.sync_all())
        .map_err(|e| io(&temp, e))?;
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(path, e)),
    }
    File::open(data)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(data, e))
}

/// Loads the watcher's signing key from `DATA/watcher.key`, creating it on first use.
pub fn watcher_key(data: &Path) -> Result<Ed25519KeyPair, StoreError> {
    let path = data.join("watcher.key");
    if !path.exists() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| StoreError::Damaged("cannot generate a key".into()))?;
        create_key_file_once(data, &path, pkcs8.as_ref())?;
    }
    let bytes = zeroize::Zeroizing::new(fs::read(&path).map_err(|e| io(&path, e))?);
    Ed25519KeyPair::from_pkcs8(&bytes)
        .map_err(|_| StoreError::Damaged(format!("{} is not an Ed25519 key", path.display())))
}
