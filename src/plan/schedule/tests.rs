//! The schedule under a fake clock: ordinary days, grace, all-clear, restarts, clock jumps,
//! pauses, edited plans, daylight-saving changes, and a property test over random histories.

use proptest::prelude::*;

use super::*;
use crate::plan::{Step, Window};

const S: i64 = 1_000;

fn every(every_ms: i64, grace_ms: i64) -> Plan {
    Plan {
        schedule: Schedule::Every { every_ms },
        grace_ms,
        reminders_ms: vec![],
        steps: Plan::default_steps(grace_ms),
        release_on_duress: false,
    }
}

fn fired_actions(emitted: &[Emitted]) -> Vec<Action> {
    emitted
        .iter()
        .filter_map(|e| match e {
            Emitted::Step { action, .. } => Some(*action),
            _ => None,
        })
        .collect()
}

#[test]
fn an_ordinary_missed_check_in_climbs_the_ladder_on_time_and_once() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    assert_eq!(state.outlook(&plan, 0).unwrap().deadline_ms, Some(10 * S));
    assert!(state.fire_due(&plan, 15 * S - 1).unwrap().is_empty());
    assert_eq!(state.outlook(&plan, 0).unwrap().next_wake_ms, Some(15 * S));
    assert_eq!(
        fired_actions(&state.fire_due(&plan, 15 * S).unwrap()),
        vec![Action::RemindJournalist]
    );
    assert!(
        state.fire_due(&plan, 16 * S).unwrap().is_empty(),
        "nothing fires twice"
    );
    assert_eq!(
        fired_actions(&state.fire_due(&plan, 20 * S).unwrap()),
        vec![Action::AlertTier(1)]
    );
    assert_eq!(
        fired_actions(&state.fire_due(&plan, 25 * S).unwrap()),
        vec![Action::AlertTier(2)]
    );
    assert_eq!(
        fired_actions(&state.fire_due(&plan, 30 * S).unwrap()),
        vec![Action::Release]
    );
    assert_eq!(state.outlook(&plan, 31 * S).unwrap().next_wake_ms, None);
}

#[test]
fn a_check_in_during_grace_starts_a_new_cycle_quietly() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    assert!(state.check_in(12 * S, false).is_empty());
    assert_eq!(
        state.outlook(&plan, 12 * S).unwrap().deadline_ms,
        Some(22 * S)
    );
    assert!(state.fire_due(&plan, 26 * S).unwrap().is_empty());
    assert_eq!(state.cycle, 2);
}

#[test]
fn a_check_in_after_tier_one_fired_sends_all_clear_to_the_alerted_tiers() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    state.fire_due(&plan, 21 * S).unwrap();
    let emitted = state.check_in(22 * S, false);
    assert_eq!(
        emitted,
        vec![Emitted::AllClear {
            tiers: vec![1],
            cycle: 1
        }]
    );
    assert!(state.fired.is_empty());
}

#[test]
fn after_a_restart_everything_that_fell_due_fires_at_once_in_order() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    state.fire_due(&plan, 15 * S).unwrap();
    // The daemon was down from 16 s to 100 s; the state comes back from disk as it was.
    let mut restored: State =
        serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    let emitted = restored.fire_due(&plan, 100 * S).unwrap();
    assert_eq!(
        fired_actions(&emitted),
        vec![Action::AlertTier(1), Action::AlertTier(2), Action::Release]
    );
    assert!(restored.fire_due(&plan, 101 * S).unwrap().is_empty());
}

#[test]
fn a_clock_jump_backwards_delays_nothing_already_fired_and_fires_nothing_early() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(100 * S);
    state.fire_due(&plan, 115 * S).unwrap();
    // The wall clock is set back an hour: nothing new is due, nothing fires again.
    assert!(
        state
            .fire_due(&plan, 115 * S - 3_600 * S)
            .unwrap()
            .is_empty()
    );
    // When time catches up, the next step fires as planned.
    assert_eq!(
        fired_actions(&state.fire_due(&plan, 120 * S).unwrap()),
        vec![Action::AlertTier(1)]
    );
}

#[test]
fn given_a_day_later_the_machine_fires_the_whole_ladder() {
    // The machine believes the time it is given: guarding it against a forged jump is the
    // clock's job (`watch::clock`), which is why the daemon never hands it the raw wall clock.
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    let emitted = state.fire_due(&plan, 86_400 * S).unwrap();
    assert_eq!(emitted.len(), 4);
}

#[test]
fn held_names_the_steps_due_only_on_the_jumped_wall_clock() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    state.fire_due(&plan, 16 * S).unwrap();
    // Real time says 16 s; the wall clock jumped to a day: tier 1, tier 2 and release are
    // held, in the order they fall due; the reminder already fired and is not held.
    let held: Vec<(Action, i64)> = state
        .held(&plan, 16 * S, 86_400 * S)
        .unwrap()
        .into_iter()
        .map(|(_, action, due)| (action, due))
        .collect();
    assert_eq!(
        held,
        vec![
            (Action::AlertTier(1), 20 * S),
            (Action::AlertTier(2), 25 * S),
            (Action::Release, 30 * S)
        ]
    );
    // Nothing is held when the wall clock is not ahead, or once real time caught up.
    assert!(state.held(&plan, 16 * S, 16 * S).unwrap().is_empty());
    assert!(state.held(&plan, 16 * S, 10 * S).unwrap().is_empty());
    state.fire_due(&plan, 30 * S).unwrap();
    assert!(state.held(&plan, 30 * S, 86_400 * S).unwrap().is_empty());
}

#[test]
fn pause_holds_every_deadline_until_it_ends_and_resume_restarts_now() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    state.pause(5 * S, 1_000 * S);
    let outlook = state.outlook(&plan, 500 * S).unwrap();
    assert_eq!(outlook.deadline_ms, None);
    assert_eq!(outlook.next_wake_ms, Some(1_000 * S));
    assert!(state.fire_due(&plan, 1_014 * S).unwrap().is_empty());
    assert_eq!(
        fired_actions(&state.fire_due(&plan, 1_015 * S).unwrap()),
        vec![Action::RemindJournalist]
    );

    let mut state = State::starting(0);
    state.pause(5 * S, 1_000 * S);
    state.resume(50 * S);
    assert_eq!(
        state.outlook(&plan, 50 * S).unwrap().deadline_ms,
        Some(60 * S)
    );
}

#[test]
fn an_edited_plan_does_not_refire_what_already_fired() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    state.fire_due(&plan, 20 * S).unwrap(); // remind and tier 1
    let edited = Plan {
        schedule: Schedule::Every { every_ms: 10 * S },
        release_on_duress: false,
        grace_ms: 5 * S,
        reminders_ms: vec![],
        steps: vec![
            Step {
                action: Action::AlertTier(1),
                after_ms: 0,
            },
            Step {
                action: Action::Release,
                after_ms: 60 * S,
            },
        ],
    };
    state.plan_changed(21 * S);
    assert!(state.fire_due(&edited, 21 * S).unwrap().is_empty());
    assert_eq!(
        fired_actions(&state.fire_due(&edited, 75 * S).unwrap()),
        vec![Action::Release]
    );
}

#[test]
fn reminders_come_before_the_deadline() {
    let mut plan = every(100 * S, 10 * S);
    plan.reminders_ms = vec![30 * S, 10 * S];
    let mut state = State::starting(0);
    assert_eq!(
        fired_actions(&state.fire_due(&plan, 70 * S).unwrap()),
        vec![Action::RemindJournalist]
    );
    assert!(state.fire_due(&plan, 89 * S).unwrap().is_empty());
    assert_eq!(state.fire_due(&plan, 90 * S).unwrap().len(), 1);
}

#[test]
fn a_duress_check_in_raises_a_silent_alert_and_otherwise_looks_normal() {
    let plan = every(10 * S, 5 * S);
    let mut normal = State::starting(0);
    let mut duress = State::starting(0);
    assert!(normal.check_in(3 * S, false).is_empty());
    assert_eq!(
        duress.check_in(3 * S, true),
        vec![Emitted::Duress {
            cycle: 2,
            at_ms: 3 * S
        }]
    );
    assert_eq!(
        normal.outlook(&plan, 4 * S).unwrap(),
        duress.outlook(&plan, 4 * S).unwrap()
    );
}

#[test]
fn a_duress_check_in_after_alerts_sends_no_all_clear() {
    let plan = every(10 * S, 5 * S);
    let mut state = State::starting(0);
    let fired = state.fire_due(&plan, 60 * S).unwrap();
    assert!(fired.iter().any(|e| matches!(
        e,
        Emitted::Step {
            action: Action::AlertTier(1),
            ..
        }
    )));
    let cycle = state.cycle;
    assert_eq!(
        state.check_in(61 * S, true),
        vec![Emitted::Duress {
            cycle: cycle + 1,
            at_ms: 61 * S
        }]
    );
}

fn ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn daily(windows: &[(u16, u16)], tz: &str) -> Schedule {
    Schedule::Daily {
        windows: windows
            .iter()
            .map(|(a, b)| Window {
                start_min: *a,
                end_min: *b,
                days: crate::plan::Days::EVERY,
            })
            .collect(),
        tz: tz.into(),
    }
}

#[test]
fn daily_windows_in_dushanbe_time() {
    let schedule = daily(&[(9 * 60, 11 * 60)], "Asia/Dushanbe"); // UTC+5, no DST
    // Checked in at 09:30 local: the next deadline is tomorrow's 11:00 local.
    assert_eq!(
        deadline_after(&schedule, ms("2026-11-25T04:30:00Z")).unwrap(),
        ms("2026-11-26T06:00:00Z")
    );
    // Before today's window opens: today's window counts.
    assert_eq!(
        deadline_after(&schedule, ms("2026-11-25T02:00:00Z")).unwrap(),
        ms("2026-11-25T06:00:00Z")
    );
    // Two windows a day: the next one to open.
    let two = daily(&[(18 * 60, 19 * 60), (9 * 60, 10 * 60)], "Asia/Dushanbe");
    assert_eq!(
        deadline_after(&two, ms("2026-11-25T04:30:00Z")).unwrap(),
        ms("2026-11-25T14:00:00Z")
    );
}

#[test]
fn daily_windows_follow_daylight_saving_changes() {
    let schedule = daily(&[(9 * 60, 10 * 60)], "Europe/Berlin");
    // Spring forward on 2026-03-29: 10:00 is CEST (UTC+2) that day, CET (UTC+1) the day before.
    assert_eq!(
        deadline_after(&schedule, ms("2026-03-27T08:30:00Z")).unwrap(),
        ms("2026-03-28T09:00:00Z")
    );
    assert_eq!(
        deadline_after(&schedule, ms("2026-03-28T08:30:00Z")).unwrap(),
        ms("2026-03-29T08:00:00Z")
    );
    // A window inside the skipped hour still has a deadline, moved past the gap.
    let gap = daily(&[(2 * 60, 2 * 60 + 30)], "Europe/Berlin");
    assert_eq!(
        deadline_after(&gap, ms("2026-03-28T12:00:00Z")).unwrap(),
        ms("2026-03-29T01:30:00Z")
    );
    // Fall back on 2026-10-25: 02:30 happens twice; the earlier one (CEST) is the deadline.
    assert_eq!(
        deadline_after(&gap, ms("2026-10-24T12:00:00Z")).unwrap(),
        ms("2026-10-25T00:30:00Z")
    );
}

#[derive(Debug, Clone)]
enum Event {
    Advance(i64),
    JumpBack(i64),
    CheckIn,
    Pause(i64),
    Resume,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0i64..40 * S).prop_map(Event::Advance),
        1 => (0i64..100 * S).prop_map(Event::JumpBack),
        2 => Just(Event::CheckIn),
        1 => (1i64..60 * S).prop_map(Event::Pause),
        1 => Just(Event::Resume),
    ]
}

proptest! {
    /// For any history of check-ins, pauses and clock readings: no step fires before it is
    /// due, none fires twice in a cycle, and after each evaluation nothing due is left behind.
    #[test]
    fn no_step_fires_early_twice_or_never(events in proptest::collection::vec(event(), 1..80)) {
        let mut plan = every(10 * S, 5 * S);
        plan.reminders_ms = vec![3 * S];
        let mut state = State::starting(0);
        let mut now = 0i64;
        for event in events {
            match event {
                Event::Advance(d) => now += d,
                Event::JumpBack(d) => now -= d,
                Event::CheckIn => { state.check_in(now, false); }
                Event::Pause(d) => { state.pause(now, now + d); }
                Event::Resume => { state.resume(now); }
            }
            let cycle = state.cycle;
            for emitted in state.fire_due(&plan, now).unwrap() {
                if let Emitted::Step { due_ms, cycle: c, .. } = emitted {
                    prop_assert!(due_ms <= now, "fired early: due {due_ms}, now {now}");
                    prop_assert_eq!(c, cycle);
                }
            }
            let mut keys: Vec<StepKey> = state.fired.iter().map(|f| f.key).collect();
            let before = keys.len();
            keys.sort_by_key(|k| format!("{k:?}"));
            keys.dedup();
            prop_assert_eq!(keys.len(), before, "a step fired twice in one cycle");
            prop_assert!(state.outlook(&plan, now).unwrap().due.is_empty(), "a due step was skipped");
        }
    }
}

#[test]
fn a_window_straddling_the_skipped_hour_never_has_a_deadline_in_the_past() {
    // 02:30-03:15 in Berlin on 2026-03-29: 02:30 does not exist and moves to 03:30.
    let schedule = daily(&[(2 * 60 + 30, 3 * 60 + 15)], "Europe/Berlin");
    let start = ms("2026-03-29T01:20:00Z"); // 03:20 local, just after the gap
    let deadline = deadline_after(&schedule, ms("2026-03-28T12:00:00Z")).unwrap();
    assert!(
        deadline >= ms("2026-03-29T01:30:00Z"),
        "closes when it opens at the earliest"
    );
    assert!(deadline_after(&schedule, start).unwrap() > start);
}

#[test]
fn an_impossible_window_is_an_error_not_a_panic() {
    let schedule = daily(&[(1500, 1600)], "Asia/Dushanbe");
    assert!(deadline_after(&schedule, 0).is_err());
    let plan = Plan {
        schedule,
        grace_ms: 0,
        reminders_ms: vec![],
        steps: Plan::default_steps(1_000),
        release_on_duress: false,
    };
    assert!(plan.validate().is_err());
}

/// "windows cannot cross midnight": a night shift's window, 22:00-02:00 in Dushanbe, closes
/// on the next day; one in Berlin closes at the right UTC time across the DST change.
#[test]
fn a_window_across_midnight_closes_on_the_next_day() {
    let night = daily(&[(22 * 60, 2 * 60)], "Asia/Dushanbe"); // UTC+5
    // Checked in at 21:00 local: tonight's window, closing at 02:00 local tomorrow.
    assert_eq!(
        deadline_after(&night, ms("2026-11-25T16:00:00Z")).unwrap(),
        ms("2026-11-25T21:00:00Z")
    );
    // Checked in at 23:00 local, inside it: the next night's window.
    assert_eq!(
        deadline_after(&night, ms("2026-11-25T18:00:00Z")).unwrap(),
        ms("2026-11-26T21:00:00Z")
    );
    // Berlin, the night the clocks go back (2026-10-25, 03:00 CEST -> 02:00 CET): the window
    // opened at 22:00 CEST (20:00 UTC) closes at 02:00 CET... which comes twice; jiff takes
    // the earlier (02:00 CEST, 00:00 UTC), never later than the window's real end.
    let berlin = daily(&[(22 * 60, 2 * 60)], "Europe/Berlin");
    assert_eq!(
        deadline_after(&berlin, ms("2026-10-24T19:00:00Z")).unwrap(),
        ms("2026-10-25T00:00:00Z")
    );
    let spec = crate::plan::PlanSpec {
        window: vec!["22:00-02:00".into()],
        tz: Some("Asia/Dushanbe".into()),
        grace: "1h".into(),
        ..Default::default()
    };
    assert!(spec.build().is_ok());
    assert!(crate::plan::parse_window("09:00-09:00").is_err());
}
