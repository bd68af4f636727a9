//! posbon (Tajik *посбон*, "watchman"): an encrypted vault and a dead-man's switch for
//! journalists at risk of arrest.
//!
//! # Layout
//!
//! Three parts (see `docs/architecture.md`): the journalist's side (the vault and the
//! switch), the watcher's server, and the lawyer's side (verifying alerts, opening bundles).
//! Every arrow points down the list of layers below; no module imports one above it, and
//! no two top-level modules import each other.
//!
//! **Faces** (print, prompt, exit codes; no logic of their own)
//! - `cli` (in the binary's library half): arguments into library calls, errors into
//!   messages and exit codes. `src/main.rs` only calls [`cli::main`].
//! - [`app`]: `posbon app`, the same library calls as a local web app on loopback, behind a
//!   one-time link, in Tajik, Russian and English, for those who never open a terminal.
//!
//! **The journalist's side and the watcher's server**
//! - [`switch`]: the journalist's side of the dead-man's switch as a library: enrolment,
//!   device and sealing keys, fan-out to every watcher, plan, pause, check-in, status,
//!   contacts, sealed bundles, the silent alarm at unlock, the one phone link for every
//!   watcher; the HTTP client.
//! - [`watch`]: the watcher's server: config, store, service, HTTP routes, daemon, the
//!   escalation loop, the outbox and the alert channels, phones, metrics.
//!
//! **What both sides share**
//! - [`protocol`]: the signed requests and responses, and the contact list they carry.
//! - [`plan`]: what a plan says, and the pure schedule state machine over (plan, state, now).
//! - [`alert`]: the signed, localised alert that contacts receive and lawyers verify.
//! - [`release`]: sealed bundles for lawyers (an `age` file holding a signed tar archive),
//!   made from vault records, fetched from a link, and opened with the lawyer's own key.
//! - [`lang`]: the three languages (Tajik, Russian, English) and text hygiene.
//! - [`route`]: how a client reaches a watcher: straight, or only ever through a SOCKS5
//!   proxy such as Tor (the journalist's requests, the lawyer's downloads).
//!
//! **The vault**
//! - [`vault`]: the local encrypted store on the journalist's laptop.
//!   - `vault::keyslots`: the vault key wrapped by fixed, equal-looking slots (passphrase,
//!     recovery key, duress passphrase); overwritten in place so `panic` is a crypto-erase.
//!   - `vault::record`: records (sources, drafts, case notes) and their sealed form;
//!     `vault::contents`: adding, reading, editing and deleting them and their attachments.
//!   - `vault::views`: the real view and its decoys, made and linked in one uniform shape.
//!   - `vault::slots` / `vault::meta`: slot changes that are safe to interrupt; sealed
//!     per-view metadata and settings.
//!   - `vault::store`: every SQLite call, committed before a write is reported done.
//!   - `vault::keyring`: one key per stored value, in cells overwritten in place, so that a
//!     deleted value can no longer be decrypted by anyone.
//!   - `vault::migrate`: moves a posbon 0.1 (sled) vault into the store at its first unlock.
//!   - `vault::blob`: attachments streamed in 64 KiB AES-256-GCM STREAM chunks.
//!   - `vault::capture`: write-only adds (and duress events) sealed with `age` to the vault.
//!   - `vault::backup`: whole-vault backups as `age` files.
//!
//! **Base**
//! - [`crypto`]: the shared primitives over `ring`: OS randomness, one AEAD seal/open, HKDF,
//!   Padmé length padding, the text forms of keys. No file formats.
//! - [`secret`]: the one home of secret-holding types (passphrases, keys, plaintext buffers):
//!   zeroized on drop, redacted in `Debug`, locked in RAM; and process hardening (no core
//!   dumps).
//! - [`disk`]: free-space checks before the databases are opened or written; large files
//!   sent to the disk while they are made.
//! - [`fsprotect`]: copy-on-write detection and `chattr +C`, shredding, and constant file times.

pub mod alert;
pub mod app;
pub mod cli;
pub mod crypto;
pub mod disk;
pub mod fsprotect;
pub mod lang;
pub mod plan;
pub mod protocol;
pub mod release;
pub mod route;
pub mod secret;
pub mod switch;
pub mod vault;
pub mod watch;
