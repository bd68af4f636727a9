//! What a plan and a contact list leave uncovered: a step that alerts nobody, reminders that
//! reach nobody, a tier the plan never alerts, a bundle sealed for someone who is no longer a
//! contact. Pure: the journalist's faces show these as warnings when the plan or contacts
//! change and at every check-in and status, so the switch never fails silently.
//!
//! The rules mirror whom `dispatch` sends each step to: reminders to tier 0 (the journalist),
//! `tierN` to the contacts in tier N, the release (and a duress alarm) to every contact but
//! the journalist.

use crate::plan::{Action, Plan};
use crate::protocol::contacts::Directory;

/// One thing the plan and contacts leave uncovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// A `tierN` step, but no contact is in tier N.
    NobodyAtStep { tier: u8 },
    /// A release step, but no contact besides the journalist.
    NobodyAtRelease,
    /// Reminders are planned, but no contact is in tier 0 (the journalist).
    RemindersToNobody,
    /// Neither reminders before the deadline nor a `remind` step after it.
    NoReminders,
    /// A contact is in a tier that no step alerts.
    TierNeverAlerted { contact: String, tier: u8 },
    /// A sealed bundle names a recipient who is no longer a contact.
    BundleForNoContact { bundle: String, contact: String },
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gap::NobodyAtStep { tier } => write!(
                f,
                "the plan's step tier{tier} alerts nobody: no contact is in tier {tier} \
                 (posbon contact add NAME --tier {tier} ...)"
            ),
            Gap::NobodyAtRelease => write!(
                f,
                "the plan's release step reaches nobody: you have no contact besides yourself"
            ),
            Gap::RemindersToNobody => write!(
                f,
                "your reminders go to nobody: add yourself as a contact in tier 0 \
                 (posbon contact add Me --tier 0 --email ...)"
            ),
            Gap::NoReminders => write!(
                f,
                "you get no reminder before your contacts are alerted: add --remind-before 1h \
                 or a remind step to the plan"
            ),
            Gap::TierNeverAlerted { contact, tier } => write!(
                f,
                "{contact} is in tier {tier}, which no step of the plan alerts"
            ),
            Gap::BundleForNoContact { bundle, contact } => write!(
                f,
                "{bundle} is sealed for {contact}, who is no longer a contact: the watchers \
                 cannot deliver it to them (posbon release update, or add the contact again)"
            ),
        }
    }
}

/// A sealed bundle as the gaps need it: its name, and the contacts it is for.
pub struct SealedFor<'a> {
    pub name: &'a str,
    pub recipients: &'a [String],
}

/// What `plan` and `directory` leave uncovered (nothing when there is no plan yet).
pub fn gaps(plan: Option<&Plan>, directory: &Directory, bundles: &[SealedFor<'_>]) -> Vec<Gap> {
    let mut found = Vec::new();
    let contacts = &directory.contacts;
    if let Some(plan) = plan {
        let journalist = contacts.iter().any(|c| c.is_journalist());
        let remind_step = plan
            .steps
            .iter()
            .any(|s| s.action == Action::RemindJournalist);
        if remind_step || !plan.reminders_ms.is_empty() {
            if !journalist {
                found.push(Gap::RemindersToNobody);
            }
        } else {
            found.push(Gap::NoReminders);
        }
        let mut alerted_tiers = Vec::new();
        for step in &plan.steps {
            match step.action {
                Action::AlertTier(tier) => {
                    alerted_tiers.push(tier);
                    if !contacts.iter().any(|c| c.in_tier(tier)) {
                        found.push(Gap::NobodyAtStep { tier });
                    }
                }
                Action::Release => {
                    if !contacts.iter().any(|c| !c.is_journalist()) {
                        found.push(Gap::NobodyAtRelease);
                    }
                }
                Action::RemindJournalist => {}
            }
        }
        for contact in contacts.iter().filter(|c| !c.is_journalist()) {
            // A contact in several tiers is covered when any of them is alerted.
            if !contact.tiers.iter().any(|t| alerted_tiers.contains(t))
                && let Some(&tier) = contact.tiers.first()
            {
                found.push(Gap::TierNeverAlerted {
                    contact: contact.name.clone(),
                    tier,
                });
            }
        }
    }
    for bundle in bundles {
        for recipient in bundle.recipients {
            if directory.find(recipient).is_none() {
                found.push(Gap::BundleForNoContact {
                    bundle: bundle.name.to_string(),
                    contact: recipient.clone(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanSpec;
    use crate::protocol::contacts::{Channel, Contact, Lang};

    fn plan(steps: &[&str], remind_before: &[&str]) -> Plan {
        PlanSpec {
            every: Some("1d".into()),
            grace: "1h".into(),
            steps: steps.iter().map(|s| s.to_string()).collect(),
            remind_before: remind_before.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
        .build()
        .unwrap()
    }

    fn contact(name: &str, tiers: &[u8]) -> Contact {
        Contact {
            name: name.into(),
            role: String::new(),
            lang: Lang::Ru,
            tiers: tiers.to_vec(),
            channels: vec![Channel::Email(format!("{name}@example.org"))],
            tz: None,
            age_recipients: vec![],
            email_attach: false,
        }
    }

    fn directory(contacts: Vec<Contact>) -> Directory {
        Directory {
            contacts,
            instructions: String::new(),
        }
    }

    #[test]
    fn a_plan_with_nobody_to_alert_says_so_at_every_step() {
        let p = plan(&["remind:0s", "tier1:2h", "tier2:4h", "release:6h"], &[]);
        let found = gaps(Some(&p), &directory(vec![]), &[]);
        assert_eq!(
            found,
            [
                Gap::RemindersToNobody,
                Gap::NobodyAtStep { tier: 1 },
                Gap::NobodyAtStep { tier: 2 },
                Gap::NobodyAtRelease
            ]
        );
        // Everyone in place: nothing to say.
        let all = directory(vec![
            contact("Me", &[0]),
            contact("Editor", &[1]),
            contact("Dilnoza", &[2]),
        ]);
        assert!(gaps(Some(&p), &all, &[]).is_empty());
        // No plan yet: nothing to compare.
        assert!(gaps(None, &directory(vec![]), &[]).is_empty());
    }

    #[test]
    fn no_reminders_a_forgotten_tier_and_a_bundle_for_a_former_contact() {
        let p = plan(&["tier1:2h"], &[]);
        let dir = directory(vec![contact("Editor", &[1]), contact("Dilnoza", &[2])]);
        let recipients = vec!["Pavel".to_string(), "dilnoza".to_string()];
        let found = gaps(
            Some(&p),
            &dir,
            &[SealedFor {
                name: "bundle 1a2b3c",
                recipients: &recipients,
            }],
        );
        assert_eq!(
            found,
            [
                Gap::NoReminders,
                Gap::TierNeverAlerted {
                    contact: "Dilnoza".into(),
                    tier: 2
                },
                Gap::BundleForNoContact {
                    bundle: "bundle 1a2b3c".into(),
                    contact: "Pavel".into()
                }
            ]
        );
        // Reminders before the deadline count as reminders.
        let p = plan(&["tier1:2h", "tier2:3h"], &["30m"]);
        let with_me = directory(vec![
            contact("Me", &[0]),
            contact("Editor", &[1]),
            contact("Dilnoza", &[2]),
        ]);
        assert!(gaps(Some(&p), &with_me, &[]).is_empty());
    }
}
