//! Small, shared cryptographic building blocks over `ring`: the OS random generator, one AEAD
//! seal/open pair, HKDF sub-keys, length padding, and the text forms of public keys (base64,
//! fingerprints to compare over the phone).
//!
//! Nothing here knows about vaults or files; formats are built on top of these in `vault/`.
//! Every key and nonce the project makes comes from [`fill_random`], that is from `ring`'s
//! `SystemRandom` (the OS generator: `getrandom` on Linux).

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

use crate::secret::{Key32, SecretBytes};

/// Length of the random nonce stored in front of every sealed value.
pub const NONCE_LEN: usize = 12;
/// Length of the authentication tag behind every sealed value.
pub const TAG_LEN: usize = 16;
/// What sealing adds to a plaintext.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// Authentication failed: wrong key, or the bytes were changed. Deliberately carries nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailed;

/// Fills `out` from the OS random generator.
///
/// # Panics
/// If the OS generator fails, which on Linux only happens before the kernel's pool is
/// initialised at boot; continuing with weak randomness would be far worse than stopping.
pub fn fill_random(out: &mut [u8]) {
    SystemRandom::new()
        .fill(out)
        .expect("the operating system's random generator failed");
}

pub fn random_array<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill_random(&mut out);
    out
}

pub fn random_key() -> Key32 {
    Key32::from_bytes(random_array())
}

fn chacha_key(key: &Key32) -> LessSafeKey {
    let unbound = UnboundKey::new(&aead::CHACHA20_POLY1305, key.expose())
        .expect("a 32-byte key is valid for ChaCha20-Poly1305");
    LessSafeKey::new(unbound)
}

/// Seals `plaintext` with ChaCha20-Poly1305 under `key`, binding `aad`.
/// Output: `nonce (12) || ciphertext || tag (16)`, with a fresh random nonce.
pub fn seal(key: &Key32, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce_bytes: [u8; NONCE_LEN] = random_array();
    let mut out = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(plaintext);
    let mut body = out.split_off(NONCE_LEN);
    chacha_key(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(aad),
            &mut body,
        )
        .expect("sealing fails only for inputs larger than 256 GiB");
    out.extend_from_slice(&body);
    out
}

/// Opens a value made by [`seal`] with the same key and `aad`.
pub fn open(key: &Key32, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, AuthFailed> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(AuthFailed);
    }
    let (nonce_bytes, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce_bytes).map_err(|_| AuthFailed)?;
    let mut buffer = zeroize::Zeroizing::new(body.to_vec());
    let plain_len = chacha_key(key)
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| AuthFailed)?
        .len();
    buffer.truncate(plain_len);
    Ok(SecretBytes::new(std::mem::take(&mut *buffer)))
}

/// Opens a sealed 32-byte key (as [`seal`] made it) straight into `out`, an existing locked
/// key, without the intermediate buffers [`open`] allocates: listing a vault unwraps one key
/// per record. Returns false (and leaves `out` unchanged) when it does not open.
pub fn open_key_into(key: &Key32, aad: &[u8], sealed: &[u8], out: &mut Key32) -> bool {
    if sealed.len() != 32 + SEAL_OVERHEAD {
        return false;
    }
    let (nonce_bytes, body) = sealed.split_at(NONCE_LEN);
    let Ok(nonce) = Nonce::try_assume_unique_for_key(nonce_bytes) else {
        return false;
    };
    let mut buffer = zeroize::Zeroizing::new([0u8; 48]);
    buffer.copy_from_slice(body);
    match chacha_key(key).open_in_place(nonce, Aad::from(aad), &mut buffer[..]) {
        Ok(plain) => {
            out.expose_mut().copy_from_slice(plain);
            true
        }
        Err(_) => false,
    }
}

struct OutputLen(usize);

impl hkdf::KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// Derives an independent 256-bit key from `master` for one purpose, named by `label`.
pub fn derive_key(master: &Key32, label: &str) -> Key32 {
    let mut out = [0u8; 32];
    hkdf_into(master.expose(), b"posbon/v1", label.as_bytes(), &mut out);
    Key32::from_bytes(out)
}

/// HKDF-SHA256 (extract with `salt`, expand with `info`) of `ikm` into `out`.
pub fn hkdf_into(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    let infos = [info];
    hkdf::Salt::new(hkdf::HKDF_SHA256, salt)
        .extract(ikm)
        .expand(&infos, OutputLen(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF output length is far below its limit");
}

/// A keyed name: a value that looks random without `key` and is stable with it. Used to name
/// the storage spaces of the real and the decoy vault so an observer cannot tell them apart.
pub fn keyed_name(key: &Key32, label: &str) -> String {
    let mut out = [0u8; 16];
    hkdf_into(key.expose(), b"posbon/v1/name", label.as_bytes(), &mut out);
    hex::encode(out)
}

/// The Padmé padded length for `len` bytes: at most 12% larger, and it leaks only
/// O(log log len) bits of the true length (Nikitin et al., "Reducing Metadata Leakage from
/// Encrypted Files and Communication with PURBs", 2019).
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let e = 63 - u64::from(len.leading_zeros()); // floor(log2(len))
    let s = 64 - u64::from(e.leading_zeros()); // floor(log2(e)) + 1
    let last_bits = e.saturating_sub(s);
    let mask = (1u64 << last_bits) - 1;
    (len + mask) & !mask
}

/// Frames `data` as `len (u32 BE) || data || zero padding`, padded with Padmé and never
/// shorter than `minimum`, so that sealed values do not reveal their exact size.
pub fn pad(data: &[u8], minimum: usize) -> SecretBytes {
    let framed = data.len() + 4;
    let target = (padme(framed as u64) as usize).max(minimum);
    let mut out = Vec::with_capacity(target);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out.resize(target, 0);
    SecretBytes::new(out)
}

/// Reverses [`pad`]; `None` when the frame is inconsistent.
pub fn unpad(padded: &[u8]) -> Option<&[u8]> {
    let len_bytes: [u8; 4] = padded.get(..4)?.try_into().ok()?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    padded.get(4..4 + len)
}

/// Base64 (standard alphabet, padded): how keys and signatures travel in JSON.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Bytes from base64 (surrounding blanks ignored); `None` if it is not base64.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// The fingerprint of a watcher's public key, to compare over the phone: the first 16 bytes
/// of its SHA-256, as eight groups of four hex digits. 128 bits, because a state-level
/// attacker could afford the 2^64 work of matching a 64-bit one with a key of its own and
/// then sign a false all-clear.
pub fn fingerprint(public_key: &[u8]) -> String {
    grouped_fingerprint(public_key, 16)
}

/// Whether `text` (as typed: any case, any separators a phone or word processor puts in)
/// can be a whole fingerprint of the form above: 32 hex digits.
pub fn is_whole_fingerprint(text: &str) -> bool {
    let hex: Vec<char> = text.chars().filter(char::is_ascii_alphanumeric).collect();
    hex.len() == 32 && hex.iter().all(char::is_ascii_hexdigit)
}

/// The 64-bit fingerprint that posbon 0.1 wrote into alerts and enrolment answers. It is
/// never accepted from a person as naming a watcher (that is [`fingerprint`]'s job); it is
/// recognised only where it was derived from a key that is itself checked, so that alerts
/// signed before the change, and watchers not yet upgraded, still verify.
pub fn legacy_fingerprint(public_key: &[u8]) -> String {
    grouped_fingerprint(public_key, 8)
}

/// Whether `shown` is what a posbon of either version derives from `public_key`.
pub fn is_derived_fingerprint(shown: &str, public_key: &[u8]) -> bool {
    shown == fingerprint(public_key) || shown == legacy_fingerprint(public_key)
}

fn grouped_fingerprint(public_key: &[u8], bytes: usize) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public_key);
    let hex = hex::encode(&digest.as_ref()[..bytes]);
    hex.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sealed_value_opens_only_with_same_key_and_aad() {
        let key = random_key();
        let sealed = seal(&key, b"record:1", b"secret words");
        assert_eq!(
            open(&key, b"record:1", &sealed).unwrap().expose(),
            b"secret words"
        );
        assert_eq!(open(&key, b"record:2", &sealed).unwrap_err(), AuthFailed);
        assert_eq!(
            open(&random_key(), b"record:1", &sealed).unwrap_err(),
            AuthFailed
        );
        let mut flipped = sealed.clone();
        flipped[NONCE_LEN + 2] ^= 1;
        assert_eq!(open(&key, b"record:1", &flipped).unwrap_err(), AuthFailed);
        assert_eq!(
            open(&key, b"record:1", &sealed[..10]).unwrap_err(),
            AuthFailed
        );
    }

    #[test]
    fn two_seals_of_the_same_plaintext_differ() {
        let key = random_key();
        assert_ne!(seal(&key, b"", b"same"), seal(&key, b"", b"same"));
    }

    #[test]
    fn derived_keys_differ_by_label_and_are_stable() {
        let master = random_key();
        assert_eq!(
            derive_key(&master, "a").expose(),
            derive_key(&master, "a").expose()
        );
        assert_ne!(
            derive_key(&master, "a").expose(),
            derive_key(&master, "b").expose()
        );
    }

    #[test]
    fn padme_matches_known_values() {
        assert_eq!(padme(0), 0);
        assert_eq!(padme(1), 1);
        assert_eq!(padme(9), 10);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(1_000_000), 1_015_808);
    }

    proptest! {
        #[test]
        fn padme_never_shrinks_and_stays_within_twelve_percent(len in 1u64..(1 << 40)) {
            let padded = padme(len);
            prop_assert!(padded >= len);
            prop_assert!(padded as f64 <= len as f64 * 1.12 + 1.0);
        }

        #[test]
        fn pad_round_trips(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let padded = pad(&data, 256);
            prop_assert!(padded.len() >= 256);
            prop_assert_eq!(unpad(padded.expose()).unwrap(), &data[..]);
        }
    }
}
