//! A journalist leaving: their signed `unenrol` (see `requests`) and the operator's removal.
//! Both forget the subject the same way: the alerts its last events still owe are built
//! first, then the subject and its phones go in one commit; its queued actions, links and
//! bundle files go with the next round of the delivery loop (and, after a crash, at the
//! next start), a sweep of whatever no stored subject owns.
//!
//! Neither cuts short what is under way for the contacts: while alerts of the current cycle
//! went out and no check-in answered them, or while a released bundle's links work, the
//! subject is kept ([`leave_block`]); the operator may insist. Deliveries already in the
//! outbox are sent whatever happens to the subject: they carry their whole text.

use std::sync::atomic::Ordering;

use super::*;
use crate::plan::Action;
use crate::plan::schedule::StepKey;
use crate::watch::store::{LeaveBlock, Removal};

/// What keeps `subject` from being forgotten at `now_ms`, if anything.
pub(super) fn leave_block(subject: &Subject, now_ms: i64) -> Option<LeaveBlock> {
    let steps: Vec<String> = subject
        .state
        .fired
        .iter()
        .filter_map(|f| match f.key {
            StepKey::Step(action @ (Action::AlertTier(_) | Action::Release)) => {
                Some(action.label())
            }
            _ => None,
        })
        .collect();
    if !steps.is_empty() {
        return Some(LeaveBlock::AlertsUnderWay { steps });
    }
    subject.bundles.iter().find_map(|b| {
        b.frozen(now_ms)
            .map(|(_, until)| LeaveBlock::BundleReleased {
                id: b.id.clone(),
                until_ms: until,
            })
    })
}

impl From<LeaveBlock> for Refusal {
    fn from(block: LeaveBlock) -> Self {
        match block {
            LeaveBlock::AlertsUnderWay { steps } => Refusal::new(
                409,
                "alerts_under_way",
                format!(
                    "alerts about you went out in this cycle ({}) and no check-in has answered \
                     them: check in first, so that your contacts hear the all-clear",
                    steps.join(", ")
                ),
            ),
            LeaveBlock::BundleReleased { id, until_ms } => Refusal::new(
                409,
                "bundle_released",
                format!(
                    "bundle {id} was released, and its recipients can download it until {}: \
                     this watcher keeps you until then",
                    bundles::utc_day(until_ms)
                ),
            ),
        }
    }
}

/// The answer to `unenrol`, the same under either key: the name, nothing else.
pub(super) fn left_status(subject: &Subject) -> StatusResponse {
    StatusResponse {
        name: subject.name.clone(),
        plan: None,
        last_checkin_ms: None,
        deadline_ms: None,
        paused_until_ms: None,
        fired: Vec::new(),
        phone_token: None,
        test_results: None,
        bundles: Vec::new(),
        duress_seen_ms: None,
        pretend: None,
        phones: None,
        history: None,
        retracted: None,
    }
}

impl Watcher {
    /// Forgets the subject `id` (the operator's `posbon watch remove`): refused while
    /// [`leave_block`] says so, unless `force`. Its leftovers are deleted before this
    /// returns.
    pub fn remove_subject(
        &self,
        id: &str,
        force: bool,
        now_ms: i64,
    ) -> Result<Removal, StoreError> {
        let store = self.store();
        let Some(mut subject) = store.subject(id)? else {
            return Ok(Removal::Unknown);
        };
        if !force && let Some(block) = leave_block(&subject, now_ms) {
            return Ok(Removal::Refused { block });
        }
        self.forget(&store, &mut subject, now_ms)?;
        drop(store);
        self.flush_and_publish()?;
        // Removed either way; what it left goes now, or at the next round if this fails.
        if let Err(e) = self.forget_leftovers() {
            warn!(error = %e, "what a removed journalist left could not all be deleted yet");
        }
        info!(subject = %subject.id, "removed by the operator");
        Ok(Removal::Removed { name: subject.name })
    }

    /// Builds the alerts `subject`'s unstaged events still owe (they go out all the same),
    /// then deletes it; the rest goes with [`Watcher::forget_leftovers`].
    pub(super) fn forget(
        &self,
        store: &Store,
        subject: &mut Subject,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if !subject.unstaged.is_empty() {
            self.commit_fired(store, subject, &pretend::Due::default(), now_ms)?;
        }
        store.remove_subject(subject)?;
        self.leftovers.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Deletes what forgotten subjects left behind, if any may be left: their queued
    /// actions, links and phone entries (and the write-ahead log's copies of them), and
    /// their bundle files, overwritten first. Runs at the delivery loop's rounds, and once
    /// after every start (a crash may have come between a removal and its sweep).
    pub fn forget_leftovers(&self) -> Result<(), StoreError> {
        if !self.leftovers.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let swept = self.sweep_leftovers();
        if swept.is_err() {
            self.leftovers.store(true, Ordering::SeqCst);
        }
        swept
    }

    fn sweep_leftovers(&self) -> Result<(), StoreError> {
        let mut doomed = Vec::new();
        {
            // Under the store lock: no subject is enrolled, and no bundle put in place,
            // between the look at who is known and the renaming of what is not.
            let store = self.store();
            store.delete_orphans()?;
            let known = store.subject_ids()?;
            let Ok(entries) = std::fs::read_dir(&self.bundle_dir) else {
                return Ok(());
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = entry.path();
                if name.starts_with(".removed-") {
                    doomed.push(path);
                } else if !known.contains(&name) {
                    let aside = self.bundle_dir.join(format!(".removed-{name}"));
                    if std::fs::rename(&path, &aside).is_ok() {
                        doomed.push(aside);
                    }
                }
            }
        }
        let mut failed = None;
        for dir in doomed {
            let files = std::fs::read_dir(&dir).into_iter().flatten().flatten();
            for file in files {
                if let Err(e) = crate::fsprotect::shred(&file.path()) {
                    failed = Some((file.path(), e));
                }
            }
            if let Err(e) = std::fs::remove_dir(&dir) {
                failed = Some((dir, e));
            }
        }
        match failed {
            Some((path, source)) => Err(StoreError::Io { path, source }),
            None => Ok(()),
        }
    }
}

/// Where a journalist's plan stands, as the operator's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanState {
    NoPlan,
    Paused {
        until_ms: i64,
    },
    /// Steps past the reminders fired in this cycle, unanswered by a check-in.
    Alerting {
        steps: Vec<String>,
    },
    Due {
        deadline_ms: i64,
    },
    /// The schedule cannot be computed (a plan stored damaged).
    Unknown,
}

/// A journalist as the operator's list shows them: no keys, no contacts' addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journalist {
    pub id: String,
    /// The name given at invite.
    pub name: String,
    pub enrolled_ms: i64,
    pub last_checkin_ms: Option<i64>,
    pub plan: PlanState,
    /// Phones, without those removed under duress (still enrolled; the operator need not
    /// tell a coercer that they are).
    pub phones: usize,
    pub bundles: usize,
    pub contacts: usize,
}

/// The journalists of the watcher in `data`, by name, read beside a running daemon.
pub fn journalists(data: &Path, now_ms: i64) -> Result<Vec<Journalist>, StoreError> {
    let mut out: Vec<Journalist> = crate::watch::store::read_subjects(data)?
        .into_iter()
        .map(|subject| {
            let plan = match (&subject.plan, leave_block(&subject, now_ms)) {
                (None, _) => PlanState::NoPlan,
                (Some(_), Some(LeaveBlock::AlertsUnderWay { steps })) => {
                    PlanState::Alerting { steps }
                }
                (Some(plan), _) => match subject.state.paused_until_ms {
                    Some(until_ms) if until_ms > now_ms => PlanState::Paused { until_ms },
                    _ => match subject.state.outlook(plan, now_ms) {
                        Ok(outlook) => outlook
                            .deadline_ms
                            .map_or(PlanState::Unknown, |deadline_ms| PlanState::Due {
                                deadline_ms,
                            }),
                        Err(_) => PlanState::Unknown,
                    },
                },
            };
            Journalist {
                plan,
                last_checkin_ms: subject.state.last_checkin_ms,
                phones: subject.phones.iter().filter(|p| !p.hidden).count(),
                bundles: subject.bundles.len(),
                contacts: subject.directory.contacts.len(),
                enrolled_ms: subject.enrolled_ms,
                name: subject.name,
                id: subject.id,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.name.to_lowercase(), a.enrolled_ms).cmp(&(b.name.to_lowercase(), b.enrolled_ms))
    });
    Ok(out)
}
