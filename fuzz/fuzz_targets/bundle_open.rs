//! `posbon open` on a hostile bundle: the fuzzed bytes are sealed for a test key, so they
//! reach the archive and manifest parsing behind the decryption, and are also given as the
//! plain archive (`age -d ... | posbon open -`). Any input must give an error or a contained
//! extraction, never a panic or a file outside the output folder.
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use age::secrecy::ExposeSecret;
use libfuzzer_sys::fuzz_target;

fn identity() -> &'static age::x25519::Identity {
    static IDENTITY: OnceLock<age::x25519::Identity> = OnceLock::new();
    IDENTITY.get_or_init(|| posbon::vault::identity::generate().1)
}

fuzz_target!(|data: &[u8]| {
    let identity = identity();
    let recipient = identity.to_public();
    let mut sealed = Vec::new();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .expect("one recipient");
    let mut writer = encryptor.wrap_output(&mut sealed).expect("in memory");
    writer.write_all(data).expect("in memory");
    writer.finish().expect("in memory");
    let temp = tempfile::tempdir().expect("a temporary directory");
    let out = temp.path().join("out");
    let key = posbon::release::keys::parse(
        format!("{}\n", identity.to_string().expose_secret()).as_bytes(),
        "fuzz.key",
        &mut || unreachable!("no passphrase"),
    )
    .expect("a valid key");
    use posbon::release::open::{Input, open};
    let _ = open(&mut sealed.as_slice(), Input::Sealed(&key), Some(&out), None);
    // Also the raw bytes, as the sealed bundle and as the decrypted archive.
    let _ = open(&mut &data[..], Input::Sealed(&key), Some(&temp.path().join("raw")), None);
    let _ = open(&mut &data[..], Input::Plain, Some(&temp.path().join("plain")), None);
    for entry in std::fs::read_dir(temp.path()).expect("readable") {
        let name = entry.expect("an entry").file_name();
        assert!(
            name == "out" || name == "raw" || name == "plain",
            "wrote outside: {name:?}"
        );
    }
});
