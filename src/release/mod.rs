//! Sealed release: material the journalist chooses in advance for their lawyers, sealed on
//! the laptop to the lawyers' own keys, held by every watcher (which cannot read it), and
//! delivered at the plan's release step.
//!
//! - `bundle`: the bundle format (an `age` file holding a tar archive with a manifest),
//!   sealing from vault records, and opening with a lawyer's key.
//!
//! The watcher's side (storing bundles, download links, delivery) lives in `watch`.

pub mod bundle;
