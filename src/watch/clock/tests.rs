//! The trust anchor under made-up readings: agreement, jumps both ways, restarts, and the
//! operator's confirmation.

use std::sync::Arc;

use super::*;

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn reading(wall_ms: i64, mono_ms: i64) -> Reading {
    Reading { wall_ms, mono_ms }
}

#[test]
fn clocks_that_agree_give_the_wall_clock() {
    let anchor = Anchor::at(reading(1_000 * MIN, 5), None);
    // An NTP correction of a few seconds either way is followed as it is.
    for (wall, mono) in [
        (1_010 * MIN, 5 + 10 * MIN),
        (1_010 * MIN + 3_000, 5 + 10 * MIN),
    ] {
        let judged = anchor.judge(reading(wall, mono));
        assert_eq!(judged.agreement, Agreement::Agree);
        assert_eq!(judged.now_ms, wall);
    }
}

#[test]
fn a_forward_jump_is_held_at_the_trusted_time() {
    let anchor = Anchor::at(reading(1_000 * MIN, 0), None);
    // Ten real minutes later the wall clock says a day and ten minutes.
    let judged = anchor.judge(reading(1_000 * MIN + DAY + 10 * MIN, 10 * MIN));
    assert_eq!(judged.agreement, Agreement::Ahead);
    assert_eq!(judged.trusted_ms, 1_010 * MIN);
    assert_eq!(judged.skew_ms, DAY);
    // The watcher acts on the real time elapsed, not on the jump.
    assert_eq!(judged.now_ms, 1_010 * MIN);
}

#[test]
fn a_backward_jump_keeps_the_trusted_time_running() {
    let anchor = Anchor::at(reading(1_000 * MIN, 0), None);
    let judged = anchor.judge(reading(1_000 * MIN - DAY + 10 * MIN, 10 * MIN));
    assert_eq!(judged.agreement, Agreement::Behind);
    assert_eq!(judged.skew_ms, -DAY);
    // Not late by the size of the jump: the real time elapsed.
    assert_eq!(judged.now_ms, 1_010 * MIN);
}

#[test]
fn a_jump_just_past_the_tolerance_counts_and_one_within_it_does_not() {
    let anchor = Anchor::at(reading(1_000 * MIN, 0), None);
    let within = anchor.judge(reading(1_000 * MIN + TOLERANCE_MS, 0));
    assert_eq!(within.agreement, Agreement::Agree);
    let past = anchor.judge(reading(1_000 * MIN + TOLERANCE_MS + 1, 0));
    assert_eq!(past.agreement, Agreement::Ahead);
    assert_eq!(past.now_ms, 1_000 * MIN);
}

#[test]
fn a_monotonic_clock_running_back_counts_no_time() {
    let anchor = Anchor::at(reading(1_000 * MIN, 10 * MIN), None);
    let judged = anchor.judge(reading(1_000 * MIN, 0));
    assert_eq!(judged.trusted_ms, 1_000 * MIN);
    assert_eq!(judged.agreement, Agreement::Agree);
}

#[test]
fn a_restart_in_the_same_boot_keeps_the_anchor_and_a_reboot_trusts_the_wall_clock() {
    let boot = Some("boot-a".to_string());
    let saved = Anchor::at(reading(1_000 * MIN, 5 * MIN), boot.clone());
    // The daemon restarts an hour later, the wall clock a day ahead: still caught.
    let now = reading(1_000 * MIN + DAY + 60 * MIN, 65 * MIN);
    let resumed = Anchor::resume(Some(saved.clone()), now, boot.clone());
    assert_eq!(resumed, saved);
    assert_eq!(resumed.judge(now).agreement, Agreement::Ahead);
    // Another boot: the monotonic reading means nothing, the wall clock is trusted.
    let other = Anchor::resume(Some(saved.clone()), now, Some("boot-b".into()));
    assert_eq!(other.judge(now).agreement, Agreement::Agree);
    // No boot id known: never reused.
    let unknown = Anchor::resume(Some(saved), now, None);
    assert_eq!(unknown.wall_ms, now.wall_ms);
}

#[test]
fn the_guarded_clock_holds_a_jump_until_the_operator_accepts_it_and_saves_the_anchor() {
    let data = tempfile::tempdir().unwrap();
    let manual = Arc::new(ManualClock::new(1_000 * MIN));
    let clock = GuardedClock::resume_in(Box::new(manual.clone()), data.path()).unwrap();
    assert!(data.path().join(ANCHOR_FILE).exists());
    manual.advance(MIN);
    assert_eq!(clock.now_ms(), 1_001 * MIN);
    manual.jump_wall(DAY);
    assert_eq!(clock.judge().agreement, Agreement::Ahead);
    assert_eq!(clock.now_ms(), 1_001 * MIN);
    // A restart within the same boot still sees the jump.
    let restarted = GuardedClock::resume_in(Box::new(manual.clone()), data.path()).unwrap();
    assert_eq!(restarted.judge().agreement, Agreement::Ahead);
    // The operator confirms the clock: the new time is trusted, here and after a restart.
    let accepted = restarted.accept().unwrap();
    assert_eq!(accepted.agreement, Agreement::Agree);
    assert_eq!(accepted.now_ms, 1_001 * MIN + DAY);
    let again = GuardedClock::resume_in(Box::new(manual.clone()), data.path()).unwrap();
    assert_eq!(again.judge().agreement, Agreement::Agree);
}
