//! What a posted form holds: its fields, decoded with the raw bytes wiped, and a new
//! passphrase as every form takes it (the vault's, the duress one, a backup's): typed twice,
//! and refused when easy to guess, with the estimator the command line uses.

use axum::body::Bytes;
use zeroize::Zeroize;

use super::text::Tr;
use crate::secret::Passphrase;
use crate::secret::strength;

/// The new passphrase typed twice, if both agree and it is hard enough to guess.
pub(super) fn new_passphrase(t: Tr, pairs: &mut [(String, String)]) -> Result<Passphrase, String> {
    let first = Passphrase::new(take(pairs, "new"));
    let second = Passphrase::new(take(pairs, "again"));
    if first.is_empty() {
        return Err(t.get("keys-empty"));
    }
    if !first.matches(&second) {
        return Err(t.get("keys-differ"));
    }
    let estimate = strength::estimate(&first, &[]);
    if !estimate.acceptable() {
        return Err(t.with(
            "keys-weak",
            "guesses",
            &format!("10^{}", estimate.guesses_log10),
        ));
    }
    Ok(first)
}

/// The body of a small form, decoded; the raw bytes are wiped.
pub(super) fn form(body: Bytes) -> Vec<(String, String)> {
    let mut raw: Vec<u8> = body.into();
    let pairs = form_urlencoded_pairs(&raw);
    raw.zeroize();
    pairs
}

fn form_urlencoded_pairs(raw: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw).unwrap_or_default()
}

pub(super) fn take(pairs: &mut [(String, String)], name: &str) -> String {
    pairs
        .iter_mut()
        .find(|(key, _)| key == name)
        .map(|(_, value)| std::mem::take(value))
        .unwrap_or_default()
}

/// An id as the pages carry it in an address (a bundle's, a phone's): hex and short, nothing
/// else, so that it cannot name anything but what it names.
pub(super) fn hex_id(id: &str) -> Option<String> {
    (!id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| id.to_string())
}
