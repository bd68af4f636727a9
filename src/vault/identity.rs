//! age X25519 identities made from `ring`'s OS randomness (the vault's capture identity and
//! recovery keys), so that every long-term key of the project comes from one audited source.

use std::str::FromStr;

use bech32::{ToBase32, Variant};
use zeroize::Zeroizing;

use crate::crypto;
use crate::secret::Passphrase;

/// A new age identity, as its `AGE-SECRET-KEY-1...` string (secret) and parsed form.
pub fn generate() -> (Passphrase, age::x25519::Identity) {
    let secret = Zeroizing::new(crypto::random_array::<32>());
    let mut base32 = secret.to_base32();
    let mut encoded = bech32::encode("age-secret-key-", &base32, Variant::Bech32)
        .expect("the HRP is valid and 32 bytes fit");
    // bech32's 5-bit type has no Zeroize; overwrite it by hand.
    base32
        .iter_mut()
        .for_each(|digit| *digit = bech32::u5::try_from_u8(0).expect("0 is a u5"));
    std::hint::black_box(&base32);
    let upper = Passphrase::new(encoded.to_uppercase());
    zeroize::Zeroize::zeroize(&mut encoded);
    let identity = parse(upper.expose()).expect("a freshly encoded identity parses");
    (upper, identity)
}

/// Parses an `AGE-SECRET-KEY-1...` string.
pub fn parse(text: &str) -> Option<age::x25519::Identity> {
    age::x25519::Identity::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use age::secrecy::ExposeSecret;

    #[test]
    fn generated_identities_are_valid_and_distinct() {
        let (a_text, a) = super::generate();
        let (_, b) = super::generate();
        assert!(a_text.expose().starts_with("AGE-SECRET-KEY-1"));
        assert_eq!(a.to_string().expose_secret(), a_text.expose());
        assert_ne!(a.to_public().to_string(), b.to_public().to_string());
    }
}
