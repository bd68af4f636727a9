//! The switch in the app: check in with every watcher, and each watcher's status, in the
//! journalist's time zone, with the warnings that keep the switch from failing silently.

use std::sync::Mutex;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::tz::TimeZone;
use zeroize::Zeroize;

use super::pages::{Frame, form, html, take, vault_error, with_vault};
use super::text::Tr;
use super::when::{when, when_with_day, zone};
use super::{Flash, Shared};
use crate::protocol::StatusResponse;
use crate::protocol::{contact_words, refusal_words};
use crate::switch::client::ClientError;
use crate::switch::gaps::Gap;
use crate::switch::releases::{BundleGap, SealedBundles};
use crate::switch::{ReleaseRefusal, SwitchError, requests};

/// One watcher as the page shows it.
pub(super) struct WatcherView {
    pub(super) url: String,
    /// (label, value)
    lines: Vec<(String, String)>,
    /// The watcher keeps a pretend world a coercion set up (told only to the real key).
    pretend: bool,
    /// The link's subject in hex: names the watcher in the address that leaves it.
    leave: String,
}

#[derive(Template)]
#[template(path = "switch.html")]
struct SwitchPage {
    f: Frame,
    warnings: Vec<String>,
    watchers: Vec<WatcherView>,
    /// A watcher keeps a pretend world: the page offers to end it.
    pretend: bool,
}

/// One watcher's answer as the page shows it.
pub(super) fn watcher_view(
    t: Tr,
    zone: &TimeZone,
    link: &crate::switch::client::Link,
    status: &StatusResponse,
) -> WatcherView {
    WatcherView {
        url: link.url.clone(),
        lines: status_lines(t, zone, link, status),
        pretend: status.pretend.is_some(),
        leave: hex::encode(&link.subject),
    }
}

/// What a watcher said, and its fingerprint, for the journalist to compare with the one its
/// operator gave.
fn status_lines(
    t: Tr,
    zone: &TimeZone,
    link: &crate::switch::client::Link,
    status: &StatusResponse,
) -> Vec<(String, String)> {
    let mut lines = vec![
        (t.get("status-fingerprint"), link.fingerprint.clone()),
        (
            t.get("status-plan"),
            status
                .plan
                .clone()
                .unwrap_or_else(|| t.get("status-no-plan")),
        ),
        (
            t.get("status-last-checkin"),
            status
                .last_checkin_ms
                .map(|ms| when(zone, ms))
                .unwrap_or_else(|| t.get("status-never")),
        ),
    ];
    lines.push(match (status.deadline_ms, status.paused_until_ms) {
        (_, Some(until)) => (t.get("status-paused-until"), when(zone, until)),
        (Some(deadline), None) => (t.get("status-deadline"), when_with_day(t, zone, deadline)),
        (None, None) => (t.get("status-deadline"), t.get("status-no-plan")),
    });
    for (label, due, _) in &status.fired {
        lines.push((
            t.get("status-fired"),
            format!("{label} ({})", when(zone, *due)),
        ));
    }
    if let Some(seen) = status.duress_seen_ms {
        lines.push((t.get("status-duress-seen"), when(zone, seen)));
    }
    if let Some(pretend) = &status.pretend {
        let shown = match (pretend.paused_until_ms, pretend.deadline_ms) {
            (Some(until), _) => format!("{} {}", t.get("status-paused-until"), when(zone, until)),
            (None, Some(deadline)) => when_with_day(t, zone, deadline),
            (None, None) => t.get("status-no-plan"),
        };
        let plan = pretend
            .plan
            .clone()
            .unwrap_or_else(|| t.get("status-no-plan"));
        lines.push((t.get("status-pretend"), format!("{plan}; {shown}")));
    }
    lines
}

fn gap_text(t: Tr, gap: &Gap) -> String {
    match gap {
        Gap::NobodyAtStep { tier } => t.with("gap-nobody-at-step", "tier", &tier.to_string()),
        Gap::NobodyAtRelease => t.get("gap-nobody-at-release"),
        Gap::RemindersToNobody => t.get("gap-reminders-to-nobody"),
        Gap::NoReminders => t.get("gap-no-reminders"),
        Gap::TierNeverAlerted { contact, tier } => {
            let text = t.with("gap-tier-never-alerted", "tier", &tier.to_string());
            format!("{contact}: {text}")
        }
        Gap::BundleForNoContact { bundle, contact } => {
            let text = t.with("gap-bundle-for-no-contact", "contact", contact);
            format!("{bundle}: {text}")
        }
    }
}

fn bundle_gap_text(t: Tr, url: &str, gap: &BundleGap) -> String {
    let (id, name, message) = match gap {
        BundleGap::Lacks { id, name } => (id, name, "gap-lacks-bundle"),
        BundleGap::OtherCopy { id, name } => (id, name, "gap-other-copy"),
        BundleGap::StillHoldsRemoved { id, name } => (id, name, "gap-still-holds"),
    };
    format!("{url}: {} ({id}, {name})", t.get(message))
}

/// A switch error in the reader's words.
pub(super) fn switch_error(t: Tr, error: &SwitchError) -> String {
    match error {
        SwitchError::NotEnrolled => t.get("error-not-enrolled"),
        SwitchError::WatchersFailed {
            first,
            failures,
            total,
        } => {
            let failed = (failures.len() + 1).to_string();
            let text = t.with("error-watchers-failed", "failed", &failed);
            format!("{text} ({failed}/{total}: {})", client_error(t, first))
        }
        SwitchError::Client(e) => client_error(t, e),
        SwitchError::ProxyUnusable(_) => t.get("proxy-unusable"),
        SwitchError::Release(refusal) => release_refusal(t, refusal),
        SwitchError::WatchersDisagree { .. } => t.get("error-watchers-disagree"),
        SwitchError::BundlesDiffer => t.get("error-bundles-differ"),
        SwitchError::Bundle(e) => super::lawyer::bundle_error(t, e),
        SwitchError::Vault(e) => vault_error(t, e),
        SwitchError::Plan(e) => t.with(
            "plan-invalid",
            "detail",
            &crate::plan::words::said(t.lang, e),
        ),
        SwitchError::Contact(e) => t.with(
            "contacts-not-saved",
            "detail",
            &contact_words::said(t.lang, e),
        ),
        other => t.with("error-other", "detail", &other.to_string()),
    }
}

/// A watcher that did not answer or refused, in the reader's words. The HTTP client's own
/// reasons are English; the two people meet most are said in their words, as the command
/// line does.
pub(super) fn client_error(t: Tr, error: &ClientError) -> String {
    match error {
        ClientError::Unreachable { url, reason } => {
            let reason = if reason.contains("timed out") || reason.contains("timeout") {
                t.get("client-timed-out")
            } else if reason.starts_with("error sending request") {
                t.get("client-no-connection")
            } else {
                reason.clone()
            };
            t.args("client-unreachable", &[("url", url), ("reason", &reason)])
        }
        ClientError::ProxyDown { url, proxy } => {
            t.args("client-proxy-down", &[("url", url), ("proxy", proxy)])
        }
        ClientError::OnionWithoutProxy { url } => t.with("client-onion", "url", url),
        ClientError::Refused { url, code, message } => {
            let message = refusal_words::said(t.lang, code).unwrap_or_else(|| message.clone());
            t.args("client-refused", &[("url", url), ("message", &message)])
        }
        ClientError::BadResponseSignature { url } => t.with("client-bad-signature", "url", url),
        ClientError::Malformed { url, .. } => t.with("client-malformed", "url", url),
    }
}

/// Sealing refused as asked; what the app's forms cannot ask (a short id) keeps the
/// library's words.
fn release_refusal(t: Tr, refusal: &ReleaseRefusal) -> String {
    match refusal {
        ReleaseRefusal::NoRecords => t.get("seal-no-records"),
        ReleaseRefusal::NoContacts => t.get("seal-no-contacts"),
        ReleaseRefusal::SourcesNotIncluded(_) => t.get("seal-sources-not-accepted"),
        ReleaseRefusal::UnknownContact(name) => t.with("seal-unknown-contact", "name", name),
        ReleaseRefusal::ContactIsJournalist(name) => {
            t.with("seal-contact-is-journalist", "name", name)
        }
        ReleaseRefusal::ContactHasNoKey(name) => t.with("seal-contact-has-no-key", "name", name),
        ReleaseRefusal::UnknownBundle(_) => t.get("seal-unknown-bundle"),
        ReleaseRefusal::RemovalPending(_) => t.get("seal-removal-pending"),
        ReleaseRefusal::ShortId | ReleaseRefusal::AmbiguousBundle(_) => {
            t.with("error-other", "detail", &refusal.to_string())
        }
    }
}

/// What the watchers answered to a check-in, kept for the page after it.
pub(super) struct Answers {
    pub(super) failure: Option<String>,
    pub(super) warnings: Vec<String>,
    pub(super) watchers: Vec<WatcherView>,
}

/// Asks every watcher (a check-in when `check_in`) and gathers what each answered; `None`
/// when the vault is locked.
async fn ask(app: &Shared, check_in: bool) -> Option<Answers> {
    let t = app.tr();
    with_vault(app, move |vault| {
        let zone = zone(vault);
        let mut warnings: Vec<String> = match requests::gaps(vault) {
            Ok(gaps) => gaps.iter().map(|g| gap_text(t, g)).collect(),
            Err(e) => vec![switch_error(t, &e)],
        };
        let seen = Mutex::new(Vec::new());
        let gaps_seen = Mutex::new(Vec::new());
        let result = if check_in {
            let sealed = SealedBundles::load(vault).unwrap_or_else(|_| SealedBundles::none());
            requests::checkin(vault, &sealed, |link, status, gaps| {
                let mut lines = vec![(t.get("checked-in"), t.get("yes"))];
                lines.extend(status_lines(t, &zone, link, status));
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(WatcherView {
                        url: link.url.clone(),
                        lines,
                        pretend: status.pretend.is_some(),
                        leave: hex::encode(&link.subject),
                    });
                for gap in gaps {
                    gaps_seen
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(bundle_gap_text(t, &link.url, gap));
                }
            })
        } else {
            requests::status(vault, |link, status| {
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(WatcherView {
                        url: link.url.clone(),
                        lines: status_lines(t, &zone, link, status),
                        pretend: status.pretend.is_some(),
                        leave: hex::encode(&link.subject),
                    });
            })
        };
        warnings.extend(gaps_seen.into_inner().unwrap_or_else(|p| p.into_inner()));
        let mut watchers = seen.into_inner().unwrap_or_else(|p| p.into_inner());
        watchers.sort_by(|a, b| a.url.cmp(&b.url));
        Answers {
            failure: result.err().map(|e| switch_error(t, &e)),
            warnings,
            watchers,
        }
    })
    .await
}

fn render(app: &Shared, answers: Answers) -> Response {
    let mut f = Frame::new(app);
    if let Some(text) = answers.failure {
        f.add_error(text);
    }
    html(&SwitchPage {
        f,
        warnings: answers.warnings,
        pretend: answers.watchers.iter().any(|w| w.pretend),
        watchers: answers.watchers,
    })
}

/// The switch: the answers to the check-in just made, or each watcher's status.
pub(super) async fn page(State(app): State<Shared>) -> Response {
    let kept = app
        .checked_in
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .filter(|_| app.unlocked());
    let answers = match kept {
        Some(answers) => Some(answers),
        None => ask(&app, false).await,
    };
    match answers {
        Some(answers) => render(&app, answers),
        None => Redirect::to("/").into_response(),
    }
}

pub(super) async fn checkin(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let session = app.session.current();
    match ask(&app, true).await {
        Some(answers) => {
            let flash = answers
                .failure
                .is_none()
                .then(|| Flash::Notice(t.get("checkin-done")));
            app.keep(session, &app.checked_in, answers);
            app.after_post("/switch", flash)
        }
        None => Redirect::to("/").into_response(),
    }
}

/// Pauses the switch on every watcher for a while (travel without network, a hospital), as
/// `posbon pause --for`: no deadline passes until then.
pub(super) async fn pause(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let wanted = take(&mut pairs, "for");
    pairs.zeroize();
    let length_ms = match crate::plan::parse_duration(&wanted) {
        Ok(ms) if ms > 0 => ms,
        Ok(_) => return app.after_post("/switch", Some(Flash::Error(t.get("pause-bad")))),
        Err(e) => {
            let why = crate::plan::words::said(t.lang, &e);
            return app.after_post("/switch", Some(Flash::Error(why)));
        }
    };
    let paused = with_vault(&app, move |vault| {
        let until_ms = crate::vault::now().saturating_add(length_ms);
        requests::pause(vault, until_ms, |_, _| {}).map(|()| when(&zone(vault), until_ms))
    })
    .await;
    match paused {
        None => Redirect::to("/").into_response(),
        Some(Ok(until)) => app.after_post(
            "/switch",
            Some(Flash::Notice(t.with("pause-done", "until", &until))),
        ),
        Some(Err(e)) => app.after_post("/switch", Some(Flash::Error(switch_error(t, &e)))),
    }
}

/// Ends a pause on every watcher now, as `posbon resume`.
pub(super) async fn resume(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let resumed = with_vault(&app, |vault| requests::resume(vault, |_, _| {})).await;
    match resumed {
        None => Redirect::to("/").into_response(),
        Some(Ok(())) => app.after_post("/switch", Some(Flash::Notice(t.get("resume-done")))),
        Some(Err(e)) => app.after_post("/switch", Some(Flash::Error(switch_error(t, &e)))),
    }
}

/// Ends the pretend world a coercion set up, on every watcher, as `posbon duress over`: the
/// decoy, the phone and the reminders follow the real plan again. Offered only where a
/// watcher said it keeps one, which it tells the real key only; under the duress passphrase
/// the watchers answer the same and end nothing.
pub(super) async fn end_pretend(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let ended = with_vault(&app, |vault| requests::end_pretend(vault, |_, _| {})).await;
    match ended {
        None => Redirect::to("/").into_response(),
        Some(Ok(())) => app.after_post("/switch", Some(Flash::Notice(t.get("pretend-over-done")))),
        Some(Err(e)) => app.after_post("/switch", Some(Flash::Error(switch_error(t, &e)))),
    }
}
