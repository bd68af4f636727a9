//! A subject's plan: when check-ins are expected, how long the grace is, and the escalation
//! ladder. Plain data with parsing and validation; no clock, no I/O.
//!
//! All times are Unix milliseconds and all durations milliseconds, so that tests can drive the
//! schedule with a fake clock and plans of a few seconds.
//!
//! - `schedule`: the pure state machine over (plan, state, now) -> next deadline and due steps.
//! - `days`: the days of the week a window applies on.
//! - `words`: why a plan is refused, in Tajik, Russian and English (`ftl/`).

pub mod days;
pub mod schedule;
pub mod words;

pub use days::Days;

use serde::{Deserialize, Serialize};

/// What a step of the ladder does when it falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Remind the journalist (before the deadline, or just after it is missed).
    RemindJournalist,
    /// Alert the contacts of a tier (1: editor; 2: lawyers, NANSMIT; more if the plan says so).
    AlertTier(u8),
    /// Release the sealed bundles to the lawyers.
    Release,
}

impl Action {
    pub fn label(self) -> String {
        match self {
            Action::RemindJournalist => "remind".into(),
            Action::AlertTier(n) => format!("tier{n}"),
            Action::Release => "release".into(),
        }
    }

    pub fn parse(text: &str) -> Result<Self, PlanError> {
        match text {
            "remind" => Ok(Action::RemindJournalist),
            "release" => Ok(Action::Release),
            other => other
                .strip_prefix("tier")
                .and_then(|n| n.parse::<u8>().ok())
                .filter(|n| (1..=9).contains(n))
                .map(Action::AlertTier)
                .ok_or_else(|| PlanError::NotAStep(other.to_string())),
        }
    }
}

/// One rung of the ladder: `action`, `after_ms` after the check-in was missed (deadline + grace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub action: Action,
    pub after_ms: i64,
}

/// A window in local time, minutes after midnight, on some days of the week; an end before
/// the start is on the next day (22:00-02:00 crosses midnight), and such a window belongs to
/// the day it starts on. Without `days` (plans from before weekday rules), every day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start_min: u16,
    pub end_min: u16,
    #[serde(default, skip_serializing_if = "Days::is_every_day")]
    pub days: Days,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Schedule {
    /// A check-in at least every `every_ms`.
    Every { every_ms: i64 },
    /// A check-in inside one of the windows, each on its days of the week, in the named
    /// time zone.
    Daily { windows: Vec<Window>, tz: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub schedule: Schedule,
    pub grace_ms: i64,
    /// Reminders to the journalist, this long before the deadline.
    #[serde(default)]
    pub reminders_ms: Vec<i64>,
    pub steps: Vec<Step>,
    /// Release the sealed bundles at once on a duress check-in, not only at the release step.
    #[serde(default)]
    pub release_on_duress: bool,
}

/// Why a plan is refused: what was typed, not sentences; [`words::said`] says it in the
/// reader's language, `Display` in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// A step's action that is none of remind, tier1..tier9, release.
    NotAStep(String),
    /// A step not written as ACTION:DELAY.
    NotActionDelay(String),
    NotADuration(String),
    NotAWindow(String),
    WindowEndsWhenItStarts(String),
    NotADay(String),
    UnknownZone(String),
    /// Daily windows without a time zone.
    WindowsNeedZone,
    /// Both an interval and daily windows, or neither.
    EveryOrWindows,
    IntervalTooShort,
    NoWindow,
    /// A window (as it came over the wire) that ends when it starts, or past 24:00.
    WindowSameTime,
    WindowNoDays,
    /// A negative grace, or a reminder that is not before the deadline.
    NotPositive,
    NoSteps,
    StepBeforeMiss,
    StepTwice(Action),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&words::said(crate::lang::Lang::En, self))
    }
}

impl std::error::Error for PlanError {}

/// A plan as people write it, on the command line or in the watcher's TOML config (as text):
/// `every = "1d"` or `window = ["09:00-11:00"]` (or with days, `["mon-fri/09:00-11:00",
/// "sat/12:00-14:00"]`) with `tz`, `grace = "2h"`,
/// `remind_before = ["30m"]`, `steps = ["remind:0s", "tier1:2h", "tier2:4h", "release:6h"]`.
#[derive(Debug, Clone, Default)]
pub struct PlanSpec {
    pub every: Option<String>,
    pub window: Vec<String>,
    pub tz: Option<String>,
    pub grace: String,
    pub remind_before: Vec<String>,
    pub steps: Vec<String>,
    pub release_on_duress: bool,
}

impl PlanSpec {
    /// Parses and validates; steps default to [`Plan::default_steps`].
    pub fn build(&self) -> Result<Plan, PlanError> {
        let grace_ms = parse_duration(&self.grace)?;
        let schedule = match (&self.every, self.window.is_empty()) {
            (Some(every), true) => Schedule::Every {
                every_ms: parse_duration(every)?,
            },
            (None, false) => Schedule::Daily {
                windows: self
                    .window
                    .iter()
                    .map(|w| parse_window(w))
                    .collect::<Result<_, _>>()?,
                tz: self.tz.clone().ok_or(PlanError::WindowsNeedZone)?,
            },
            _ => {
                return Err(PlanError::EveryOrWindows);
            }
        };
        let steps = if self.steps.is_empty() {
            Plan::default_steps(grace_ms)
        } else {
            self.steps
                .iter()
                .map(|text| {
                    let (action, delay) = text
                        .split_once(':')
                        .ok_or_else(|| PlanError::NotActionDelay(text.clone()))?;
                    Ok(Step {
                        action: Action::parse(action)?,
                        after_ms: parse_duration(delay)?,
                    })
                })
                .collect::<Result<_, PlanError>>()?
        };
        let plan = Plan {
            schedule,
            grace_ms,
            reminders_ms: self
                .remind_before
                .iter()
                .map(|r| parse_duration(r))
                .collect::<Result<_, _>>()?,
            steps,
            release_on_duress: self.release_on_duress,
        };
        plan.validate()?;
        Ok(plan)
    }
}

/// Parses `10s`, `90m`, `2h`, `1d`, `1h30m` into milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, PlanError> {
    let bad = || PlanError::NotADuration(text.to_string());
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit_ms: i64 = match c {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => return Err(bad()),
        };
        let value: i64 = number.parse().map_err(|_| bad())?;
        total = value
            .checked_mul(unit_ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
        any = true;
    }
    if !number.is_empty() || !any {
        return Err(bad());
    }
    Ok(total)
}

/// Formats milliseconds back as the shortest `1d2h3m4s` form.
pub fn format_duration(ms: i64) -> String {
    let mut rest = ms / 1000;
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// Parses `09:00-11:00` (every day), or with the days it applies on before it, after a slash
/// or a space: `mon-fri/09:00-11:00`, `sat 12:00-14:00`, `пн,ср/22:00-02:00` (see [`Days::parse`]).
pub fn parse_window(text: &str) -> Result<Window, PlanError> {
    let text = text.trim();
    // Day names have no digits: whatever comes before the first digit names the days.
    let (days, times) = text.split_at(text.find(|c: char| c.is_ascii_digit()).unwrap_or(0));
    let days = days.trim().trim_end_matches('/').trim();
    let days = if days.is_empty() {
        Days::EVERY
    } else {
        Days::parse(days)?
    };
    let bad = || PlanError::NotAWindow(text.to_string());
    let minutes = |hm: &str| -> Option<u16> {
        let (h, m) = hm.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    let (start, end) = times.split_once('-').ok_or_else(bad)?;
    let window = Window {
        start_min: minutes(start).ok_or_else(bad)?,
        end_min: minutes(end).ok_or_else(bad)?,
        days,
    };
    if window.start_min == window.end_min {
        return Err(PlanError::WindowEndsWhenItStarts(text.to_string()));
    }
    Ok(window)
}

/// A form's or a config's list of windows as one text, separated by commas or spaces:
/// `mon-fri/09:00-11:00, sat 12:00-14:00`. A part without a time of day belongs to the
/// window after it, as its days (`mon, wed/10:00-11:00` is one window, on two days).
pub fn split_windows(text: &str) -> Vec<String> {
    let mut windows: Vec<String> = Vec::new();
    let mut days: Option<String> = None;
    for part in text.split([',', ' ', '\t', '\n', '\r', ';']).map(str::trim) {
        if part.is_empty() {
            continue;
        }
        if !part.contains(':') {
            days = Some(match days {
                Some(before) => format!("{before},{part}"),
                None => part.to_string(),
            });
            continue;
        }
        windows.push(match days.take() {
            Some(before) if part.contains('/') => format!("{before},{part}"),
            Some(before) => format!("{before}/{part}"),
            None => part.to_string(),
        });
    }
    // Days with no time after them: left as they are, for parse_window to say what is wrong.
    windows.extend(days);
    windows
}

/// `09:00-11:00`, or `mon-fri/09:00-11:00` when it is not every day: as [`parse_window`]
/// reads it.
impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.days.is_every_day() {
            write!(f, "{}/", self.days)?;
        }
        write!(f, "{}-{}", hhmm(self.start_min), hhmm(self.end_min))
    }
}

impl Window {
    /// When it opens and closes, as `09:00` and `11:00`.
    pub fn times(&self) -> (String, String) {
        (hhmm(self.start_min), hhmm(self.end_min))
    }

    /// Whether it closes on the day after it opens (22:00-02:00).
    pub fn crosses_midnight(&self) -> bool {
        self.end_min < self.start_min
    }
}

/// Minutes after midnight as `09:05`.
fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl Plan {
    /// The ladder used when a plan names no steps: remind at once, tier 1 after one grace
    /// period, tier 2 after two, release after three.
    pub fn default_steps(grace_ms: i64) -> Vec<Step> {
        let unit = grace_ms.max(1_000);
        vec![
            Step {
                action: Action::RemindJournalist,
                after_ms: 0,
            },
            Step {
                action: Action::AlertTier(1),
                after_ms: unit,
            },
            Step {
                action: Action::AlertTier(2),
                after_ms: 2 * unit,
            },
            Step {
                action: Action::Release,
                after_ms: 3 * unit,
            },
        ]
    }

    pub fn validate(&self) -> Result<(), PlanError> {
        match &self.schedule {
            Schedule::Every { every_ms } => {
                if *every_ms < 1_000 {
                    return Err(PlanError::IntervalTooShort);
                }
            }
            Schedule::Daily { windows, tz } => {
                if windows.is_empty() {
                    return Err(PlanError::NoWindow);
                }
                // Plans also arrive over the wire, not only through parse_window.
                // A window whose end is before its start crosses midnight (22:00-02:00).
                if windows.iter().any(|w| {
                    w.start_min == w.end_min || w.start_min >= 24 * 60 || w.end_min >= 24 * 60
                }) {
                    return Err(PlanError::WindowSameTime);
                }
                if windows.iter().any(|w| w.days.is_empty()) {
                    return Err(PlanError::WindowNoDays);
                }
                jiff::tz::TimeZone::get(tz).map_err(|_| PlanError::UnknownZone(tz.clone()))?;
            }
        }
        if self.grace_ms < 0 || self.reminders_ms.iter().any(|r| *r <= 0) {
            return Err(PlanError::NotPositive);
        }
        if self.steps.is_empty() {
            return Err(PlanError::NoSteps);
        }
        let mut seen = std::collections::HashSet::new();
        for step in &self.steps {
            if step.after_ms < 0 {
                return Err(PlanError::StepBeforeMiss);
            }
            if !seen.insert(step.action) {
                return Err(PlanError::StepTwice(step.action));
            }
        }
        Ok(())
    }

    /// The days of the week on which no window opens (so no deadline falls), for a plan of
    /// windows; none for a plan of intervals.
    pub fn days_without_window(&self) -> Days {
        match &self.schedule {
            Schedule::Every { .. } => Days::NONE,
            Schedule::Daily { windows, .. } => windows
                .iter()
                .fold(Days::NONE, |all, w| all.union(w.days))
                .others(),
        }
    }

    /// A one-line description, for status output.
    pub fn describe(&self) -> String {
        let schedule = match &self.schedule {
            Schedule::Every { every_ms } => format!("every {}", format_duration(*every_ms)),
            Schedule::Daily { windows, tz } => {
                let list: Vec<String> = windows.iter().map(Window::to_string).collect();
                if windows.iter().all(|w| w.days.is_every_day()) {
                    // As before weekday rules: plans set then read the same.
                    format!("daily {} {tz}", list.join(","))
                } else {
                    let free = self.days_without_window();
                    let free = if free.is_empty() {
                        String::new()
                    } else {
                        format!(", no check-in on {free}")
                    };
                    format!("windows {} {tz}{free}", list.join(","))
                }
            }
        };
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| format!("{}:{}", s.action.label(), format_duration(s.after_ms)))
            .collect();
        let reminders = if self.reminders_ms.is_empty() {
            String::new()
        } else {
            let before: Vec<String> = self
                .reminders_ms
                .iter()
                .map(|ms| format_duration(*ms))
                .collect();
            format!(", remind before {}", before.join(","))
        };
        format!(
            "{schedule}, grace {}{reminders}, steps {}{}",
            format_duration(self.grace_ms),
            steps.join(" "),
            if self.release_on_duress {
                ", release on duress"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_combination() {
        assert_eq!(parse_duration("10s").unwrap(), 10_000);
        assert_eq!(parse_duration("90m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("2h").unwrap(), 7_200_000);
        assert_eq!(parse_duration("1d").unwrap(), 86_400_000);
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        for bad in ["", "10", "h", "5x", "-5s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(5_400_000), "1h30m");
    }

    #[test]
    fn windows_and_steps_are_validated() {
        assert_eq!(
            parse_window("09:00-11:30").unwrap(),
            Window {
                start_min: 540,
                end_min: 690,
                days: Days::EVERY
            }
        );
        // An end before the start crosses midnight; an end equal to the start is no window.
        assert_eq!(
            parse_window("22:00-02:00").unwrap(),
            Window {
                start_min: 1320,
                end_min: 120,
                days: Days::EVERY
            }
        );
        assert!(parse_window("11:00-11:00").is_err());
        assert!(parse_window("25:00-26:00").is_err());
        assert_eq!(Action::parse("tier2").unwrap(), Action::AlertTier(2));
        assert!(Action::parse("tier0").is_err());
        let mut plan = Plan {
            schedule: Schedule::Daily {
                windows: vec![parse_window("09:00-11:00").unwrap()],
                tz: "Asia/Dushanbe".into(),
            },
            grace_ms: 0,
            reminders_ms: vec![],
            steps: Plan::default_steps(60_000),
            release_on_duress: false,
        };
        plan.validate().unwrap();
        plan.schedule = Schedule::Daily {
            windows: vec![],
            tz: "Mars/Olympus".into(),
        };
        assert!(plan.validate().is_err());
        plan.schedule = Schedule::Every { every_ms: 10_000 };
        plan.steps.push(Step {
            action: Action::Release,
            after_ms: 1,
        });
        assert!(plan.validate().unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn weekday_windows_parse_describe_and_travel_as_json() {
        let spec = PlanSpec {
            window: vec!["mon-fri/09:00-11:00".into(), "сб 12:00-14:00".into()],
            tz: Some("Asia/Dushanbe".into()),
            grace: "2h".into(),
            steps: vec!["tier1:0s".into()],
            ..Default::default()
        };
        let plan = spec.build().unwrap();
        assert_eq!(
            plan.describe(),
            "windows mon-fri/09:00-11:00,sat/12:00-14:00 Asia/Dushanbe, no check-in on sun, \
             grace 2h, steps tier1:0s"
        );
        let json = serde_json::to_string(&plan.schedule).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"daily","windows":[{"start_min":540,"end_min":660,"days":["mon","tue","wed","thu","fri"]},{"start_min":720,"end_min":840,"days":["sat"]}],"tz":"Asia/Dushanbe"}"#
        );
        assert_eq!(
            serde_json::from_str::<Schedule>(&json).unwrap(),
            plan.schedule
        );
        // Every day covered, though not by every window: nothing to say about free days.
        let spec = PlanSpec {
            window: vec!["mon-fri/09:00-11:00".into(), "sat,sun/12:00-14:00".into()],
            ..spec
        };
        assert!(
            spec.build().unwrap().describe().starts_with(
                "windows mon-fri/09:00-11:00,sat,sun/12:00-14:00 Asia/Dushanbe, grace"
            )
        );
        // Days in the watcher's TOML config and the app's field read the same; a part with
        // no time is the days of the window after it.
        assert_eq!(
            split_windows("mon, wed/10:00-11:00 sat 12:00-14:00,22:00-02:00"),
            ["mon,wed/10:00-11:00", "sat/12:00-14:00", "22:00-02:00"]
        );
        assert_eq!(split_windows("mon-fri"), ["mon-fri"]);
        assert!(parse_window("mon-fri").is_err());
        let bad = parse_window("mnday/09:00-11:00").unwrap_err().to_string();
        assert!(bad.contains("\"mnday\" is not a day of the week"), "{bad}");
        // Spaces around the dash, as before days existed.
        assert_eq!(parse_window("09:00 - 11:00").unwrap().days, Days::EVERY);
    }

    #[test]
    fn a_stored_plan_without_days_reads_as_every_day_and_is_written_the_same() {
        let old =
            r#"{"kind":"daily","windows":[{"start_min":540,"end_min":660}],"tz":"Asia/Dushanbe"}"#;
        let schedule: Schedule = serde_json::from_str(old).unwrap();
        let Schedule::Daily { windows, .. } = &schedule else {
            panic!("{schedule:?}")
        };
        assert_eq!(windows[0].days, Days::EVERY);
        // Written back without days, as an older watcher wrote and reads it.
        assert_eq!(serde_json::to_string(&schedule).unwrap(), old);
    }

    #[test]
    fn a_plan_from_the_wire_with_no_days_or_bad_days_is_refused() {
        let plan = |days: &str| {
            format!(
                r#"{{"schedule":{{"kind":"daily","windows":[{{"start_min":540,"end_min":660,"days":{days}}}],"tz":"Asia/Dushanbe"}},"grace_ms":0,"steps":[{{"action":"release","after_ms":0}}]}}"#
            )
        };
        let empty: Plan = serde_json::from_str(&plan("[]")).unwrap();
        assert!(
            empty
                .validate()
                .unwrap_err()
                .to_string()
                .contains("at least one day")
        );
        for bad in [r#"["mon","mon"]"#, r#"["monday"]"#, r#""mon""#, "127"] {
            assert!(serde_json::from_str::<Plan>(&plan(bad)).is_err(), "{bad}");
        }
        let good: Plan = serde_json::from_str(&plan(r#"["sun"]"#)).unwrap();
        good.validate().unwrap();
    }

    proptest::proptest! {
        /// A window reads back as it is described: `plan show` and `status` can be typed
        /// into `plan set` again.
        #[test]
        fn a_window_reads_back_as_it_is_written(
            start_min in 0u16..1440,
            end_min in 0u16..1440,
            days in 1u8..128,
        ) {
            proptest::prop_assume!(start_min != end_min);
            let window = Window { start_min, end_min, days: Days::from_bits(days) };
            proptest::prop_assert_eq!(parse_window(&window.to_string()), Ok(window));
            proptest::prop_assert_eq!(split_windows(&window.to_string()), [window.to_string()]);
        }
    }
}
