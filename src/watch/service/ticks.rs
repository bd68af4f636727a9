//! The passing of time: every tick fires the steps that fell due (in the real world and the
//! pretend one), reports downloads whose notice was held back, and sweeps expired links; a
//! request fires what was overdue before it changes anything. Also the operator's view of
//! steps a wall-clock jump holds back, and plans set from the config.

use super::*;
use crate::watch::metrics;

impl Watcher {
    /// Fires every step that is due at `now_ms`; returns the earliest next wake-up.
    pub fn tick(&self, now_ms: i64) -> Result<Option<i64>, StoreError> {
        let store = self.store();
        let mut next_wake: Option<i64> = None;
        let mut fired_any = false;
        let mut failure = None;
        for mut subject in store.subjects()? {
            if subject.plan.is_none()
                && subject.duress_view.is_none()
                && subject.unstaged.is_empty()
            {
                continue;
            }
            let due = match pretend::fire_due(&mut subject, now_ms) {
                Ok(due) => due,
                Err(e) => {
                    warn!(subject = %subject.id, error = %e, "schedule error");
                    continue;
                }
            };
            // Events a request left unstaged (a crash came before their alerts were built)
            // go out with this tick.
            if !due.is_empty() || !subject.unstaged.is_empty() {
                // The queue records when each action was really stored, for the record (on
                // the guarded clock, like every other time the watcher keeps: a delivery
                // stamped with a jumped wall clock would wait out the jump before its first
                // attempt).
                if let Err(e) = self.commit_fired(&store, &mut subject, &due, self.now_ms()) {
                    // Stop here, but let what was already committed go out (below).
                    failure = Some(e);
                    break;
                }
                fired_any = true;
                for action in due.real.iter().chain(&due.reminders) {
                    info!(subject = %subject.id, ?action, "escalation step fired");
                    metrics::step_fired(action);
                }
            }
            if let Some(wake) = pretend::next_wake(&subject, now_ms) {
                next_wake = Some(next_wake.map_or(wake, |n: i64| n.min(wake)));
            }
        }
        // Downloads held back by the notice's rate limit are reported when their time comes.
        if failure.is_none() {
            match self.report_due_downloads(&store, now_ms) {
                Ok((any, next)) => {
                    fired_any |= any;
                    if let Some(at) = next {
                        next_wake = Some(next_wake.map_or(at, |n: i64| n.min(at)));
                    }
                }
                Err(e) => failure = Some(e),
            }
        }
        // Expired links go, a bounded batch a tick (their deletion needs no flush: nothing
        // is sent because of it).
        if failure.is_none()
            && let Err(e) = self.sweep_links(&store, now_ms)
        {
            failure = Some(e);
        }
        drop(store);
        // One fsync for every step of this tick; nothing acts on a queued action before it.
        if fired_any {
            self.flush_and_publish()?;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(next_wake),
        }
    }

    /// Steps due on the wall clock `wall_ms` but not at `now_ms`: held by a forward jump of
    /// the wall clock, for the operator's report. (subject id, action, due)
    pub fn held_steps(
        &self,
        now_ms: i64,
        wall_ms: i64,
    ) -> Result<Vec<(String, crate::plan::Action, i64)>, StoreError> {
        let mut held = Vec::new();
        for subject in self.store().subjects()? {
            let Some(plan) = &subject.plan else {
                continue;
            };
            if let Ok(steps) = subject.state.held(plan, now_ms, wall_ms) {
                held.extend(
                    steps
                        .into_iter()
                        .map(|(_, action, due)| (subject.id.clone(), action, due)),
                );
            }
        }
        held.sort_by_key(|(_, _, due)| *due);
        Ok(held)
    }

    /// Sets the plan of the subject called `name` (from the operator's config) when that
    /// subject has none yet. Returns false when no subject has that name.
    pub fn set_plan_by_name(
        &self,
        name: &str,
        plan: Plan,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let store = self.store();
        let mut found = false;
        for mut subject in store.subjects()?.into_iter().filter(|s| s.name == name) {
            found = true;
            match &subject.plan {
                None => {}
                Some(own) if *own == plan => continue,
                Some(_) => {
                    // The journalist's own plan wins: an operator's file must not quietly
                    // loosen (or tighten) what the journalist chose.
                    warn!(subject = %subject.id, "has its own plan; the config's plan is not applied");
                    continue;
                }
            }
            subject.state = State::starting(now_ms);
            subject.plan = Some(plan.clone());
            store.commit(&subject, &[], now_ms)?;
            store.flush()?;
            info!(subject = %subject.id, "plan set from the config");
        }
        Ok(found)
    }
}

/// Fires the steps of `subject` that fell due by `at_ms` and were not fired yet. Called
/// before a request changes the cycle: a check-in (or pause, or plan change) arriving before
/// the escalation loop's first tick after a restart, or between a step falling due and the
/// tick that fires it, must not wipe that step out: the alert goes out (then the all-clear
/// the check-in brings), exactly as if the daemon had been watching all along.
pub(super) fn fire_overdue(subject: &mut Subject, at_ms: i64) -> Vec<Emitted> {
    let Some(plan) = &subject.plan else {
        return Vec::new();
    };
    match subject.state.fire_due(plan, at_ms) {
        Ok(mut emitted) => {
            if subject.duress_view.is_some() {
                // While a pretend world exists the journalist's reminders follow it (the next
                // tick sends them); the real ladder's are held back, as in `pretend::fire_due`.
                emitted.retain(|e| !pretend::to_journalist(e));
            }
            for action in &emitted {
                info!(subject = %subject.id, ?action, "escalation step fired before a request");
            }
            emitted
        }
        Err(e) => {
            // As in a tick: a plan that cannot be computed fires nothing, and stops nothing.
            warn!(subject = %subject.id, error = %e, "schedule error");
            Vec::new()
        }
    }
}
