//! What can go wrong with a vault, in words a journalist can act on.
//!
//! Variants never carry secret material: no passphrase, no plaintext, no key bytes. A record is
//! named only by its random id, which reveals nothing about its contents.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no vault at {0} (create one with `posbon init`)")]
    NotFound(PathBuf),

    #[error("a vault already exists at {0}")]
    AlreadyExists(PathBuf),

    #[error("wrong passphrase or recovery key (nothing was changed)")]
    WrongPassphrase,

    #[error("the vault at {0} is in use by another posbon process; wait for it to finish")]
    InUse(PathBuf),

    #[error(
        "the vault at {path} has format version {found}; this posbon reads up to version {supported}: upgrade posbon"
    )]
    NewerFormat {
        path: PathBuf,
        found: u16,
        supported: u16,
    },

    #[error("the vault is damaged: {0}")]
    Damaged(String),

    #[error("the backup is damaged or was tampered with: {0}")]
    DamagedBackup(String),

    #[error("record {id} is damaged or was tampered with: it does not authenticate")]
    TamperedRecord { id: String },

    #[error("attachment {name:?} of record {id} is damaged or was tampered with: {why}")]
    TamperedAttachment {
        id: String,
        name: String,
        why: &'static str,
    },

    #[error("no record with id {0}")]
    NoSuchRecord(String),

    #[error("id prefix {0} matches more than one record; give more characters")]
    AmbiguousId(String),

    #[error("record {id} has no attachment named {name:?}")]
    NoSuchAttachment { id: String, name: String },

    #[error("record {id} already has an attachment named {name:?}")]
    DuplicateAttachment { id: String, name: String },

    /// A request the vault refuses as asked (a passphrase already in use, a bad name...).
    #[error(transparent)]
    Refused(#[from] Refusal),

    /// Anything else the caller got wrong, for the rare cases no person should meet.
    #[error("{0}")]
    Invalid(String),

    #[error("this cannot be done in this session")]
    NotAllowedInThisMode,

    #[error("every key slot is in use; remove the duress passphrase or recovery key first")]
    NoFreeSlot,

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the vault's database failed: {0}")]
    Store(String),

    #[error(transparent)]
    DiskFull(#[from] crate::disk::DiskFull),
}

impl VaultError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        VaultError::Io {
            path: path.into(),
            source,
        }
    }

    /// True for the errors that mean stored data could not be trusted or read back.
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            VaultError::Damaged(_)
                | VaultError::DamagedBackup(_)
                | VaultError::TamperedRecord { .. }
                | VaultError::TamperedAttachment { .. }
        )
    }
}

/// What a person asked for that the vault will not do, as data: the faces say it in the
/// reader's language (`cli::said`, the app's `vault_error`); `Display` is the English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the vault's keys changed while this command ran (was `posbon panic` used?); nothing was changed"
    )]
    KeysChanged,
    #[error("that passphrase is already in use for this vault; choose another")]
    PassphraseInUse,
    #[error("the duress passphrase must differ from the real passphrase")]
    DuressSameAsReal,
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    #[error("the new passphrase is empty")]
    EmptyNewPassphrase,
    #[error("the duress passphrase is empty")]
    EmptyDuressPassphrase,
    #[error("{0:?} is not a record id (ids are hex, give at least 4 digits)")]
    NotARecordId(String),
    #[error("{0:?} cannot be an attachment name (no slashes, at most 255 bytes)")]
    BadAttachmentName(String),
    /// The backup (named) was encrypted to a key, and a passphrase was given.
    #[error("{0} was encrypted to a key, not a passphrase: give that key's file with -i")]
    BackupWantsKey(String),
    /// The backup (named) was encrypted with a passphrase, and a key file was given.
    #[error("{0} was encrypted with a passphrase, not to a key: leave out -i")]
    BackupWantsPassphrase(String),
    #[error("{}: not an age identity file ({why})", path.display())]
    NotAnIdentityFile { path: PathBuf, why: String },
    #[error(
        "the backup has format version {found}; this posbon reads up to {supported}: upgrade posbon"
    )]
    BackupNewer { found: u32, supported: u32 },
    #[error("{} is not empty; choose a new directory for the vault", .0.display())]
    DirNotEmpty(PathBuf),
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;
