//! The records the watcher keeps, as they are serialised into the database: the subject
//! (keys, counter, plan, schedule state, phones, bundles, the pretend world), the queued
//! actions, and the entries of acknowledgement and download links; and [`Outgoing`], what
//! one change sends out. Their JSON is the on-disk format (the same bytes posbon 0.1 kept in
//! sled), so a field added later comes with a default.

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::plan::schedule::{Emitted, State};
use crate::protocol::contacts::Directory;
use crate::watch::outbox::Delivery;
use crate::watch::phone::Phone;

/// A journalist known to this watcher.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subject {
    pub id: String,
    pub name: String,
    /// Raw Ed25519 public keys.
    pub device_key: Vec<u8>,
    pub duress_key: Vec<u8>,
    /// The highest request counter accepted; anything not above it is a replay.
    pub counter: u64,
    pub plan: Option<Plan>,
    pub state: State,
    pub enrolled_ms: i64,
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// One-time phone enrolment links not used yet.
    #[serde(default)]
    pub phone_invites: Vec<PhoneInvite>,
    /// What requests signed with the duress key asked to change (and were told happened).
    #[serde(default)]
    pub duress_view: Option<DuressView>,
    /// Who the alerts go to, and the journalist's instructions to them.
    #[serde(default)]
    pub directory: Directory,
    /// The id of the last ladder alert sent.
    #[serde(default)]
    pub last_alert: Option<String>,
    /// (contact, alert id) of every ladder alert sent since the last all-clear: who must
    /// hear the all-clear, and which alerts it ends for them.
    #[serde(default)]
    pub alerted: Vec<(String, String)>,
    /// The cycle that a duress check-in started, so its alerts can say so.
    #[serde(default)]
    pub duress_cycle: Option<u64>,
    /// When the last silent duress alert went out (the moment its request names), so that
    /// one coercion episode alerts once; cleared by a real check-in.
    #[serde(default)]
    pub duress_alerted_ms: Option<i64>,
    /// Sealed release bundles held for this subject (the files are in `DATA/bundles/`).
    #[serde(default)]
    pub bundles: Vec<BundleMeta>,
    /// Bundles the duress key "stored": their descriptions only (the files are never kept
    /// and never released), shown back to the duress key so that the decoy's `release
    /// check` agrees with what it sealed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duress_bundles: Vec<BundleMeta>,
    /// When a request signed with the duress key, or the phone's duress PIN, was last
    /// accepted: shown to the real key only, so the journalist learns of an episode later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duress_seen_ms: Option<i64>,
    /// Events a request emitted whose alerts are not built yet: they are built after the
    /// answer (see `Watcher::stage_deferred`), so that a duress answer costs what a real one
    /// does. Stored with the change, so a crash before the alerts are built loses nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unstaged: Vec<Emitted>,
    /// The silent duress alerts sent, the latest last (at most [`DURESS_ALARMS_KEPT`]): whom
    /// each reached, and whether the journalist took it back (`posbon duress retract`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duress_alarms: Vec<DuressAlarm>,
}

/// How many duress alerts a subject remembers for retractions.
pub const DURESS_ALARMS_KEPT: usize = 20;

/// A silent duress alert that went out, as a retraction needs it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DuressAlarm {
    pub id: String,
    pub at_ms: i64,
    /// The contacts it went to.
    pub contacts: Vec<String>,
    /// When the journalist took it back, if they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retracted_ms: Option<i64>,
}

impl Subject {
    /// The duress alerts not yet taken back, and every contact they reached (each once, in
    /// the order first reached).
    pub fn retractable(&self) -> (Vec<String>, Vec<String>) {
        let mut alerts = Vec::new();
        let mut contacts: Vec<String> = Vec::new();
        for alarm in self
            .duress_alarms
            .iter()
            .filter(|a| a.retracted_ms.is_none())
        {
            alerts.push(alarm.id.clone());
            for name in &alarm.contacts {
                if !contacts.contains(name) {
                    contacts.push(name.clone());
                }
            }
        }
        (alerts, contacts)
    }
}

/// A bundle this watcher holds (and cannot read).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BundleMeta {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub recipients: Vec<String>,
    pub stored_ms: i64,
    /// The journalist's version of this bundle (increasing per id; 0 from clients before
    /// versions). The release alert states it, so lawyers can compare watchers.
    #[serde(default)]
    pub version: u64,
    /// When it was first released (download links made for it), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_ms: Option<i64>,
    /// Until when its download links work: until then it is frozen (neither replaced nor
    /// removed), so the links serve exactly what the signed alert names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_until_ms: Option<i64>,
}

impl BundleMeta {
    /// `Some((released, until))` while its download links still work.
    pub fn frozen(&self, now_ms: i64) -> Option<(i64, i64)> {
        match (self.released_ms, self.released_until_ms) {
            (Some(at), Some(until)) if until > now_ms => Some((at, until)),
            _ => None,
        }
    }
}

/// A download link for a released bundle (stored under the token's hash, never the token).
/// Not limited in uses: the file is useless without the lawyer's key, and a count would let
/// whoever sees the link use it up before the lawyer does. Only time ends it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DownloadEntry {
    pub subject: String,
    pub bundle: String,
    pub contact: String,
    pub expires_ms: i64,
    /// The SHA-256 the alert named: the link serves that file or nothing.
    #[serde(default)]
    pub sha256: String,
    /// The kind of channel the link went out on (`email`, `webhook`...), for the notice.
    #[serde(default)]
    pub channel: String,
    /// Downloads through this link so far.
    #[serde(default)]
    pub downloads: u32,
    /// Downloads not yet reported to the contact (see `Watcher::download`).
    #[serde(default)]
    pub unreported: u32,
    /// When the first of them happened.
    #[serde(default)]
    pub unreported_since_ms: Option<i64>,
    /// When the contact was last told of a download through this link.
    #[serde(default)]
    pub reported_ms: Option<i64>,
    /// How many times they were told (the notices come ever less often).
    #[serde(default)]
    pub notices: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneInvite {
    /// SHA-256 (hex) of the token.
    pub hash: String,
    pub expires_ms: i64,
    /// Made by a duress request: the phone it sets up only raises silent alarms.
    pub duress: bool,
}

/// The pretend world: the plan, pause and contacts a coerced client was told it set, and
/// the schedule they run on (see `watch::pretend`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuressView {
    pub plan: Option<Plan>,
    /// Kept equal to `state.paused_until_ms`; views stored before `state` have only this.
    pub paused_until_ms: Option<i64>,
    #[serde(default)]
    pub directory: Option<Directory>,
    /// The pretend schedule: its own cycle, check-ins, pause and fired steps, so that what
    /// the coerced side is shown can only be what the pretend plan allows. `None` in views
    /// stored before it was kept: the real state (with the view's pause) stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// When the first duress change made this view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
}

impl DuressView {
    /// The pretend schedule state, given the real one (for views stored before it was kept).
    pub fn schedule(&self, real: &State) -> State {
        self.state.clone().unwrap_or_else(|| State {
            paused_until_ms: self.paused_until_ms,
            ..real.clone()
        })
    }
}

impl Subject {
    /// A journalist just enrolled with these keys: no plan, no contacts, nothing sent yet.
    /// The one place a subject is made, so that a new field is set in one place.
    pub fn enrolled(
        id: String,
        name: String,
        device_key: Vec<u8>,
        duress_key: Vec<u8>,
        enrolled_ms: i64,
    ) -> Subject {
        Subject {
            id,
            name,
            device_key,
            duress_key,
            counter: 0,
            plan: None,
            state: State::default(),
            enrolled_ms,
            phones: Vec::new(),
            phone_invites: Vec::new(),
            duress_view: None,
            directory: Directory::default(),
            last_alert: None,
            alerted: Vec::new(),
            duress_cycle: None,
            duress_alerted_ms: None,
            bundles: Vec::new(),
            duress_bundles: Vec::new(),
            duress_seen_ms: None,
            unstaged: Vec::new(),
            duress_alarms: Vec::new(),
        }
    }

    /// The subject as requests signed with the duress key must see it. The contacts are
    /// never the real ones: the decoy vault starts with none, and a coercer must learn
    /// nothing of who would be alerted.
    pub fn with_duress_view(&self) -> Subject {
        let mut shown = self.clone();
        shown.directory = Directory::default();
        // Whether bundles exist, or go out on duress, is nothing a coercer may learn.
        shown.bundles.clear();
        if let Some(plan) = &mut shown.plan {
            plan.release_on_duress = false;
        }
        if let Some(view) = &self.duress_view {
            shown.plan = view.plan.clone();
            shown.state = view.schedule(&self.state);
            shown.directory = view.directory.clone().unwrap_or_default();
        }
        shown.bundles = self.duress_bundles.clone();
        shown
    }
}

/// One action the escalation produced, waiting to be carried out (alert delivery drains it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueuedAction {
    pub subject: String,
    pub name: String,
    pub emitted: Emitted,
    pub queued_ms: i64,
}

/// An acknowledgement link of one contact for one alert (stored under the token's hash).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AckEntry {
    pub subject: String,
    pub alert_id: String,
    pub contact: String,
    /// The other contacts who received the same alert: they are told of the acknowledgement.
    pub others: Vec<String>,
    pub acked_ms: Option<i64>,
    /// The hashes of the same contact's links for the same alert on their other channels:
    /// one acknowledgement, whichever link it came through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub siblings: Vec<String>,
    /// The kind of channel this link went out on (`email`, `webhook`...).
    #[serde(default)]
    pub channel: String,
    /// The kind of channel of the link the acknowledgement came through (this one's or a
    /// sibling's), once it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_via: Option<String>,
    /// When the link stops working and is deleted (none on links from before expiry
    /// times: the sweep gives them one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
}

/// What a change sends out, committed together with it.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub deliveries: Vec<Delivery>,
    /// (token hash, entry).
    pub acks: Vec<(String, AckEntry)>,
    /// (token hash, entry).
    pub downloads: Vec<(String, DownloadEntry)>,
}

impl Outgoing {
    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty() && self.acks.is_empty() && self.downloads.is_empty()
    }

    pub fn extend(&mut self, other: Outgoing) {
        self.deliveries.extend(other.deliveries);
        self.acks.extend(other.acks);
        self.downloads.extend(other.downloads);
    }
}
