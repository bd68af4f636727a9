//! Alerts: what the watcher sends to a journalist's contacts, and what a lawyer checks.
//!
//! - `message`: the signed alert itself: its text form (what people read, and what is signed),
//!   its JSON form (webhooks), and verification of either, or of an e-mail as received.
//! - `text`: the words in Tajik, Russian and English, a Fluent catalogue (`ftl/*.ftl`,
//!   editable by translators) built by `lang::catalogue`, and their rendering.
//! - `compose`: which sentences make up each kind of alert, from the facts of a missed
//!   deadline. Pure: no clock, no I/O.
//!
//! Delivery (the outbox and the channels) belongs to the watcher: see `watch::outbox` and
//! `watch::channels`.

pub mod compose;
pub mod message;
pub mod text;
