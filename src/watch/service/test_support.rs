//! What the service's test modules share: a new key, and a journalist enrolled with a
//! watcher in a temporary directory.

use super::*;

pub(super) fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// A watcher in a temporary directory, with a journalist enrolled at `now_ms`: the watcher,
/// its directory, the subject id, and the device and duress keys.
pub(super) fn enrolled_at(
    now_ms: impl FnOnce(&Watcher) -> i64,
) -> (
    Watcher,
    tempfile::TempDir,
    String,
    Ed25519KeyPair,
    Ed25519KeyPair,
    i64,
) {
    let data = tempfile::tempdir().unwrap();
    let watcher = Watcher::open(data.path()).unwrap();
    let t0 = now_ms(&watcher);
    let code = watcher.invites.create("Nilufar", t0).unwrap();
    let (device, duress) = (key(), key());
    let public =
        |k: &Ed25519KeyPair| protocol::b64(ring::signature::KeyPair::public_key(k).as_ref());
    let enrolled = watcher
        .enrol(
            &EnrolRequest {
                proof: protocol::b64(device.sign(&protocol::enrol_bytes(&code)).as_ref()),
                code,
                device_key: public(&device),
                duress_key: public(&duress),
            },
            t0,
        )
        .unwrap();
    (watcher, data, enrolled.subject, device, duress, t0)
}
