//! The journalist's side of the dead-man's switch.
//!
//! - `client`: one signed request to one watcher over HTTP; `route`: how it reaches the
//!   watchers (straight, or only through a SOCKS5 proxy such as Tor).
//! - `gaps`: what a plan and its contacts leave uncovered (pure; shown as warnings).

pub mod client;
pub mod gaps;
pub mod route;
