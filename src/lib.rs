//! posbon (Tajik *посбон*, "watchman"): an encrypted vault and a dead-man's switch for
//! journalists at risk of arrest.
//!
//! # Layout
//!
//! - [`secret`]: the one home of secret-holding types (passphrases, keys, plaintext buffers):
//!   zeroized on drop, redacted in `Debug`, locked in RAM; and process hardening (no core dumps).
//! - [`crypto`]: the shared primitives over `ring`: OS randomness, one AEAD seal/open, HKDF,
//!   Padmé length padding. No file formats.
//! - [`disk`]: free-space checks before the databases are opened or written; large files
//!   sent to the disk while they are made.
//! - [`fsprotect`]: copy-on-write detection and `chattr +C`, shredding, and constant file times.
//! - [`vault`]: the local encrypted store on the journalist's laptop.
//!   - `vault::keyslots`: the vault key wrapped by fixed, equal-looking slots (passphrase,
//!     recovery key, duress passphrase); overwritten in place so `panic` is a crypto-erase.
//!   - `vault::record`: records (sources, drafts, case notes) and their sealed form.
//!   - `vault::slots` / `vault::meta`: slot changes that are safe to interrupt; sealed
//!     per-view metadata and settings.
//!   - `vault::store`: every SQLite call, committed before a write is reported done.
//!   - `vault::keyring`: one key per stored value, in cells overwritten in place, so that a
//!     deleted value can no longer be decrypted by anyone.
//!   - `vault::migrate`: moves a posbon 0.1 (sled) vault into the store at its first unlock.
//!   - `vault::blob`: attachments streamed in 64 KiB AES-256-GCM STREAM chunks.
//!   - `vault::capture`: write-only adds (and duress events) sealed with `age` to the vault.
//!   - `vault::backup`: whole-vault backups as `age` files.
//! - [`watch`]: the dead-man's switch on a server: plans, the pure schedule state machine,
//!   the signed protocol, the watcher's store, service, HTTP routes and daemon, and the
//!   journalist's client with its route (straight, or only through a SOCKS5 proxy: Tor).
//! - `cli` (in the binary's library half): turns arguments into library calls, and errors into
//!   messages and exit codes. `src/main.rs` only calls [`cli::main`].
//!
//! - [`alert`]: the signed, localised alert that contacts receive and lawyers verify, and its
//!   templates in Tajik, Russian and English.
//!
//! - [`release`]: sealed release bundles for lawyers (an `age` file holding a tar archive),
//!   made from vault records and opened with the lawyer's own key or the standard `age` tool.

pub mod alert;
pub mod cli;
pub mod crypto;
pub mod disk;
pub mod fsprotect;
pub mod lang;
pub mod plan;
pub mod protocol;
pub mod release;
pub mod secret;
pub mod switch;
pub mod vault;
pub mod watch;
