//! The plan's windows and the days without one, in the reader's words, for `plan show` and
//! `status`; and the weekday a deadline falls on.

use jiff::civil::Weekday;

use super::words;
use crate::plan::{Days, Plan, Schedule};

/// The day's short name in the reader's language (`Mon`, `пн`, `душанбе`).
pub(super) fn weekday(day: Weekday) -> String {
    words::t(match day {
        Weekday::Monday => "weekday-mon",
        Weekday::Tuesday => "weekday-tue",
        Weekday::Wednesday => "weekday-wed",
        Weekday::Thursday => "weekday-thu",
        Weekday::Friday => "weekday-fri",
        Weekday::Saturday => "weekday-sat",
        Weekday::Sunday => "weekday-sun",
    })
}

/// `Mon–Fri, Sun`, or "every day".
fn days_text(days: Days) -> String {
    if days.is_every_day() {
        words::t("days-every")
    } else {
        days.list_with(weekday)
    }
}

/// One line per window (`check-in window: Mon–Fri 09:00-11:00`), then the days that have none, if any; nothing
/// for a plan of intervals.
pub(super) fn lines(plan: &Plan) -> Vec<String> {
    let Schedule::Daily { windows, .. } = &plan.schedule else {
        return Vec::new();
    };
    let mut lines: Vec<String> = windows
        .iter()
        .map(|w| {
            let (from, to) = w.times();
            let id = if w.crosses_midnight() {
                "plan-window-night"
            } else {
                "plan-window"
            };
            words::with(
                id,
                &[("days", &days_text(w.days)), ("from", &from), ("to", &to)],
            )
        })
        .collect();
    let free = plan.days_without_window();
    if !free.is_empty() {
        lines.push(words::with("plan-no-window", &[("days", &days_text(free))]));
    }
    lines
}
