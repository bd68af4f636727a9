//! Files an examiner (or a damaged disk) can change under the vault: the key-slot file, and a
//! record's sealed bytes. The fuzzed bytes are sealed with a test key so that they reach the
//! padding and JSON decoding behind the AEAD. Errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posbon::crypto;
use posbon::secret::Key32;
use posbon::vault::keyslots::KeySlots;
use posbon::vault::{Record, RecordId};

fuzz_target!(|data: &[u8]| {
    if let Ok(slots) = KeySlots::parse(std::path::Path::new("keyslots"), data) {
        let _ = slots.kdf();
        let _ = slots.capture_recipient();
        let _ = slots.checksum_ok();
    }
    let key = Key32::from_bytes([9u8; 32]);
    let id = RecordId([3u8; 16]);
    let _ = Record::open(&key, &id, data);
    let sealed = crypto::seal(&key, &id.aad(), data);
    let _ = Record::open(&key, &id, &sealed);
    let padded = crypto::pad(data, 0);
    let sealed = crypto::seal(&key, &id.aad(), padded.expose());
    let _ = Record::open(&key, &id, &sealed);
});
