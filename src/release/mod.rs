//! Sealed release: material the journalist chooses in advance for their lawyers, sealed on
//! the laptop to the lawyers' own keys, held by every watcher (which cannot read it), and
//! delivered at the plan's release step.
//!
//! - `bundle`: the bundle format (an `age` file holding a signed tar archive with a
//!   manifest) and sealing it from vault records;
//! - `keys`: the lawyer's key (age or SSH, with or without a passphrase);
//! - `open`: opening a bundle safely, checking everything before writing anything;
//! - `fetch`: downloading a released bundle through the link an alert gives;
//! - `text`: the bundle's words for people (`MANIFEST.txt`, `record.txt`), in three languages;
//! - `error`: the error they share; `names`: which characters a shown name may hold.
//!
//! The watcher's side (storing bundles, download links, delivery) lives in `watch`.

pub mod bundle;
pub mod error;
pub mod fetch;
pub mod keys;
pub mod names;
pub mod open;
pub mod text;
