//! The lawyer's key: an age identity file or an OpenSSH private key, either of them plain or
//! protected by a passphrase, read together with the public key it answers to, so that
//! opening a bundle can check that it was sealed for the key that opened it.
//!
//! A passphrase is asked for only when the key is protected, through a function the face
//! (CLI or app) supplies: the library never prompts.

use std::io::Read;
use std::path::Path;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::error::{BundleError, KeyProblem};
use crate::secret::Passphrase;

/// Key files are small; anything larger is not one (and is not read whole).
const MAX_KEY_FILE: u64 = 64 * 1024;
/// The scrypt work factor an encrypted age identity may ask for: the `age` CLI's own limit.
const MAX_SCRYPT_WORK_FACTOR: u8 = 22;

/// A lawyer's identities, each with the recipient (public key) it answers to.
pub struct LawyerKey {
    pub(super) keys: Vec<(Box<dyn age::Identity>, String)>,
}

impl std::fmt::Debug for LawyerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The public halves only: never a secret.
        f.debug_struct("LawyerKey")
            .field("recipients", &self.recipients())
            .finish()
    }
}

impl LawyerKey {
    /// The recipients (`age1...`, `ssh-ed25519 ...`) of these identities.
    pub fn recipients(&self) -> Vec<&str> {
        self.keys
            .iter()
            .map(|(_, public)| public.as_str())
            .collect()
    }
}

/// A recipient as it is compared: its type and key, without an SSH comment.
pub fn normalised_recipient(text: &str) -> String {
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the key in `path`. `passphrase` is called (once) if the key is protected.
pub fn read(
    path: &Path,
    passphrase: &mut dyn FnMut() -> Result<Passphrase, BundleError>,
) -> Result<LawyerKey, BundleError> {
    let unreadable = |reason| BundleError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(bad_key(&path.display().to_string(), KeyProblem::TooLarge));
    }
    parse(&bytes, &path.display().to_string(), passphrase)
}

/// Reads a key from its bytes; `name` says which file it is, in messages.
pub fn parse(
    bytes: &[u8],
    name: &str,
    passphrase: &mut dyn FnMut() -> Result<Passphrase, BundleError>,
) -> Result<LawyerKey, BundleError> {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    if trimmed.starts_with("age-encryption.org/v1")
        || trimmed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
    {
        let inner = decrypt_identity_file(bytes, name, passphrase()?)?;
        return age_identities(&inner, name);
    }
    if text.contains("AGE-SECRET-KEY-") {
        return age_identities(bytes, name);
    }
    if trimmed.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
        return ssh_key(bytes, name, passphrase);
    }
    Err(bad_key(name, KeyProblem::NotAKey))
}

/// Plain age identities, one per line (`#` comments and empty lines skipped).
fn age_identities(bytes: &[u8], name: &str) -> Result<LawyerKey, BundleError> {
    let text = Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
    let mut keys: Vec<(Box<dyn age::Identity>, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The line itself is never put in a message: it is a secret key.
        let identity = line
            .parse::<age::x25519::Identity>()
            .map_err(|_| bad_key(name, KeyProblem::BadLine(n + 1)))?;
        let public = identity.to_public().to_string();
        keys.push((Box::new(identity), public));
    }
    if keys.is_empty() {
        return Err(bad_key(name, KeyProblem::NoIdentity));
    }
    Ok(LawyerKey { keys })
}

/// An identity file encrypted with a passphrase (`age -p`, as the `age` CLI accepts with `-i`).
fn decrypt_identity_file(
    bytes: &[u8],
    name: &str,
    passphrase: Passphrase,
) -> Result<Zeroizing<Vec<u8>>, BundleError> {
    let bad = || bad_key(name, KeyProblem::DamagedEncrypted);
    let decryptor =
        age::Decryptor::new(age::armor::ArmoredReader::new(bytes)).map_err(|_| bad())?;
    if !decryptor.is_scrypt() {
        return Err(bad_key(name, KeyProblem::NotPassphraseProtected));
    }
    let mut identity =
        age::scrypt::Identity::new(SecretString::from(passphrase.expose().to_string()));
    identity.set_max_work_factor(MAX_SCRYPT_WORK_FACTOR);
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|_| BundleError::WrongKeyPassphrase {
            key: name.to_string(),
        })?;
    let mut inner = Zeroizing::new(Vec::new());
    (&mut reader)
        .take(MAX_KEY_FILE + 1)
        .read_to_end(&mut inner)
        .map_err(|_| bad())?;
    if inner.len() as u64 > MAX_KEY_FILE {
        return Err(bad());
    }
    Ok(inner)
}

/// An OpenSSH ed25519 (or RSA) private key; asks for its passphrase if it has one.
fn ssh_key(
    bytes: &[u8],
    name: &str,
    passphrase: &mut dyn FnMut() -> Result<Passphrase, BundleError>,
) -> Result<LawyerKey, BundleError> {
    let unsupported = || bad_key(name, KeyProblem::UnsupportedSsh);
    let public = openssh_public_key(bytes).ok_or_else(unsupported)?;
    let identity = age::ssh::Identity::from_buffer(bytes, Some(name.to_string()))
        .map_err(|_| bad_key(name, KeyProblem::DamagedSsh))?;
    let identity = match identity {
        age::ssh::Identity::Unencrypted(_) => identity,
        age::ssh::Identity::Encrypted(encrypted) => {
            let typed = passphrase()?;
            let key = encrypted
                .decrypt(SecretString::from(typed.expose().to_string()))
                .map_err(|_| BundleError::WrongKeyPassphrase {
                    key: name.to_string(),
                })?;
            age::ssh::Identity::from(key)
        }
        age::ssh::Identity::Unsupported(_) => return Err(unsupported()),
    };
    Ok(LawyerKey {
        keys: vec![(Box::new(identity), public)],
    })
}

/// The public key an OpenSSH private key file carries in the clear, as `ssh-ed25519 BASE64`.
///
/// The file is `openssh-key-v1\0`, then the cipher, KDF and its options, the number of keys,
/// and each public key as an SSH string (RFC 4253 §6.6): it is readable without the
/// passphrase, which is how the lawyer's key is checked against a bundle's recipients.
fn openssh_public_key(file: &[u8]) -> Option<String> {
    use base64::Engine;
    let text = String::from_utf8_lossy(file);
    let body: Zeroizing<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect::<String>()
        .into();
    let raw = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .ok()?,
    );
    let mut rest: &[u8] = raw.strip_prefix(b"openssh-key-v1\0")?;
    fn take_u32(rest: &mut &[u8]) -> Option<u32> {
        let value = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        *rest = &rest[4..];
        Some(value)
    }
    fn take_string<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = take_u32(rest)? as usize;
        let value = rest.get(..len)?;
        *rest = &rest[len..];
        Some(value)
    }
    // The cipher, the KDF and its options: not needed to read the public key.
    for _ in 0..3 {
        take_string(&mut rest)?;
    }
    if take_u32(&mut rest)? != 1 {
        return None;
    }
    let blob = take_string(&mut rest)?;
    let mut in_blob: &[u8] = blob;
    let kind = take_string(&mut in_blob)?;
    (kind == b"ssh-ed25519").then(|| {
        format!(
            "ssh-ed25519 {}",
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    })
}

fn bad_key(key: &str, problem: KeyProblem) -> BundleError {
    BundleError::BadKey {
        key: key.to_string(),
        problem,
    }
}
