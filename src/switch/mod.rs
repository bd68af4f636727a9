//! The journalist's side of the dead-man's switch, as a library: everything a face (the
//! command line, the local app) does with the watchers, over the open vault. No printing, no
//! prompts, no exit codes: answers come back as data (each watcher's as it arrives, through a
//! callback), failures as [`SwitchError`].
//!
//! - `watchers`: enrolment and unenrolment, the links kept in the vault, the decoy's copy,
//!   and the fan-out of one request to every watcher at once.
//! - `requests`: check in, status, plan, pause, resume, end a pretend world, phones.
//! - `phones`: the one link (and a spare) that sets a phone up with every watcher.
//! - `contacts`: the contacts and instructions, kept and sent; test alerts.
//! - `releases`: sealing bundles for the lawyers, uploading, checking and withdrawing them.
//! - `alarm`: the signed notice sent to every watcher at each unlock (the silent alarm).
//! - `keys`: the device keys that sign requests and the sealing key that signs bundles.
//! - `settings`: what is kept in the vault, the route (a proxy such as Tor) and time zone.
//! - `client`: one signed request to one watcher over HTTP, over a [`crate::route`].
//! - `gaps`: what a plan and its contacts leave uncovered (pure; shown as warnings).
//! - `timeline`: the watchers' history in the journalist's words (Fluent, shared by faces).
//! - `error`: [`SwitchError`], what can go wrong, as types.

pub mod alarm;
pub mod client;
pub mod contacts;
pub mod error;
pub mod gaps;
pub mod keys;
pub mod phones;
pub mod releases;
pub mod requests;
pub mod settings;
pub mod timeline;
pub mod watchers;

pub use error::{ReleaseRefusal, RemovalLeft, SwitchError};
