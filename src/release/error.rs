//! The one error of release, shared by sealing, reading a lawyer's key and opening: its
//! variants are what a journalist or a lawyer can act on, and the CLI maps each to an exit
//! code. It lives apart so the three can name it without naming each other.

use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Invalid(String),
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
