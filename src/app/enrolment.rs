//! Joining a watcher from the app, as `posbon enrol` does: the watcher's address and the
//! one-time code its operator gave, then the watcher's fingerprint shown for the journalist
//! to compare with the one the operator read out, and the bundles sealed before sent along
//! (sealed again for every watcher). The same path under every passphrase: a decoy enrols
//! its own subject, as in the command line. And leaving one, after a question, as
//! `posbon unenrol`: the watcher forgets the journalist (under the duress passphrase it only
//! seems to, and raises the silent alarm; the words are the same).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::{Zeroize, Zeroizing};

use super::pages::{ConfirmPage, Frame, form, html, take, with_vault};
use super::text::Tr;
use super::watchers::switch_error;
use super::{Flash, Shared};
use crate::switch::releases::{self, Resent};
use crate::switch::watchers::{LeftLocally, Unenrolled};
use crate::switch::{SwitchError, watchers};

/// What became of an enrolment: the watcher's fingerprint, and the bundles it lacks.
struct Enrolled {
    url: String,
    fingerprint: String,
    /// Whether a bundle sealed before did not reach every watcher.
    bundles_missing: bool,
}

pub(super) async fn enrol(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let url = take(&mut pairs, "url").trim().to_string();
    // The one-time code enrols whoever has it until it is used: wiped once read.
    let mut typed = take(&mut pairs, "code");
    let code = Zeroizing::new(typed.trim().to_string());
    typed.zeroize();
    pairs.zeroize();
    if url.is_empty() || code.is_empty() {
        return app.after_post("/switch", Some(Flash::Error(t.get("enrol-missing"))));
    }
    let done = with_vault(&app, move |vault| enrol_and_send(vault, &url, &code)).await;
    match done {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => app.after_post(
            "/switch",
            Some(Flash::Error(format!(
                "{} {}",
                t.get("enrol-failed"),
                switch_error(t, &e)
            ))),
        ),
        Some(Ok(enrolled)) => app.after_post("/switch", Some(said(t, &enrolled))),
    }
}

fn enrol_and_send(
    vault: &crate::vault::Vault,
    url: &str,
    code: &str,
) -> Result<Enrolled, SwitchError> {
    let link = watchers::enrol(vault, url, code)?;
    let mut missed = false;
    let sent = releases::send_to_all(
        vault,
        |_| {},
        |_, outcome| {
            missed |= match outcome {
                Resent::Sealed { failed, .. } => !failed.is_empty(),
                Resent::NotSealed(_) => true,
            };
        },
    );
    // Enrolled whatever became of the bundles: the enrolment stands, and the page says
    // that a bundle is missing somewhere (the switch page then names which).
    Ok(Enrolled {
        url: link.url,
        fingerprint: link.fingerprint,
        bundles_missing: missed || sent.is_err(),
    })
}

fn said(t: Tr, enrolled: &Enrolled) -> Flash {
    let done = t.args(
        "enrol-done",
        &[
            ("url", &enrolled.url),
            ("fingerprint", &enrolled.fingerprint),
        ],
    );
    if !enrolled.bundles_missing {
        Flash::Notice(done)
    } else {
        Flash::Error(format!("{done} {}", t.get("enrol-bundles-missing")))
    }
}

/// The watcher named by `leave` (its subject in hex, as the switch page writes it).
fn watcher_named(vault: &crate::vault::Vault, leave: &str) -> Option<crate::switch::client::Link> {
    let subject = String::from_utf8(hex::decode(leave).ok()?).ok()?;
    watchers::links(vault)
        .ok()?
        .into_iter()
        .find(|link| link.subject == subject)
}

/// The question before leaving a watcher (`how` is "leave") or forgetting it here only
/// ("forget"): the same page, with that action's words.
async fn confirm(app: Shared, leave: String, how: &'static str) -> Response {
    let Some(Some(link)) = with_vault(&app, move |vault| watcher_named(vault, &leave)).await else {
        return Redirect::to("/switch").into_response();
    };
    let f = Frame::new(&app);
    html(&ConfirmPage {
        question: f.t.with(&format!("{how}-question"), "url", &link.url),
        detail: f.t.get(&format!("{how}-detail")),
        action: format!("/watchers/{}/{how}", hex::encode(&link.subject)),
        button: f.t.get(&format!("{how}-watcher")),
        back: "/switch".into(),
        f,
    })
}

pub(super) async fn confirm_leave(
    State(app): State<Shared>,
    Path(leave): Path<String>,
) -> Response {
    confirm(app, leave, "leave").await
}

pub(super) async fn confirm_forget(
    State(app): State<Shared>,
    Path(leave): Path<String>,
) -> Response {
    confirm(app, leave, "forget").await
}

pub(super) async fn leave(State(app): State<Shared>, Path(leave): Path<String>) -> Response {
    let t = app.tr();
    let left = with_vault(&app, move |vault| {
        let link = watcher_named(vault, &leave)?;
        let outcome = watchers::unenrol(vault, &link.url);
        let none_left = !watchers::enrolled(vault).unwrap_or(true);
        Some((link.url, outcome, none_left))
    })
    .await;
    let Some(Some((url, outcome, none_left))) = left else {
        return Redirect::to("/switch").into_response();
    };
    let flash = match outcome {
        Ok(Unenrolled::Forgotten { .. }) => Flash::Notice(t.with("left-watcher", "url", &url)),
        Ok(Unenrolled::AnsweredAsStranger) => Flash::Error(t.with("leave-unverified", "url", &url)),
        Err(e) => Flash::Error(switch_error(t, &e)),
    };
    let flash = match flash {
        Flash::Notice(text) if none_left => {
            Flash::Error(format!("{text} {}", t.get("no-watcher-left")))
        }
        other => other,
    };
    app.after_post("/switch", Some(flash))
}

/// Forgets a watcher here only, as `posbon unenrol --local`: for one that is gone (its server
/// shut down or seized) or whose operator removed the journalist. It is not asked to forget
/// anything; its one answer (to a status) only says whether it still watches.
pub(super) async fn forget(State(app): State<Shared>, Path(leave): Path<String>) -> Response {
    let t = app.tr();
    let forgot = with_vault(&app, move |vault| {
        let link = watcher_named(vault, &leave)?;
        let outcome = watchers::unenrol_local(vault, &link.url);
        Some((link.url, outcome))
    })
    .await;
    let Some(Some((url, outcome))) = forgot else {
        return Redirect::to("/switch").into_response();
    };
    let done = t.with("forgot-watcher", "url", &url);
    let flash = match outcome {
        Ok(LeftLocally::StillWatching) => Flash::Error(format!(
            "{done} {}",
            t.with("forgot-still-watching", "url", &url)
        )),
        Ok(LeftLocally::NotKnownThere | LeftLocally::NoAnswer(_)) => Flash::Notice(done),
        Err(e) => Flash::Error(switch_error(t, &e)),
    };
    app.after_post("/switch", Some(flash))
}
