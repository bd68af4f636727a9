//! The watcher's server: a daemon away from the journalist that expects check-ins and
//! escalates when one is missed. What it shares with the journalist's side lives in
//! [`crate::plan`] (plans, the schedule) and [`crate::protocol`] (the signed requests, the
//! contacts); the journalist's side is [`crate::switch`].
//!
//! - `clock`: the time the watcher acts on, guarded against jumps of the wall clock.
//! - `store`: the watcher's SQLite database (subjects, queued actions, outbox) and the one-time
//!   import of a posbon 0.1 (sled) store; invites; its key.
//! - `service`: verifying and carrying out requests and ticks, without HTTP.
//! - `http`: the axum routes; `daemon`: runtime, escalation loop, shutdown.
//! - `escalation`: one round of the escalation loop (the clock checked, due steps fired,
//!   steps held by a clock jump reported to the operator).
//! - `listener`: accepting connections under caps and deadlines, so slow or idle clients
//!   cannot crowd out check-ins.
//! - `proxy`: the client's address behind a reverse proxy the operator trusts.
//! - `pretend`: the pretend world that duress requests set up, and what follows it (the
//!   decoy's status, the phone's answers, the journalist's reminders).
//! - `phone`: PIN and duress-PIN check-ins from a phone, and their back-off policy;
//!   `phone_page`: the page a phone checks in from, with its words from `ftl/`.
//! - `dispatch`: turning fired steps into signed alerts for each contact, in the outbox.
//! - `outbox`: delivery records and the retry policy; `channels`: sending one delivery over
//!   SMTP, Telegram, Signal, ntfy, Matrix or a webhook.
//! - `metrics`: Prometheus metrics for the operator (counts only: they name nobody).
//!
//! The watcher never imports the vault's key code: it stores only public keys and what the
//! journalist chose to tell it.

pub mod channels;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod dispatch;
pub mod escalation;
pub mod http;
pub mod listener;
pub mod metrics;
pub mod outbox;
pub mod phone;
pub mod phone_page;
pub mod pretend;
pub mod proxy;
pub mod service;
pub mod store;
