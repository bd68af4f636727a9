//! What opening the vault has to tell the journalist (captures imported, the duress
//! passphrase used, key slots in danger), as data. The faces word it in the reader's
//! language (`cli::said`, the app's unlock); `Display` is the English for logs and the demo.

use std::fmt;

use crate::fsprotect::Filesystem;

/// One thing the journalist should be told after an unlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The key-slot file failed its checksum, yet the slot opened: rewriting it (a passphrase
    /// change) repairs it.
    SlotChecksum,
    /// A version 1 key-slot file could not be rewritten in the current format (why, in
    /// English); tried again at the next unlock.
    SlotUpgradeFailed(String),
    /// The key-slot tables (pools, retired slots) could not be updated (why, in English).
    SlotTablesFailed(String),
    /// The vault is on a filesystem that keeps old copies of rewritten files, and its key
    /// slots are not protected from that: `panic` cannot promise to destroy the keys.
    KeepsOldCopies(Filesystem),
    /// This many items captured without unlocking became records.
    CapturesImported(usize),
    /// A captured item could not be imported and stays in the inbox.
    CaptureKept { file: String, why: String },
    /// The inbox could not be read at all; everything in it stays there.
    InboxFailed(String),
    /// The duress passphrase opened this vault at this time (Unix ms): an event that an
    /// earlier version left in the inbox. Newer duress unlocks leave nothing in the vault (it
    /// would be a tell); the watchers tell the journalist of them (`status`, the history).
    DuressUsed { at_ms: i64 },
}

impl Notice {
    /// A UTC time, `2026-12-01 06:00 UTC`, for the English text.
    fn utc(at_ms: i64) -> String {
        jiff::Timestamp::from_millisecond(at_ms)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::SlotChecksum => f.write_str(
                "the key-slot file failed its checksum but your slot opened; run `posbon passwd` to rewrite it",
            ),
            Notice::SlotUpgradeFailed(why) => write!(
                f,
                "the key-slot file could not be rewritten in the current format ({why}); posbon will try again at the next unlock"
            ),
            Notice::SlotTablesFailed(why) => {
                write!(f, "the vault's key-slot tables could not be updated: {why}")
            }
            Notice::KeepsOldCopies(filesystem) => {
                let btrfs_way = if *filesystem == Filesystem::Btrfs {
                    ", or on btrfs into a new directory made with `chattr +C` before the vault is created"
                } else {
                    ""
                };
                write!(
                    f,
                    "WARNING: this vault is on {filesystem}, which keeps old copies of rewritten files, and its \
                     key slots are not protected from that: `posbon panic` cannot promise to destroy the keys. \
                     Make a new vault on a filesystem that overwrites in place (an ext4 partition or a LUKS \
                     volume){btrfs_way}; see \"Where to keep the vault\" in the journalist guide"
                )
            }
            Notice::CapturesImported(count) => {
                write!(f, "imported {count} captured item(s) into the vault")
            }
            Notice::CaptureKept { file, why } => write!(
                f,
                "a captured item ({file}) could not be imported and was kept: {why}"
            ),
            Notice::InboxFailed(why) => write!(
                f,
                "captured items could not be imported and stay in the inbox: {why}"
            ),
            Notice::DuressUsed { at_ms } => write!(
                f,
                "WARNING: the duress passphrase was used to open this vault at {}",
                Notice::utc(*at_ms)
            ),
        }
    }
}
