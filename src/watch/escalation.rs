//! One round of the escalation loop, apart from the runtime: take the operator's
//! confirmation of the clock if there is one, judge the wall clock against the monotonic one,
//! fire what is due on the guarded time, and tell the operator what a clock jump holds back.
//!
//! The policy (see `watch::clock` for the arithmetic):
//! - A forward jump fires nothing by itself. Steps that fall due only because of it are
//!   *held*: they fire when real elapsed time since the trusted reading reaches them, or at
//!   once when the operator confirms the new time (`touch DATA/accept-clock`). Held is never
//!   dropped: a jump that was a genuine correction costs lateness (no worse than the clock
//!   that was wrong before it), never a missed alert; a forged one releases nothing early.
//! - A backward jump delays nothing: the guarded time keeps running with the monotonic clock.
//! - Either way the operator is told, in the log (a warning naming the size of the jump and
//!   each held step by subject id, action and due time) and in `DATA/clock.json`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tracing::{error, info, warn};

use super::clock::{ACCEPT_FILE, Agreement, Judged};
use super::service::Watcher;
use super::store::StoreError;
use crate::plan::Action;

/// The operator's view of the clock, rewritten by the daemon in `DATA/clock.json`.
pub const REPORT_FILE: &str = "clock.json";

/// The report is rewritten when something in it changes, and at least this often.
const REPORT_EVERY_MS: i64 = 60_000;
/// While the clocks disagree, the warning is repeated this often.
const WARN_EVERY_MS: i64 = 3_600_000;

/// A step that the wall clock says is due and the guarded time does not yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldStep {
    /// The subject's random id (never its name: logs and reports name nobody).
    pub subject: String,
    pub action: Action,
    pub due_ms: i64,
}

/// What `DATA/clock.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReport {
    /// The guarded time of the round that wrote it.
    pub now_ms: i64,
    pub wall_ms: i64,
    /// Wall clock minus trusted time: positive after a forward jump.
    pub skew_ms: i64,
    pub agreement: Agreement,
    /// Steps held by a forward jump, earliest first.
    pub held: Vec<HeldStep>,
}

/// What one round found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub judged: Judged,
    /// The earliest moment (guarded time) something falls due.
    pub next_wake_ms: Option<i64>,
    pub held: Vec<HeldStep>,
}

/// The loop's memory between rounds: what it last told the operator.
pub struct Escalation {
    /// The data directory (confirmation file, report); `None` in tests that need neither.
    data: Option<PathBuf>,
    told: Option<(Agreement, Vec<HeldStep>)>,
    told_at_ms: i64,
    reported: Option<(Agreement, Vec<HeldStep>)>,
    reported_at_ms: i64,
}

impl Escalation {
    pub fn new(data: Option<PathBuf>) -> Self {
        Escalation {
            data,
            told: None,
            told_at_ms: i64::MIN,
            reported: None,
            reported_at_ms: i64::MIN,
        }
    }

    /// One round. Blocking (the store, a file or two): the daemon runs it off the runtime.
    pub fn round(&mut self, watcher: &Watcher) -> Result<Round, StoreError> {
        self.take_confirmation(watcher);
        let judged = watcher.clock().judge();
        let next_wake_ms = watcher.tick(judged.now_ms)?;
        let held = if judged.agreement == Agreement::Ahead {
            watcher
                .held_steps(judged.now_ms, judged.wall_ms)?
                .into_iter()
                .map(|(subject, action, due_ms)| HeldStep {
                    subject,
                    action,
                    due_ms,
                })
                .collect()
        } else {
            Vec::new()
        };
        self.tell(&judged, &held);
        self.report(&judged, &held);
        Ok(Round {
            judged,
            next_wake_ms,
            held,
        })
    }

    /// `DATA/accept-clock` (from the operator): the wall clock is right; trust it from now.
    fn take_confirmation(&mut self, watcher: &Watcher) {
        let Some(data) = &self.data else {
            return;
        };
        let file = data.join(ACCEPT_FILE);
        if !file.exists() {
            return;
        }
        let before = watcher.clock().judge();
        match watcher.clock().accept() {
            Ok(_) => info!(
                skew_s = before.skew_ms / 1_000,
                "the operator confirmed the wall clock; it is trusted from now, and steps it \
                 held fall due at once"
            ),
            // Accepted for this run all the same; a restart would judge against the old one.
            Err(e) => error!(error = %e, "the confirmed clock could not be saved"),
        }
        if let Err(e) = std::fs::remove_file(&file) {
            error!(error = %e, "{ACCEPT_FILE} could not be removed");
        }
    }

    /// Logs a change of the clocks' agreement or of the held steps, and repeats a warning
    /// now and then while they disagree, so an operator reading the log later finds it.
    fn tell(&mut self, judged: &Judged, held: &[HeldStep]) {
        let now = (judged.agreement, held.to_vec());
        let changed = self.told.as_ref() != Some(&now);
        let due_again = judged.agreement != Agreement::Agree
            && judged.now_ms.saturating_sub(self.told_at_ms) >= WARN_EVERY_MS;
        if !changed && !due_again {
            return;
        }
        let skew_s = judged.skew_ms / 1_000;
        match judged.agreement {
            Agreement::Ahead => {
                warn!(
                    skew_s,
                    held = held.len(),
                    "CLOCK JUMP: the wall clock is {skew_s} s ahead of the real time elapsed \
                     since it was last trusted; nothing fires because of the jump: {} step(s) \
                     it made due are held until real time reaches them. If the new time is \
                     right, confirm it: touch {ACCEPT_FILE} in the data directory",
                    held.len()
                );
                for step in held {
                    warn!(
                        subject = %step.subject,
                        action = %step.action.label(),
                        due_ms = step.due_ms,
                        "step held by the clock jump"
                    );
                }
            }
            Agreement::Behind => warn!(
                skew_s,
                "CLOCK JUMP: the wall clock is {} s behind the real time elapsed since it was \
                 last trusted; deadlines keep to real time and are not delayed. If the new \
                 time is right, confirm it: touch {ACCEPT_FILE} in the data directory",
                -skew_s
            ),
            Agreement::Agree if self.told.is_some() => {
                info!(skew_s, "the wall clock agrees with real elapsed time")
            }
            Agreement::Agree => {}
        }
        self.told = Some(now);
        self.told_at_ms = judged.now_ms;
    }

    fn report(&mut self, judged: &Judged, held: &[HeldStep]) {
        let Some(data) = &self.data else {
            return;
        };
        let now = (judged.agreement, held.to_vec());
        if self.reported.as_ref() == Some(&now)
            && judged.now_ms.saturating_sub(self.reported_at_ms) < REPORT_EVERY_MS
        {
            return;
        }
        let report = ClockReport {
            now_ms: judged.now_ms,
            wall_ms: judged.wall_ms,
            skew_ms: judged.skew_ms,
            agreement: judged.agreement,
            held: held.to_vec(),
        };
        let bytes = serde_json::to_vec_pretty(&report).unwrap_or_default();
        match super::clock::write_private(&data.join(REPORT_FILE), &bytes) {
            Ok(()) => {
                self.reported = Some(now);
                self.reported_at_ms = judged.now_ms;
            }
            Err(e) => error!(error = %e, "{REPORT_FILE} could not be written"),
        }
    }
}

/// What the operator should read first, from a running watcher's `DATA/clock.json`, when
/// its clock disagrees with real elapsed time; `None` when it agrees (or there is no report).
pub fn clock_warning(data: &std::path::Path) -> Option<String> {
    let report: ClockReport =
        serde_json::from_slice(&std::fs::read(data.join(REPORT_FILE)).ok()?).ok()?;
    let skew_s = report.skew_ms / 1_000;
    match report.agreement {
        Agreement::Agree => None,
        Agreement::Ahead => Some(format!(
            "CLOCK JUMP: the wall clock is {skew_s} s ahead of real elapsed time; {} step(s) \
             held (see {REPORT_FILE}); if the new time is right: touch {}",
            report.held.len(),
            data.join(ACCEPT_FILE).display()
        )),
        Agreement::Behind => Some(format!(
            "CLOCK JUMP: the wall clock is {} s behind real elapsed time; deadlines keep to real \
             time; if the new time is right: touch {}",
            -skew_s,
            data.join(ACCEPT_FILE).display()
        )),
    }
}

#[cfg(test)]
mod tests;
