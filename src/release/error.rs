//! The one error of release, shared by sealing, reading a lawyer's key and opening: its
//! variants are what a journalist or a lawyer can act on, and the CLI maps each to an exit
//! code. It lives apart so the three can name it without naming each other.

use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Anything else the caller got wrong, for the rare cases no person should meet.
    #[error("{0}")]
    Invalid(String),
    /// The lawyer's key file (named) cannot be used: why, as data.
    #[error("{key}: {problem}")]
    BadKey { key: String, problem: KeyProblem },
    #[error("this is a sealed bundle: give your key with -i KEY")]
    SealedNeedsKey,
    #[error("{} already exists: give a new folder with --out", .0.display())]
    OutExists(std::path::PathBuf),
    #[error(
        "these records hold {mib} MiB; a bundle may hold at most {max_mib} MiB (leave out large attachments)"
    )]
    TooLarge { mib: u64, max_mib: u64 },
    #[error("none of the chosen contacts has an age or SSH key (contact add --age-recipient)")]
    NoSealingKeys,
    #[error("writing the bundle failed: {0}")]
    Io(#[from] std::io::Error),
    /// A file that could not be read (exit code 1, as any I/O error).
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        path: std::path::PathBuf,
        reason: std::io::Error,
    },
    #[error(
        "this key cannot open the bundle (it was sealed for other keys), or it is not an age file"
    )]
    NotForThisKey,
    #[error("the bundle is damaged or was altered: {0}")]
    Damaged(String),
    #[error(
        "the bundle was sealed by key {found}, not by {expected}: it is not from the journalist you named"
    )]
    WrongSealer { expected: String, found: String },
    #[error(
        "the bundle is not signed, so --from cannot be checked: it may be a forgery (or was sealed by a posbon older than the signature)"
    )]
    Unsigned,
    #[error(
        "the bundle was not sealed for your key ({key}): it is a copy someone re-encrypted, not what the journalist sent you"
    )]
    NotSealedForThisKey { key: String },
    #[error("the passphrase of the key {key} is wrong")]
    WrongKeyPassphrase { key: String },
}

/// Why a lawyer's key file cannot be used. Never carries the key's text: it is a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("too large to be a key file")]
    TooLarge,
    #[error("not an age identity file nor an OpenSSH private key")]
    NotAKey,
    #[error("line {0} is not an age identity (AGE-SECRET-KEY-1...)")]
    BadLine(usize),
    #[error("it holds no identity")]
    NoIdentity,
    #[error("a damaged encrypted identity file")]
    DamagedEncrypted,
    #[error("an age file that is not protected by a passphrase is not a key")]
    NotPassphraseProtected,
    #[error("an SSH key of a kind posbon cannot use (bundles are sealed for ssh-ed25519 keys)")]
    UnsupportedSsh,
    #[error("a damaged SSH private key")]
    DamagedSsh,
}
