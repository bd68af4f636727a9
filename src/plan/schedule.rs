//! The dead-man's switch as a pure state machine: (plan, state, now) → deadline, due steps,
//! next wake-up. No clock, no I/O: the daemon feeds it time and carries out what it returns,
//! and the tests drive it with a fake clock.
//!
//! A *cycle* starts at each check-in (or when a plan is set, or a pause ends). Its deadline
//! comes from the schedule; reminders fall before it; the ladder's steps fall after the
//! deadline plus grace. A step fires at most once per cycle. Whatever fell due while nobody
//! was looking (the daemon was down) is due at once: a late alert is better than a missed one.
//! The machine believes the time it is given; the daemon gives it time guarded against jumps
//! of the wall clock (`watch::clock`), and [`State::held`] names what such a jump holds back.

use serde::{Deserialize, Serialize};

use super::{Action, Plan, Schedule, Window};

/// Identifies what fired within a cycle, so nothing fires twice even if the plan is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKey {
    /// A reminder this many milliseconds before the deadline.
    Reminder(i64),
    /// A step of the ladder.
    Step(Action),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    pub key: StepKey,
    pub due_ms: i64,
    pub fired_ms: i64,
}

/// A subject's schedule state: everything the machine needs besides the plan and the time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// When the current cycle started (check-in, plan set, resume), Unix ms.
    pub cycle_start_ms: i64,
    /// Counts cycles; with the subject it names a missed deadline, for alert ids.
    pub cycle: u64,
    pub last_checkin_ms: Option<i64>,
    pub paused_until_ms: Option<i64>,
    /// What fired in this cycle.
    pub fired: Vec<Fired>,
}

/// Something the daemon must carry out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Emitted {
    /// A ladder step (or a reminder, as `RemindJournalist`) fell due.
    Step {
        action: Action,
        cycle: u64,
        due_ms: i64,
        deadline_ms: i64,
    },
    /// The journalist is back after alerts went out: tell the tiers that were alerted.
    AllClear { tiers: Vec<u8>, cycle: u64 },
    /// A phone was enrolled: the journalist is told through their own channel (tier 0), so
    /// that a link used by someone else does not go unnoticed. Not from the schedule.
    PhoneEnrolled { device: String, at_ms: i64 },
    /// A check-in with the duress PIN or key: a silent alert, at once. `at_ms` is the moment
    /// the journalist's request names (the same on every watcher), for the alert's id.
    Duress {
        cycle: u64,
        #[serde(default)]
        at_ms: i64,
    },
    /// The journalist took back a false duress alarm (with the real key): tell the contacts
    /// the duress alerts `alerts` reached (`contacts`). Not from the schedule.
    Retraction {
        at_ms: i64,
        alerts: Vec<String>,
        contacts: Vec<String>,
    },
}

/// What the machine says about one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlook {
    /// The current cycle's deadline; `None` while paused or without a plan.
    pub deadline_ms: Option<i64>,
    /// Steps due now and not yet fired, in the order they fell due.
    pub due: Vec<(StepKey, Action, i64)>,
    /// The earliest future moment something falls due.
    pub next_wake_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the schedule cannot be computed: {0}")]
pub struct ScheduleError(pub String);

/// The deadline of a cycle that started at `start_ms`.
pub fn deadline_after(schedule: &Schedule, start_ms: i64) -> Result<i64, ScheduleError> {
    match schedule {
        Schedule::Every { every_ms } => start_ms
            .checked_add(*every_ms)
            .ok_or_else(|| ScheduleError("time overflow".into())),
        Schedule::Daily { windows, tz } => window_deadline(windows, tz, start_ms),
    }
}

/// The end of the first window to open after `start_ms`, on one of its days in local time (a
/// window across midnight belongs to the day it opens). Every window has a day, so a week
/// and a day always holds one.
fn window_deadline(windows: &[Window], tz: &str, start_ms: i64) -> Result<i64, ScheduleError> {
    let error = |e: jiff::Error| ScheduleError(e.to_string());
    let zone = jiff::tz::TimeZone::get(tz).map_err(error)?;
    let start = jiff::Timestamp::from_millisecond(start_ms).map_err(error)?;
    let at = |date: jiff::civil::Date, minutes: u16| -> Result<i64, ScheduleError> {
        // Fallible on purpose: a window out of range is an error, never a panic.
        let time = jiff::civil::Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0)
            .map_err(error)?;
        // In a DST gap jiff moves forward; in a fold it takes the earlier time.
        let zoned = date
            .to_datetime(time)
            .to_zoned_datetime(zone.clone())
            .map_err(error)?;
        Ok(zoned.timestamp().as_millisecond())
    };
    let mut date = start.to_zoned_datetime(zone.clone()).date();
    // (opens, closes) of the earliest opening found so far.
    let mut first: Option<(i64, i64)> = None;
    for _ in 0..9 {
        let found_before = first.is_some();
        for window in windows.iter().filter(|w| w.days.contains(date.weekday())) {
            let opens = at(date, window.start_min)?;
            // Compared as instants, not as times of day: a window opening in a skipped hour
            // moves forward, possibly past a later one (02:30 opens at 03:30, after 03:15).
            // On a tie the first window listed wins.
            if opens <= start_ms || first.is_some_and(|(earliest, _)| earliest <= opens) {
                continue;
            }
            // A window that crosses midnight closes on the next day.
            let closing_date = if window.end_min > window.start_min {
                date
            } else {
                date.tomorrow().map_err(error)?
            };
            // A window straddling a skipped hour can open (moved forward) after it nominally
            // closes: it then closes when it opens, never in the past.
            first = Some((opens, at(closing_date, window.end_min)?.max(opens)));
        }
        // The day after the first day with a window is looked at too: only a change of the
        // clocks at midnight can open one of its windows earlier.
        if found_before {
            break;
        }
        date = date.tomorrow().map_err(error)?;
    }
    first
        .map(|(_, closes)| closes)
        .ok_or_else(|| ScheduleError("no window in the next week".into()))
}

impl State {
    /// A fresh state for a plan set (or a subject enrolled) at `now_ms`.
    pub fn starting(now_ms: i64) -> Self {
        State {
            cycle_start_ms: now_ms,
            cycle: 1,
            ..State::default()
        }
    }

    fn has_fired(&self, key: StepKey) -> bool {
        self.fired.iter().any(|f| f.key == key)
    }

    /// Where the current cycle really begins: a pause pushes it to the pause's end.
    fn effective_start(&self) -> i64 {
        match self.paused_until_ms {
            Some(until) if until > self.cycle_start_ms => until,
            _ => self.cycle_start_ms,
        }
    }

    /// What is due at `now_ms`, and when to look again.
    pub fn outlook(&self, plan: &Plan, now_ms: i64) -> Result<Outlook, ScheduleError> {
        if let Some(until) = self.paused_until_ms
            && until > now_ms
        {
            return Ok(Outlook {
                deadline_ms: None,
                due: Vec::new(),
                next_wake_ms: Some(until),
            });
        }
        let deadline = deadline_after(&plan.schedule, self.effective_start())?;
        let missed = deadline.saturating_add(plan.grace_ms);
        let mut moments: Vec<(StepKey, Action, i64)> = plan
            .reminders_ms
            .iter()
            .map(|before| {
                (
                    StepKey::Reminder(*before),
                    Action::RemindJournalist,
                    deadline - before,
                )
            })
            .chain(plan.steps.iter().map(|s| {
                (
                    StepKey::Step(s.action),
                    s.action,
                    missed.saturating_add(s.after_ms),
                )
            }))
            .filter(|(key, _, _)| !self.has_fired(*key))
            .collect();
        moments.sort_by_key(|(_, _, at)| *at);
        let next_wake_ms = moments.iter().map(|m| m.2).find(|at| *at > now_ms);
        moments.retain(|(_, _, at)| *at <= now_ms);
        Ok(Outlook {
            deadline_ms: Some(deadline),
            due: moments,
            next_wake_ms,
        })
    }

    /// Steps due on the wall clock (`wall_ms`) but not yet at the time the watcher acts on
    /// (`now_ms`): held because the wall clock jumped forward (see `watch::clock`). They
    /// fire when `now_ms` reaches them, or at once when the operator accepts the new time.
    pub fn held(
        &self,
        plan: &Plan,
        now_ms: i64,
        wall_ms: i64,
    ) -> Result<Vec<(StepKey, Action, i64)>, ScheduleError> {
        if wall_ms <= now_ms {
            return Ok(Vec::new());
        }
        let mut held = self.outlook(plan, wall_ms)?.due;
        held.retain(|(_, _, due)| *due > now_ms);
        Ok(held)
    }

    /// Marks everything due at `now_ms` as fired and returns what to carry out. The caller
    /// must persist the new state together with the returned actions before acting on them.
    pub fn fire_due(&mut self, plan: &Plan, now_ms: i64) -> Result<Vec<Emitted>, ScheduleError> {
        let outlook = self.outlook(plan, now_ms)?;
        let deadline_ms = outlook.deadline_ms.unwrap_or(now_ms);
        let mut emitted = Vec::new();
        for (key, action, due_ms) in outlook.due {
            self.fired.push(Fired {
                key,
                due_ms,
                fired_ms: now_ms,
            });
            emitted.push(Emitted::Step {
                action,
                cycle: self.cycle,
                due_ms,
                deadline_ms,
            });
        }
        Ok(emitted)
    }

    /// The tiers alerted in this cycle.
    pub fn alerted_tiers(&self) -> Vec<u8> {
        let mut tiers: Vec<u8> = self
            .fired
            .iter()
            .filter_map(|f| match f.key {
                StepKey::Step(Action::AlertTier(n)) => Some(n),
                _ => None,
            })
            .collect();
        tiers.sort_unstable();
        tiers.dedup();
        tiers
    }

    /// Starts a new cycle at `now_ms`; returns an all-clear if alerts went out in the old one.
    fn restart(&mut self, now_ms: i64) -> Vec<Emitted> {
        let tiers = self.alerted_tiers();
        let mut emitted = Vec::new();
        if !tiers.is_empty() {
            emitted.push(Emitted::AllClear {
                tiers,
                cycle: self.cycle,
            });
        }
        self.cycle += 1;
        self.cycle_start_ms = now_ms;
        self.fired.clear();
        emitted
    }

    /// A check-in at `now_ms`. A duress check-in looks the same to the journalist's side and
    /// starts a new cycle like any other, but also raises a silent alert.
    pub fn check_in(&mut self, now_ms: i64, duress: bool) -> Vec<Emitted> {
        self.last_checkin_ms = Some(now_ms);
        self.paused_until_ms = None;
        let mut emitted = self.restart(now_ms);
        if duress {
            // A coerced check-in is no sign that all is well: the contacts alerted so far
            // must not be told the danger is over.
            emitted.retain(|e| !matches!(e, Emitted::AllClear { .. }));
            emitted.push(Emitted::Duress {
                cycle: self.cycle,
                at_ms: now_ms,
            });
        }
        emitted
    }

    /// "Offline until": no deadline until `until_ms`, then a new cycle from that moment.
    pub fn pause(&mut self, now_ms: i64, until_ms: i64) -> Vec<Emitted> {
        let emitted = self.restart(now_ms);
        self.paused_until_ms = Some(until_ms);
        emitted
    }

    /// Ends a pause now.
    pub fn resume(&mut self, now_ms: i64) -> Vec<Emitted> {
        self.paused_until_ms = None;
        self.restart(now_ms)
    }

    /// A new or edited plan. Steps already fired in this cycle stay fired.
    pub fn plan_changed(&mut self, now_ms: i64) {
        if self.cycle == 0 {
            *self = State::starting(now_ms);
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod calendar_tests;
