//! The pretend world: what a coerced journalist was made to set with the duress key (a plan,
//! a pause, contacts), kept apart from the real switch and shown the same way to everything
//! the coercer can ask. A coercer holding the laptop and the phone can compare the decoy's
//! status, the phone's answer (with either PIN) and the reminders the journalist receives;
//! while a pretend world exists all three follow it, so they agree. The real ladder (tiers 1
//! and up, release) keeps running on the real plan: that is the point of the switch.
//!
//! The pretend world has its own schedule state (cycle, check-ins, pause, fired steps), run by
//! the same pure machine as the real one, so the steps it shows as fired are exactly those the
//! pretend plan allows. Of its steps only reminders to the journalist (tier 0) are carried
//! out; the others are only marked fired, for the status. Real reminders are held back while
//! it exists: two schedules reaching the journalist's phone would give the game away.
//!
//! It ends only with a request signed with the real key (`end-pretend`): a check-in with the
//! real key or the real PIN does not end it, since the coercer may still hold the phone and
//! must see nothing change. Pure functions over a [`Subject`]; the service stores and answers.

use super::store::{DuressView, Subject};
use crate::plan::Action;
use crate::plan::schedule::{Emitted, ScheduleError};
use crate::protocol::PretendStatus;

/// Whether an event reaches the journalist (tier 0) rather than the contacts.
pub fn to_journalist(event: &Emitted) -> bool {
    matches!(
        event,
        Emitted::Step {
            action: Action::RemindJournalist,
            ..
        }
    )
}

/// What fell due at one moment in the two worlds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Due {
    /// The real ladder's events (without reminders while a pretend world exists).
    pub real: Vec<Emitted>,
    /// The pretend world's reminders, for the journalist's own contacts.
    pub reminders: Vec<Emitted>,
    /// Every step the pretend world marked fired (its reminders among them), for the
    /// history the duress key is shown.
    pub pretend: Vec<Emitted>,
}

impl Due {
    pub fn is_empty(&self) -> bool {
        self.real.is_empty() && self.reminders.is_empty() && self.pretend.is_empty()
    }
}

/// Marks everything due at `now_ms` fired, in both worlds, and returns what to carry out.
pub fn fire_due(subject: &mut Subject, now_ms: i64) -> Result<Due, ScheduleError> {
    let mut due = Due::default();
    if let Some(plan) = &subject.plan {
        due.real = subject.state.fire_due(plan, now_ms)?;
    }
    if let Some(view) = &mut subject.duress_view {
        due.real.retain(|e| !to_journalist(e));
        if let Some(plan) = &view.plan {
            let mut state = view.schedule(&subject.state);
            let fired = state.fire_due(plan, now_ms)?;
            view.paused_until_ms = state.paused_until_ms;
            view.state = Some(state);
            due.reminders = fired.iter().filter(|e| to_journalist(e)).cloned().collect();
            due.pretend = fired;
        }
    }
    Ok(due)
}

/// The earliest moment something falls due in either world.
pub fn next_wake(subject: &Subject, now_ms: i64) -> Option<i64> {
    let real = subject
        .plan
        .as_ref()
        .and_then(|plan| subject.state.outlook(plan, now_ms).ok())
        .and_then(|o| o.next_wake_ms);
    let pretend = subject.duress_view.as_ref().and_then(|view| {
        let plan = view.plan.as_ref()?;
        view.schedule(&subject.state)
            .outlook(plan, now_ms)
            .ok()?
            .next_wake_ms
    });
    match (real, pretend) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A check-in the coercer can see (the duress key, or the phone with either PIN): it starts a
/// new pretend cycle and ends a pretend pause, as it would in the real world. Nothing it
/// emits is sent: an all-clear of the pretend world would go to nobody real.
pub fn check_in(subject: &mut Subject, at_ms: i64) {
    if let Some(view) = &mut subject.duress_view {
        let mut state = view.schedule(&subject.state);
        state.check_in(at_ms, false);
        view.paused_until_ms = state.paused_until_ms;
        view.state = Some(state);
    }
}

/// Records `shown` (the subject as the duress key sees it, after a change) as the pretend
/// world.
pub fn keep(subject: &mut Subject, shown: &Subject, at_ms: i64) {
    let since_ms = subject
        .duress_view
        .as_ref()
        .and_then(|v| v.since_ms)
        .or(Some(at_ms));
    subject.duress_view = Some(DuressView {
        plan: shown.plan.clone(),
        paused_until_ms: shown.state.paused_until_ms,
        directory: Some(shown.directory.clone()),
        state: Some(shown.state.clone()),
        since_ms,
    });
}

/// The subject as the coerced side sees it where it cannot tell the keys or PINs apart (the
/// phone): the pretend world while there is one, else the real one.
pub fn seen_by_phone(subject: &Subject) -> Subject {
    if subject.duress_view.is_some() {
        subject.with_duress_view()
    } else {
        subject.clone()
    }
}

/// The subject whose plan and schedule the pretend reminders are written from: the pretend
/// ones, with the journalist's real contacts (the decoy's are not where the journalist reads).
pub fn reminder_subject(subject: &Subject) -> Subject {
    let mut shown = subject.with_duress_view();
    shown.directory = subject.directory.clone();
    shown
}

/// What the real key is told about the pretend world, so that the journalist, free again,
/// learns what the coercer was shown (and that an episode happened at all).
pub fn summary(subject: &Subject, now_ms: i64) -> Option<PretendStatus> {
    let view = subject.duress_view.as_ref()?;
    let state = view.schedule(&subject.state);
    Some(PretendStatus {
        since_ms: view.since_ms,
        plan: view.plan.as_ref().map(crate::plan::Plan::describe),
        deadline_ms: view
            .plan
            .as_ref()
            .and_then(|plan| state.outlook(plan, now_ms).ok())
            .and_then(|o| o.deadline_ms),
        paused_until_ms: state.paused_until_ms.filter(|until| *until > now_ms),
    })
}

#[cfg(test)]
mod tests;
