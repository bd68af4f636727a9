//! The outbox's records and policy: one delivery per (alert, contact, channel), written before
//! any attempt and kept, with every attempt's outcome, until the channel accepts it or an
//! operator gives up on it. Pure: the store persists these, `channels` carries them out, and
//! the retry schedule is computed here from the attempt count and a random draw.

use serde::{Deserialize, Serialize};

use crate::alert::message::SignedAlert;
use crate::protocol::contacts::Channel;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum DeliveryState {
    Pending,
    Delivered {
        at_ms: i64,
    },
    /// An operator gave up on it (`posbon watch outbox --give-up`).
    GivenUp {
        at_ms: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at_ms: i64,
    /// Why it failed; `None` when the channel accepted it.
    pub error: Option<String>,
    /// The service refused it for a reason a retry alone will not change (a contact who
    /// never started the bot, a room the account may not post in): someone must act.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

/// Why an attempt failed, as the channel tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The service's own words where it gave any (never a secret), else what went wrong.
    pub reason: String,
    /// The service asked not to be tried again before this long (`retry_after`,
    /// `retry_after_ms`, `Retry-After`).
    pub retry_after_ms: Option<i64>,
    /// Refused for good until someone acts (see [`Attempt::refused`]).
    pub refused: bool,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// A service's wait is honoured up to this; a longer one (a hostile ntfy server, a
/// mistake) must not silence a channel for days.
pub const MAX_HINT_MS: i64 = 60 * 60_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `ALERT-ID.N`: unique, and the same on every retry (an idempotency key for receivers).
    pub key: String,
    pub alert_id: String,
    pub subject: String,
    pub contact: String,
    pub channel: Channel,
    pub title: String,
    pub alert: SignedAlert,
    /// The acknowledgement link, for channels that show it apart from the text.
    #[serde(default)]
    pub ack_url: Option<String>,
    /// Bundles released with this alert (linked everywhere; attached to e-mails only for
    /// contacts who asked for it).
    #[serde(default)]
    pub bundles: Vec<BundleRef>,
    pub created_ms: i64,
    pub state: DeliveryState,
    /// Attempts so far (the history keeps only the last few).
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub history: Vec<Attempt>,
}

/// A released bundle, as a delivery carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRef {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// The download link. Stored with a placeholder where the token goes: the token is
    /// derived when the delivery is sent (see `dispatch::Dispatcher::finalise`).
    pub url: String,
    /// The journalist's version of the bundle, as the alert states it.
    #[serde(default)]
    pub version: u64,
    /// Attach the file to an e-mail (the contact opted in; the link alone otherwise).
    #[serde(default)]
    pub attach: bool,
}

/// How many attempts the history keeps; the count keeps counting.
const HISTORY: usize = 20;

/// When to try again after failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub first_ms: i64,
    pub max_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_ms: 2_000,
            max_ms: 15 * 60_000,
        }
    }
}

impl RetryPolicy {
    /// The wait after `attempts` failed attempts: doubling from `first_ms` up to `max_ms`,
    /// then spread by a random factor in [0.75, 1.25) (`unit` in [0, 1)), so that many
    /// alerts failing together do not all come back at the same moment.
    pub fn delay_ms(&self, attempts: u32, unit: f64) -> i64 {
        let doublings = attempts.saturating_sub(1).min(30);
        let base = self
            .first_ms
            .saturating_mul(1i64 << doublings)
            .min(self.max_ms);
        let factor = 0.75 + 0.5 * unit.clamp(0.0, 1.0);
        ((base as f64) * factor) as i64
    }
}

impl Delivery {
    /// Records an attempt's outcome and schedules the next one if it failed: never sooner
    /// than the service asked (up to [`MAX_HINT_MS`]), since trying earlier only earns
    /// another refusal, and Telegram lengthens the ban of a bot that keeps trying. A refusal
    /// for good is still tried again, at the longest interval: the contact may yet start
    /// the bot or join the room, and an alert is never dropped.
    pub fn record(
        &mut self,
        at_ms: i64,
        failure: Option<Failure>,
        policy: &RetryPolicy,
        unit: f64,
    ) {
        self.attempts += 1;
        let refused = failure.as_ref().is_some_and(|f| f.refused);
        match &failure {
            None => self.state = DeliveryState::Delivered { at_ms },
            Some(failure) => {
                let backoff = if failure.refused {
                    policy.delay_ms(u32::MAX, unit)
                } else {
                    policy.delay_ms(self.attempts, unit)
                };
                let hint = failure.retry_after_ms.unwrap_or(0).clamp(0, MAX_HINT_MS);
                self.next_attempt_ms = at_ms + backoff.max(hint);
            }
        }
        self.history.push(Attempt {
            at_ms,
            error: failure.map(|f| f.reason),
            refused,
        });
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
    }

    pub fn is_pending(&self) -> bool {
        self.state == DeliveryState::Pending
    }

    /// The last failure, if the last attempt failed.
    pub fn last_error(&self) -> Option<&str> {
        self.history.last().and_then(|a| a.error.as_deref())
    }

    /// Whether the last attempt was refused for good (someone must act).
    pub fn is_refused(&self) -> bool {
        self.is_pending() && self.history.last().is_some_and(|a| a.refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_with_jitter_up_to_a_ceiling() {
        let policy = RetryPolicy {
            first_ms: 1_000,
            max_ms: 60_000,
        };
        assert_eq!(policy.delay_ms(1, 0.5), 1_000);
        assert_eq!(policy.delay_ms(2, 0.5), 2_000);
        assert_eq!(policy.delay_ms(5, 0.5), 16_000);
        assert_eq!(policy.delay_ms(40, 0.5), 60_000);
        assert_eq!(policy.delay_ms(3, 0.0), 3_000);
        assert_eq!(policy.delay_ms(3, 0.999_999), 4_999);
    }

    fn sample() -> Delivery {
        Delivery {
            key: "a.0".into(),
            alert_id: "a".into(),
            subject: "s".into(),
            contact: "c".into(),
            channel: Channel::Email("c@example.org".into()),
            title: "t".into(),
            alert: SignedAlert {
                text: String::new(),
                signature: String::new(),
            },
            ack_url: None,
            bundles: vec![],
            created_ms: 0,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_ms: 0,
            history: vec![],
        }
    }

    #[test]
    fn a_failure_keeps_it_pending_and_a_success_ends_it() {
        let mut delivery = sample();
        let policy = RetryPolicy::default();
        let failed = |reason: &str| Failure {
            reason: reason.into(),
            retry_after_ms: None,
            refused: false,
        };
        for n in 0..30 {
            delivery.record(n * 1_000, Some(failed("refused")), &policy, 0.5);
            assert!(delivery.is_pending());
            assert!(delivery.next_attempt_ms > n * 1_000);
        }
        assert_eq!(delivery.history.len(), HISTORY);
        assert_eq!(delivery.last_error(), Some("refused"));
        delivery.record(99_000, None, &policy, 0.5);
        assert_eq!(delivery.state, DeliveryState::Delivered { at_ms: 99_000 });
        assert_eq!(delivery.attempts, 31);
    }

    #[test]
    fn a_services_wait_is_honoured_and_a_refusal_waits_longest_but_is_never_dropped() {
        let policy = RetryPolicy {
            first_ms: 1_000,
            max_ms: 60_000,
        };
        let mut delivery = sample();
        // Telegram: "retry after 30": not before 30 s, though the back-off says 1 s.
        delivery.record(
            0,
            Some(Failure {
                reason: "Too Many Requests: retry after 30".into(),
                retry_after_ms: Some(30_000),
                refused: false,
            }),
            &policy,
            0.5,
        );
        assert_eq!(delivery.next_attempt_ms, 30_000);
        assert!(!delivery.is_refused());
        // A hint of a week is capped.
        delivery.record(
            0,
            Some(Failure {
                reason: "wait".into(),
                retry_after_ms: Some(7 * 86_400_000),
                refused: false,
            }),
            &policy,
            0.5,
        );
        assert_eq!(delivery.next_attempt_ms, MAX_HINT_MS);
        // A refusal for good: pending, marked, tried again at the longest interval.
        delivery.record(
            0,
            Some(Failure {
                reason: "Forbidden: bot can't initiate conversation with a user".into(),
                retry_after_ms: None,
                refused: true,
            }),
            &policy,
            0.5,
        );
        assert!(delivery.is_pending() && delivery.is_refused());
        assert_eq!(delivery.next_attempt_ms, 60_000);
        delivery.record(70_000, None, &policy, 0.5);
        assert!(!delivery.is_refused());
    }
}
