//! The escalation round under a fake clock, on a real store in a temporary directory: jumps
//! of the wall clock both ways, the operator's confirmation, and check-ins that arrive before
//! the first round after a restart. Nothing sleeps: the clock is moved by hand.

use std::sync::Arc;

use ring::signature::Ed25519KeyPair;

use super::*;
use crate::plan::schedule::{Emitted, State};
use crate::plan::{Plan, Schedule};
use crate::protocol::{self, ops};
use crate::watch::clock::{GuardedClock, ManualClock};
use crate::watch::outbox::RetryPolicy;
use crate::watch::store::{Store, Subject};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
/// The test's start: some ordinary moment in 2026.
const T0: i64 = 1_780_000_000_000;

/// Every 10 minutes, 5 minutes' grace: remind at 15, tier 1 at 20, tier 2 at 25, release at
/// 30 minutes after the cycle starts.
fn plan() -> Plan {
    Plan {
        schedule: Schedule::Every { every_ms: 10 * MIN },
        grace_ms: 5 * MIN,
        reminders_ms: vec![],
        steps: Plan::default_steps(5 * MIN),
        release_on_duress: false,
    }
}

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    clock: Arc<ManualClock>,
    watcher: Watcher,
    device: Ed25519KeyPair,
}

/// A watcher with one subject whose cycle started at [`T0`], on a fake clock at `T0`.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("watcher");
    let device = key();
    {
        let store = Store::open(&data).unwrap();
        let mut subject = Subject::enrolled(
            "s1".into(),
            "Nilufar".into(),
            protocol::public_key(&device),
            protocol::public_key(&key()),
            T0,
        );
        subject.plan = Some(plan());
        subject.state = State::starting(T0);
        store.commit(&subject, &[], T0).unwrap();
    }
    let clock = Arc::new(ManualClock::new(T0));
    let guarded = GuardedClock::resume_in(Box::new(clock.clone()), &data).unwrap();
    let watcher =
        Watcher::open_with_clock(&data, RetryPolicy::default(), Arc::new(guarded)).unwrap();
    Setup {
        _dir: dir,
        data,
        clock,
        watcher,
        device,
    }
}

/// The queued steps as labels (`remind`, `tier1`, ...), `all-clear` and `duress` as such.
fn queued(watcher: &Watcher) -> Vec<String> {
    watcher
        .queued()
        .unwrap()
        .iter()
        .map(|q| match &q.emitted {
            Emitted::Step { action, .. } => action.label(),
            Emitted::AllClear { .. } => "all-clear".into(),
            Emitted::Duress { .. } => "duress".into(),
            Emitted::PhoneEnrolled { .. } => "phone-enrolled".into(),
            Emitted::Retraction { .. } => "retraction".into(),
        })
        .collect()
}

fn report(data: &std::path::Path) -> ClockReport {
    serde_json::from_slice(&std::fs::read(data.join(REPORT_FILE)).unwrap()).unwrap()
}

fn check_in(s: &Setup, ts_ms: i64, counter: u64) -> Result<(), super::super::service::Refusal> {
    let request =
        protocol::sign_request(&s.device, "s1", ops::CHECKIN, ts_ms, counter, "{}".into());
    s.watcher.handle(&request, s.watcher.now_ms()).map(|_| ())
}

#[test]
fn a_forward_jump_fires_nothing_holds_the_steps_and_tells_the_operator() {
    let s = setup();
    let mut escalation = Escalation::new(Some(s.data.clone()));
    s.clock.advance(MIN);
    escalation.round(&s.watcher).unwrap();
    assert_eq!(report(&s.data).agreement, Agreement::Agree);

    // Someone sets the server's clock a day ahead.
    s.clock.jump_wall(DAY);
    let round = escalation.round(&s.watcher).unwrap();
    assert!(queued(&s.watcher).is_empty(), "nothing fired on the jump");
    assert_eq!(round.judged.agreement, Agreement::Ahead);
    let held: Vec<(String, i64)> = round
        .held
        .iter()
        .map(|h| (h.action.label(), h.due_ms - T0))
        .collect();
    assert_eq!(
        held,
        vec![
            ("remind".to_string(), 15 * MIN),
            ("tier1".to_string(), 20 * MIN),
            ("tier2".to_string(), 25 * MIN),
            ("release".to_string(), 30 * MIN)
        ]
    );
    // The operator's report says so, with the subject by id.
    let shown = report(&s.data);
    assert_eq!(shown.agreement, Agreement::Ahead);
    assert_eq!(shown.skew_ms, DAY);
    assert_eq!(shown.held, round.held);
    assert!(shown.held.iter().all(|h| h.subject == "s1"));
    // `posbon watch outbox` leads with it.
    let warning = clock_warning(&s.data).unwrap();
    assert!(warning.contains("86400 s ahead"), "{warning}");
    assert!(warning.contains("4 step(s) held"), "{warning}");
    assert!(warning.contains(ACCEPT_FILE), "{warning}");
}

#[test]
fn held_steps_fire_once_real_time_catches_up_each_on_time() {
    let s = setup();
    let mut escalation = Escalation::new(Some(s.data.clone()));
    s.clock.advance(MIN);
    s.clock.jump_wall(DAY);
    escalation.round(&s.watcher).unwrap();
    assert!(queued(&s.watcher).is_empty());
    // Real time passes; each step fires when real time reaches it, not before, and once.
    let mut fired_at = Vec::new();
    for minute in 2..=35 {
        s.clock.advance(MIN);
        let before = queued(&s.watcher).len();
        let round = escalation.round(&s.watcher).unwrap();
        let after = queued(&s.watcher);
        for label in &after[before..] {
            fired_at.push((label.clone(), minute));
        }
        assert_eq!(round.held.len() + after.len(), 4, "minute {minute}");
    }
    assert_eq!(
        fired_at,
        vec![
            ("remind".to_string(), 15),
            ("tier1".to_string(), 20),
            ("tier2".to_string(), 25),
            ("release".to_string(), 30),
        ]
    );
    assert!(report(&s.data).held.is_empty());
}

#[test]
fn the_operator_confirming_the_clock_releases_what_it_held_at_once() {
    let s = setup();
    let mut escalation = Escalation::new(Some(s.data.clone()));
    s.clock.advance(MIN);
    s.clock.jump_wall(DAY);
    escalation.round(&s.watcher).unwrap();
    assert!(queued(&s.watcher).is_empty());
    // The jump was a genuine correction: the operator says so.
    std::fs::write(s.data.join(ACCEPT_FILE), b"").unwrap();
    let round = escalation.round(&s.watcher).unwrap();
    assert_eq!(round.judged.agreement, Agreement::Agree);
    assert_eq!(queued(&s.watcher), ["remind", "tier1", "tier2", "release"]);
    assert!(!s.data.join(ACCEPT_FILE).exists(), "the request is used up");
    assert!(report(&s.data).held.is_empty());
}

#[test]
fn a_backward_jump_delays_no_step_by_its_size() {
    let s = setup();
    let mut escalation = Escalation::new(Some(s.data.clone()));
    s.clock.advance(MIN);
    s.clock.jump_wall(-DAY);
    let round = escalation.round(&s.watcher).unwrap();
    assert_eq!(round.judged.agreement, Agreement::Behind);
    assert_eq!(report(&s.data).agreement, Agreement::Behind);
    // Tier 1 is due 20 real minutes in: it fires then, not a day late.
    s.clock.advance(19 * MIN - 1);
    escalation.round(&s.watcher).unwrap();
    assert_eq!(queued(&s.watcher), ["remind"]);
    s.clock.advance(1);
    escalation.round(&s.watcher).unwrap();
    assert_eq!(queued(&s.watcher), ["remind", "tier1"]);
}

#[test]
fn a_check_in_before_the_first_round_after_a_restart_does_not_wipe_the_steps_due() {
    let s = setup();
    // The daemon was down from the start until 21 minutes in: the reminder (15) and tier 1
    // (20) fell due meanwhile. The journalist's check-in arrives before any round has run.
    s.clock.advance(21 * MIN);
    check_in(&s, s.watcher.now_ms(), 1).unwrap();
    // Both fire (as they would have with the daemon up), then the check-in's all-clear.
    assert_eq!(queued(&s.watcher), ["remind", "tier1", "all-clear"]);
    // And the round that follows fires nothing again.
    Escalation::new(None).round(&s.watcher).unwrap();
    assert_eq!(queued(&s.watcher).len(), 3);
}

#[test]
fn a_check_in_signed_before_a_step_fell_due_does_not_fire_it() {
    let s = setup();
    s.clock.advance(21 * MIN);
    // Signed at 19 minutes (a slow link): the journalist was there before tier 1 fell due.
    check_in(&s, T0 + 19 * MIN, 1).unwrap();
    assert_eq!(queued(&s.watcher), ["remind"]);
}

#[test]
fn a_forward_jump_does_not_lock_the_journalist_out_of_checking_in() {
    let s = setup();
    let mut escalation = Escalation::new(Some(s.data.clone()));
    s.clock.advance(MIN);
    s.clock.jump_wall(DAY);
    escalation.round(&s.watcher).unwrap();
    // The journalist's laptop has the right time; the watcher's wall clock is a day ahead,
    // far outside the five-minute window, yet the request is fresh on the guarded time.
    check_in(&s, T0 + MIN, 1).unwrap();
    s.clock.advance(12 * MIN);
    let round = escalation.round(&s.watcher).unwrap();
    // The new cycle runs on real time: nothing due, and the steps the jump holds are those
    // of the new cycle, as far ahead as the jump.
    assert!(queued(&s.watcher).is_empty());
    assert!(round.held.iter().all(|h| h.due_ms >= T0 + MIN + 15 * MIN));
}
