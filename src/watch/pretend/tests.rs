//! The pretend world under a fake clock: what the coerced side is shown agrees with the
//! pretend plan, while the real ladder goes on under the real one.

use super::*;
use crate::plan::schedule::{State, StepKey};
use crate::plan::{Plan, Schedule, Step};

const H: i64 = 3_600_000;
const D: i64 = 24 * H;

/// Every `every_ms`, grace 1 h, a reminder 2 h before, then remind, tier 1, tier 2, release.
fn plan(every_ms: i64) -> Plan {
    Plan {
        schedule: Schedule::Every { every_ms },
        grace_ms: H,
        reminders_ms: vec![2 * H],
        steps: vec![
            Step {
                action: Action::RemindJournalist,
                after_ms: 0,
            },
            Step {
                action: Action::AlertTier(1),
                after_ms: H,
            },
            Step {
                action: Action::AlertTier(2),
                after_ms: 2 * H,
            },
            Step {
                action: Action::Release,
                after_ms: 3 * H,
            },
        ],
        release_on_duress: false,
    }
}

/// A subject on a daily plan, checked in at 0.
fn subject() -> Subject {
    let mut s = Subject::enrolled("s".into(), "N".into(), vec![1; 32], vec![2; 32], 0);
    s.plan = Some(plan(D));
    s.state = State::starting(0);
    s
}

/// What the coercer forced at `at_ms` from the decoy: a plan of 7 days.
fn coerce_plan(s: &mut Subject, at_ms: i64) {
    let mut shown = s.with_duress_view();
    shown.plan = Some(plan(7 * D));
    shown.state.check_in(at_ms, false);
    keep(s, &shown, at_ms);
}

fn labels(events: &[Emitted]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Emitted::Step { action, .. } => action.label(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn deadline(s: &Subject, now_ms: i64) -> Option<i64> {
    s.plan
        .as_ref()
        .and_then(|p| s.state.outlook(p, now_ms).ok()?.deadline_ms)
}

#[test]
fn without_a_pretend_world_the_real_ladder_runs_as_before() {
    let mut s = subject();
    let due = fire_due(&mut s, D - 2 * H).unwrap();
    assert_eq!(
        (labels(&due.real), due.reminders),
        (vec!["remind".into()], vec![])
    );
    let due = fire_due(&mut s, D + 2 * H).unwrap();
    assert_eq!(labels(&due.real), ["remind", "tier1"]);
    assert_eq!(seen_by_phone(&s).state, s.state);
    assert_eq!(summary(&s, D), None);
    assert_eq!(next_wake(&s, D + 2 * H), Some(D + 3 * H));
}

#[test]
fn a_pretend_plan_moves_the_deadline_everything_the_coercer_sees_shows() {
    let mut s = subject();
    coerce_plan(&mut s, H);
    let shown = s.with_duress_view();
    let pretend = shown
        .state
        .outlook(shown.plan.as_ref().unwrap(), H)
        .unwrap()
        .deadline_ms;
    assert_eq!(pretend, Some(H + 7 * D));
    // The phone, with either PIN, answers from the same world as the decoy.
    assert_eq!(seen_by_phone(&s).plan, shown.plan);
    assert_eq!(seen_by_phone(&s).state, shown.state);
    // The real deadline is where it was.
    assert_eq!(deadline(&s, H), Some(D));
    let told = summary(&s, H).unwrap();
    assert_eq!(
        (told.since_ms, told.deadline_ms, told.plan.is_some()),
        (Some(H), Some(H + 7 * D), true)
    );
}

#[test]
fn reminders_follow_the_pretend_plan_and_the_real_ladder_still_climbs() {
    let mut s = subject();
    coerce_plan(&mut s, H);
    // The real plan's reminder (2 h before the real deadline) would reach the journalist's
    // phone on a schedule the decoy does not show: it is held back.
    let due = fire_due(&mut s, D - 2 * H).unwrap();
    assert!(due.is_empty(), "{due:?}");
    // The real deadline and grace pass: tier 1 and later the release, on the real plan;
    // the reminders of the real ladder are held back as well.
    let due = fire_due(&mut s, D + 2 * H).unwrap();
    assert_eq!(labels(&due.real), ["tier1"]);
    assert!(due.reminders.is_empty());
    let due = fire_due(&mut s, D + 4 * H).unwrap();
    assert_eq!(labels(&due.real), ["tier2", "release"]);
    // The pretend world's reminder comes 2 h before its own deadline.
    let pretend_deadline = H + 7 * D;
    assert_eq!(next_wake(&s, D + 4 * H), Some(pretend_deadline - 2 * H));
    let due = fire_due(&mut s, pretend_deadline - 2 * H).unwrap();
    assert_eq!(labels(&due.reminders), ["remind"]);
    assert!(due.real.is_empty());
    match &due.reminders[0] {
        Emitted::Step { deadline_ms, .. } => assert_eq!(*deadline_ms, pretend_deadline),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fired_steps_are_kept_per_view() {
    let mut s = subject();
    coerce_plan(&mut s, H);
    fire_due(&mut s, D + 5 * H).unwrap();
    assert_eq!(s.state.alerted_tiers(), [1, 2]);
    // The decoy shows nothing fired: under a 7-day plan nothing can have.
    assert!(s.with_duress_view().state.fired.is_empty());
    // Past the pretend deadline and grace, the pretend steps fire in the pretend view only:
    // the reminders go to the journalist, the rest is shown, not sent.
    let late = H + 7 * D + 5 * H;
    let due = fire_due(&mut s, late).unwrap();
    assert_eq!(labels(&due.reminders), ["remind", "remind"]);
    let keys: Vec<StepKey> = s
        .with_duress_view()
        .state
        .fired
        .iter()
        .map(|f| f.key)
        .collect();
    assert_eq!(
        keys,
        [
            StepKey::Reminder(2 * H),
            StepKey::Step(Action::RemindJournalist),
            StepKey::Step(Action::AlertTier(1)),
            StepKey::Step(Action::AlertTier(2)),
            StepKey::Step(Action::Release),
        ]
    );
    // Each fired step's moment is one the pretend plan gives.
    let pretend_deadline = H + 7 * D;
    for fired in &s.with_duress_view().state.fired {
        assert!(fired.due_ms >= pretend_deadline - 2 * H, "{fired:?}");
    }
}

#[test]
fn a_check_in_the_coercer_sees_ends_the_pretend_pause_and_the_real_key_does_not_touch_it() {
    let mut s = subject();
    let mut shown = s.with_duress_view();
    shown.state.pause(H, 10 * D);
    keep(&mut s, &shown, H);
    assert_eq!(s.with_duress_view().state.paused_until_ms, Some(10 * D));
    assert_eq!(s.state.paused_until_ms, None, "nothing really paused");
    // A real-key check-in is invisible to the pretend world.
    s.state.check_in(2 * H, false);
    assert_eq!(summary(&s, 2 * H).unwrap().paused_until_ms, Some(10 * D));
    assert_eq!(s.with_duress_view().state.last_checkin_ms, None);
    // The phone (either PIN) or the decoy checks in: the pretend pause ends, a new pretend
    // cycle starts, under the plan the decoy shows (the real one, as it was copied).
    check_in(&mut s, 3 * H);
    let seen = seen_by_phone(&s);
    assert_eq!(seen.state.paused_until_ms, None);
    assert_eq!(seen.state.last_checkin_ms, Some(3 * H));
    assert_eq!(
        seen.state
            .outlook(seen.plan.as_ref().unwrap(), 3 * H)
            .unwrap()
            .deadline_ms,
        Some(3 * H + D)
    );
}

#[test]
fn a_view_stored_before_it_had_a_schedule_uses_the_real_one_with_its_pause() {
    let mut s = subject();
    s.duress_view = Some(DuressView {
        plan: Some(plan(7 * D)),
        paused_until_ms: Some(5 * D),
        directory: None,
        state: None,
        since_ms: None,
    });
    let shown = s.with_duress_view();
    assert_eq!(shown.state.paused_until_ms, Some(5 * D));
    assert_eq!(shown.state.cycle_start_ms, 0);
    check_in(&mut s, H);
    assert!(s.duress_view.as_ref().unwrap().state.is_some());
    assert_eq!(s.duress_view.as_ref().unwrap().paused_until_ms, None);
}

/// One thing that can happen to a subject, in a random history.
#[derive(Debug, Clone)]
enum Event {
    Advance(i64),
    RealCheckIn,
    /// A check-in the coercer can make: the duress key, or the phone with either PIN
    /// (`true`: the duress PIN or key).
    SeenCheckIn(bool),
    /// A plan of this many hours forced from the decoy.
    ForcedPlan(i64),
    /// A pause of this many hours forced from the decoy.
    ForcedPause(i64),
}

fn event() -> impl proptest::strategy::Strategy<Value = Event> {
    use proptest::prelude::*;
    prop_oneof![
        5 => (0i64..30 * H).prop_map(Event::Advance),
        2 => Just(Event::RealCheckIn),
        2 => any::<bool>().prop_map(Event::SeenCheckIn),
        1 => (1i64..200).prop_map(Event::ForcedPlan),
        1 => (1i64..100).prop_map(Event::ForcedPause),
    ]
}

/// The real ladder's events without reminders, as comparable tuples.
fn ladder(events: &[Emitted]) -> Vec<(Action, i64, i64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Emitted::Step {
                action,
                due_ms,
                deadline_ms,
                ..
            } if *action != Action::RemindJournalist => Some((*action, *due_ms, *deadline_ms)),
            _ => None,
        })
        .collect()
}

proptest::proptest! {
    /// For any history of real, duress and phone check-ins, forced plans and pauses: the real
    /// ladder (tiers and release) fires exactly as it would with no pretend world at all;
    /// while one exists no real reminder reaches the journalist; and every step the pretend
    /// view shows as fired is a step of the pretend plan, fired no earlier than it was due.
    #[test]
    fn the_pretend_world_never_changes_the_real_ladder_and_shows_only_its_own_steps(
        events in proptest::collection::vec(event(), 1..60)
    ) {
        let mut s = subject();
        // The same history without any pretend world: what the real ladder must do.
        let mut shadow = subject();
        let mut now = 0i64;
        for event in events {
            match event {
                Event::Advance(d) => now += d,
                Event::RealCheckIn => {
                    s.state.check_in(now, false);
                    shadow.state.check_in(now, false);
                }
                Event::SeenCheckIn(duress) => {
                    s.state.check_in(now, duress);
                    check_in(&mut s, now);
                    shadow.state.check_in(now, duress);
                }
                Event::ForcedPlan(hours) => {
                    let mut shown = s.with_duress_view();
                    shown.plan = Some(plan(hours * H));
                    shown.state.check_in(now, false);
                    keep(&mut s, &shown, now);
                }
                Event::ForcedPause(hours) => {
                    let mut shown = s.with_duress_view();
                    shown.state.pause(now, now + hours * H);
                    keep(&mut s, &shown, now);
                }
            }
            let pretend = s.duress_view.is_some();
            let due = fire_due(&mut s, now).unwrap();
            let expected = shadow.state.fire_due(shadow.plan.as_ref().unwrap(), now).unwrap();
            proptest::prop_assert_eq!(ladder(&due.real), ladder(&expected));
            if pretend {
                proptest::prop_assert!(due.real.iter().all(|e| !to_journalist(e)));
            }
            let shown = s.with_duress_view();
            if let (true, Some(plan)) = (pretend, &shown.plan) {
                for fired in &shown.state.fired {
                    let in_plan = match fired.key {
                        StepKey::Reminder(before) => plan.reminders_ms.contains(&before),
                        StepKey::Step(action) => plan.steps.iter().any(|st| st.action == action),
                    };
                    proptest::prop_assert!(in_plan, "{fired:?} is not a step of {plan:?}");
                    proptest::prop_assert!(fired.due_ms <= fired.fired_ms);
                }
                // The phone and the decoy read the same world.
                proptest::prop_assert_eq!(&seen_by_phone(&s).state, &shown.state);
            }
        }
    }
}
