//! Deadlines on the calendar: weekday rules, days without windows, windows across midnight
//! at the ends of months and years and across daylight-saving changes, and a property test
//! against a plain search over every window of the days around the cycle's start.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::plan::{Days, Window, parse_window};

fn ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// A schedule as `plan set --window` reads it.
fn windows(texts: &[&str], tz: &str) -> Schedule {
    Schedule::Daily {
        windows: texts.iter().map(|t| parse_window(t).unwrap()).collect(),
        tz: tz.into(),
    }
}

/// `deadline_after` as local time in `tz`, with the weekday: `Mon 2026-12-07 11:00`.
fn local(schedule: &Schedule, tz: &str, start: &str) -> String {
    let deadline = deadline_after(schedule, ms(start)).unwrap();
    jiff::Timestamp::from_millisecond(deadline)
        .unwrap()
        .to_zoned_datetime(TimeZone::get(tz).unwrap())
        .strftime("%a %Y-%m-%d %H:%M")
        .to_string()
}

// 2026-12-04 is a Friday. Dushanbe is UTC+5 all year.

#[test]
fn weekday_windows_in_dushanbe() {
    let tz = "Asia/Dushanbe";
    let week = windows(&["mon-fri/09:00-11:00", "sat/12:00-14:00"], tz);
    // Thursday before the window: Thursday's window.
    assert_eq!(
        local(&week, tz, "2026-12-03T03:00:00Z"),
        "Thu 2026-12-03 11:00"
    );
    // Friday inside the window: the next window is Saturday's, at noon.
    assert_eq!(
        local(&week, tz, "2026-12-04T05:00:00Z"),
        "Sat 2026-12-05 14:00"
    );
    // Saturday inside its window: Sunday has none, so Monday's.
    assert_eq!(
        local(&week, tz, "2026-12-05T08:00:00Z"),
        "Mon 2026-12-07 11:00"
    );
    // On Sunday itself: Monday's too.
    assert_eq!(
        local(&week, tz, "2026-12-06T05:00:00Z"),
        "Mon 2026-12-07 11:00"
    );
}

#[test]
fn the_weekday_is_the_local_one_not_utcs() {
    // Monday 02:00-04:00 in Dushanbe is Sunday 21:00-23:00 UTC.
    let tz = "Asia/Dushanbe";
    let monday = windows(&["mon/02:00-04:00"], tz);
    assert_eq!(
        deadline_after(&monday, ms("2026-12-06T12:00:00Z")).unwrap(),
        ms("2026-12-06T23:00:00Z")
    );
    assert_eq!(
        local(&monday, tz, "2026-12-06T12:00:00Z"),
        "Mon 2026-12-07 04:00"
    );
}

#[test]
fn a_window_across_midnight_belongs_to_the_day_it_starts() {
    let tz = "Asia/Dushanbe";
    let friday_night = windows(&["fri/22:00-02:00"], tz);
    // Thursday: Friday night's window, which closes on Saturday.
    assert_eq!(
        local(&friday_night, tz, "2026-12-03T12:00:00Z"),
        "Sat 2026-12-05 02:00"
    );
    // Saturday 01:00, inside Friday night's window: the next Friday night's.
    assert_eq!(
        local(&friday_night, tz, "2026-12-04T20:00:00Z"),
        "Sat 2026-12-12 02:00"
    );
    // A Saturday-night window closes on Sunday, a day with no window of its own.
    let saturday_night = windows(&["sat/23:00-01:00"], tz);
    assert_eq!(
        local(&saturday_night, tz, "2026-12-05T12:00:00Z"),
        "Sun 2026-12-06 01:00"
    );
}

#[test]
fn windows_across_midnight_at_the_ends_of_months_and_years() {
    let tz = "Asia/Dushanbe";
    let night = windows(&["22:00-02:00"], tz);
    // New Year's Eve (a Thursday) to New Year's Day.
    assert_eq!(
        local(&night, tz, "2026-12-31T12:00:00Z"),
        "Fri 2027-01-01 02:00"
    );
    let thursday = windows(&["thu/23:00-01:00"], tz);
    assert_eq!(
        local(&thursday, tz, "2026-12-30T12:00:00Z"),
        "Fri 2027-01-01 01:00"
    );
    // The end of February, in a common year and a leap year.
    assert_eq!(
        local(&night, tz, "2027-02-28T12:00:00Z"),
        "Mon 2027-03-01 02:00"
    );
    assert_eq!(
        local(&night, tz, "2028-02-28T12:00:00Z"),
        "Tue 2028-02-29 02:00"
    );
    assert_eq!(
        local(&night, tz, "2028-02-29T12:00:00Z"),
        "Wed 2028-03-01 02:00"
    );
    // The end of a 30-day month, on a weekday rule.
    let weekdays = windows(&["mon-fri/22:00-02:00"], tz);
    assert_eq!(
        local(&weekdays, tz, "2026-11-30T12:00:00Z"),
        "Tue 2026-12-01 02:00"
    );
}

#[test]
fn windows_across_midnight_follow_daylight_saving_changes() {
    let tz = "Europe/Berlin";
    // Saturday 2026-03-28 22:00 CET; Sunday 02:30 does not exist (02:00 CET -> 03:00 CEST)
    // and moves forward to 03:30 CEST: the window keeps its four and a half hours.
    let night = windows(&["sat/22:00-02:30"], tz);
    assert_eq!(
        deadline_after(&night, ms("2026-03-28T12:00:00Z")).unwrap(),
        ms("2026-03-29T01:30:00Z")
    );
    // A window that closes after the gap closes on the summer time.
    let late = windows(&["sat/23:00-04:00"], tz);
    assert_eq!(
        deadline_after(&late, ms("2026-03-28T12:00:00Z")).unwrap(),
        ms("2026-03-29T02:00:00Z")
    );
    // Saturday 2026-10-24: Sunday's 02:30 comes twice; the first (CEST) closes the window,
    // never later than it would without the change.
    assert_eq!(
        deadline_after(&night, ms("2026-10-24T12:00:00Z")).unwrap(),
        ms("2026-10-25T00:30:00Z")
    );
    assert_eq!(
        deadline_after(&late, ms("2026-10-24T12:00:00Z")).unwrap(),
        ms("2026-10-25T03:00:00Z")
    );
    // The Sunday window on the day of the change starts in winter and ends in summer time.
    let sunday = windows(&["sun/01:00-03:00"], tz);
    assert_eq!(
        deadline_after(&sunday, ms("2026-03-28T12:00:00Z")).unwrap(),
        ms("2026-03-29T01:00:00Z")
    );
}

/// "The end of the first window that opens after the cycle started", compared as instants:
/// on the spring night in Berlin 02:30 does not exist and opens at 03:30, after a window of
/// 03:00, which is then the first to open (ordering by the time of day picked 02:30's).
#[test]
fn the_first_window_to_open_is_compared_in_real_time_across_the_skipped_hour() {
    let both = windows(&["sun/02:30-04:00", "sun/03:00-03:10"], "Europe/Berlin");
    assert_eq!(
        deadline_after(&both, ms("2026-03-28T12:00:00Z")).unwrap(),
        ms("2026-03-29T01:10:00Z")
    );
}

#[test]
fn a_window_with_no_days_is_an_error_not_a_search_forever() {
    let schedule = Schedule::Daily {
        windows: vec![Window {
            start_min: 540,
            end_min: 600,
            days: Days::NONE,
        }],
        tz: "Asia/Dushanbe".into(),
    };
    assert!(deadline_after(&schedule, 0).is_err());
}

/// Every (opening, closing) of every window on its days, from the day before `start_ms` to
/// nine days after, as instants: the plain search the property test compares with.
fn every_window_around(
    windows: &[Window],
    zone: &TimeZone,
    start_ms: i64,
) -> Vec<(i64, i64, Weekday)> {
    let at = |date: Date, minutes: u16| {
        date.to_datetime(
            jiff::civil::Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).unwrap(),
        )
        .to_zoned_datetime(zone.clone())
        .unwrap()
        .timestamp()
        .as_millisecond()
    };
    let first = jiff::Timestamp::from_millisecond(start_ms)
        .unwrap()
        .to_zoned_datetime(zone.clone())
        .date()
        .yesterday()
        .unwrap();
    let mut found = Vec::new();
    for n in 0..10 {
        let date = first.checked_add(jiff::Span::new().days(n)).unwrap();
        for w in windows.iter().filter(|w| w.days.contains(date.weekday())) {
            let opens = at(date, w.start_min);
            let closes_on = if w.end_min > w.start_min {
                date
            } else {
                date.tomorrow().unwrap()
            };
            found.push((opens, at(closes_on, w.end_min).max(opens), date.weekday()));
        }
    }
    found
}

/// Around the moments that make calendars hard: DST changes in Berlin (spring and autumn,
/// two years), the end of a year, a leap day; Dushanbe has no DST at all.
fn start() -> impl Strategy<Value = i64> {
    let bases = [
        "2026-03-29T01:00:00Z",
        "2026-10-25T01:00:00Z",
        "2027-03-28T01:00:00Z",
        "2027-10-31T01:00:00Z",
        "2026-12-31T19:00:00Z",
        "2028-02-29T00:00:00Z",
    ]
    .map(ms);
    (
        proptest::sample::select(bases.to_vec()),
        -10 * 24 * 60i64..10 * 24 * 60,
    )
        .prop_map(|(base, minutes)| base + minutes * 60_000)
}

fn minute() -> impl Strategy<Value = u16> {
    // Half hours often, to land on the hours that DST skips or repeats.
    prop_oneof![(0u16..48).prop_map(|h| h * 30), 0u16..24 * 60]
}

fn window() -> impl Strategy<Value = Window> {
    (minute(), minute(), 1u8..128)
        .prop_filter("a window ends at another time", |(a, b, _)| a != b)
        .prop_map(|(start_min, end_min, days)| Window {
            start_min,
            end_min,
            days: Days::from_bits(days),
        })
}

proptest! {
    /// For any windows on any days in Berlin or Dushanbe, from any moment: the deadline is
    /// after the cycle's start; it is the end of the first window, on one of its days in
    /// local time, to open after the start; it is at most a week and a day away in local
    /// time (in real time, an hour more when the clocks go back in that week; never in
    /// Dushanbe).
    #[test]
    fn the_deadline_is_the_end_of_the_next_allowed_window(
        windows in proptest::collection::vec(window(), 1..4),
        berlin in any::<bool>(),
        start_ms in start(),
    ) {
        let tz = if berlin { "Europe/Berlin" } else { "Asia/Dushanbe" };
        let zone = TimeZone::get(tz).unwrap();
        let schedule = Schedule::Daily { windows: windows.clone(), tz: tz.into() };
        let deadline = deadline_after(&schedule, start_ms).unwrap();
        prop_assert!(deadline > start_ms);

        let candidates = every_window_around(&windows, &zone, start_ms);
        let next_opening = candidates.iter().map(|c| c.0).filter(|o| *o > start_ms).min().unwrap();
        prop_assert!(
            candidates.iter().any(|(opens, closes, day)| *opens == next_opening
                && *closes == deadline
                && windows.iter().any(|w| w.days.contains(*day))),
            "deadline {deadline} is not the end of the window opening first after {start_ms}: {candidates:?}"
        );

        let local = |at: i64| jiff::Timestamp::from_millisecond(at).unwrap().to_zoned_datetime(zone.clone()).datetime();
        let local_away = local(deadline).duration_since(local(start_ms));
        prop_assert!(local_away <= jiff::SignedDuration::from_hours(8 * 24), "{local_away:?} in local time");
        let hour = 3_600_000;
        let most = if berlin { 8 * 24 * hour + hour } else { 8 * 24 * hour };
        prop_assert!(deadline - start_ms <= most, "{} h away", (deadline - start_ms) / hour);
    }
}
