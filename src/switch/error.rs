//! What can go wrong on the journalist's side of the switch, as types: the faces (the command
//! line, the local app) turn each into words and an exit code or a message box.

use crate::plan::PlanError;
use crate::protocol::contacts::ContactError;
use crate::release::bundle::BundleError;
use crate::route::RouteError;
use crate::switch::client::ClientError;
use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    /// No watcher is enrolled yet (the face says how to enrol).
    #[error("not enrolled with any watcher")]
    NotEnrolled,
    /// `--only URL` named a watcher this vault is not enrolled with (or none at all).
    #[error("not enrolled with {0}")]
    NotEnrolledWith(String),
    /// A key kept in the vault does not read as a key.
    #[error("the vault's {0} key is damaged")]
    DamagedKey(&'static str),
    /// The OS random generator failed (a key could not be made).
    #[error("the OS random generator failed")]
    Random,
    /// The proxy kept in the vault no longer reads as one: never a reason to go straight.
    #[error("the proxy kept in the vault is not usable ({0})")]
    ProxyUnusable(RouteError),
    /// Some watchers did not answer or refused; the others did the request. `failures` are
    /// in the order of the watchers, the first of them the cause.
    #[error("{}", watchers_failed_summary(failures.len() + 1, *total))]
    WatchersFailed {
        #[source]
        first: Box<ClientError>,
        failures: Vec<ClientError>,
        total: usize,
    },
    /// Every watcher answered, but they hold different plans: one missed a change, or was
    /// tampered with. Each watcher's plan, by URL.
    #[error("every watcher answered, but they disagree about the plan")]
    WatchersDisagree {
        plans: Vec<(String, Option<String>)>,
    },
    /// A watcher answered without what the request asks for (a phone link, say).
    #[error("{url} did not answer with {what}")]
    MissingAnswer { url: String, what: &'static str },
    /// Some channels did not accept a test alert: how many.
    #[error("{0} channel(s) did not accept the test alert")]
    TestsFailed(usize),
    /// No watcher knows the phone to remove.
    #[error("no watcher has a phone {0:?}")]
    UnknownPhone(String),
    /// Some watcher lacks a sealed bundle, holds an old copy, or still holds one that was
    /// removed (the request itself was done everywhere).
    #[error("not every watcher holds the bundles as sealed")]
    BundlesDiffer,
    /// A bundle was withdrawn, but not every watcher removed it; `left` says what remains.
    #[error("bundle {id} was not removed everywhere")]
    RemovalIncomplete {
        id: String,
        left: RemovalLeft,
        #[source]
        cause: Box<SwitchError>,
    },
    /// A release was asked for in a way that cannot be done; see [`ReleaseRefusal`].
    #[error("{0}")]
    Release(#[from] ReleaseRefusal),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Contact(#[from] ContactError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("a request could not be written: {0}")]
    Json(#[from] serde_json::Error),
}

fn watchers_failed_summary(failed: usize, total: usize) -> String {
    format!("{failed} of {total} watchers did not answer or refused")
}

/// Why a bundle cannot be sealed, updated or removed as asked. Each names what the
/// journalist can do instead; the faces word it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseRefusal {
    #[error("name at least one record to seal")]
    NoRecords,
    #[error("name at least one contact to seal for")]
    NoContacts,
    #[error("these are sources, and a bundle holds none unless asked to include them: {0}")]
    SourcesNotIncluded(SourceTitles),
    #[error("there is no contact called {0:?}")]
    UnknownContact(String),
    #[error("{0} is in tier 0 (yourself: reminders only), so a release never reaches them")]
    ContactIsJournalist(String),
    #[error("{0} has no key for sealed material")]
    ContactHasNoKey(String),
    #[error("give at least 4 digits of the bundle id")]
    ShortId,
    #[error("no release bundle has the id {0:?}")]
    UnknownBundle(String),
    #[error("{0:?} is ambiguous; give more digits")]
    AmbiguousBundle(String),
    #[error("bundle {0} was removed (a watcher missed the removal)")]
    RemovalPending(String),
}

/// Why a removal did not finish everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovalLeft {
    /// Only watchers that already released it refused: frozen there until its links
    /// expire, and not a removal to repeat. Their URLs.
    Released(Vec<String>),
    /// Some watchers did not answer or refused: withdrawn, to be repeated.
    Unanswered,
    /// Whether the watchers removed it is unknown: withdrawn, to be repeated.
    Unknown,
}

/// The titles of sources, for the journalist to read; `Debug` (what a log of the error would
/// hold) says only how many, since a source's name is what a coercer wants most.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceTitles(pub Vec<String>);

impl std::fmt::Display for SourceTitles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

impl std::fmt::Debug for SourceTitles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SourceTitles({} titles)", self.0.len())
    }
}
