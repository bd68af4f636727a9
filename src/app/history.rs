//! What happened while the journalist was away, in the app: every watcher's history merged,
//! newest first, in the journalist's time zone and language (the words of
//! `switch::timeline`, shared with `posbon history`); and taking back a false duress alarm.
//!
//! Under the duress passphrase the watchers answer with the pretend world's history and
//! take nothing back (and raise the alarm): the pages are the same, so nothing on screen
//! tells a coercer which passphrase was typed.

use std::sync::Mutex;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::pages::{Frame, html, with_vault};
use super::watchers::switch_error;
use super::when::{when, zone};
use super::{Flash, Shared};
use crate::switch::{requests, timeline, watchers};

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    f: Frame,
    /// (time, watcher or empty when there is one, what happened)
    rows: Vec<(String, String, String)>,
    nothing: String,
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let found = with_vault(&app, move |vault| {
        let zone = zone(vault);
        let rows = Mutex::new(Vec::new());
        let outcome = requests::history(vault, |link, entries| {
            let mut rows = rows.lock().unwrap_or_else(|p| p.into_inner());
            for entry in entries {
                let text = timeline::describe(t.lang, entry, |ms| when(&zone, ms));
                rows.push((entry.at_ms, link.url.clone(), text));
            }
        });
        let several = watchers::links(vault).map(|l| l.len() > 1).unwrap_or(false);
        let mut rows = rows.into_inner().unwrap_or_else(|p| p.into_inner());
        // Newest first, the same moment on two watchers together.
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let rows: Vec<_> = rows
            .into_iter()
            .map(|(at, url, text)| {
                (
                    when(&zone, at),
                    if several { url } else { String::new() },
                    text,
                )
            })
            .collect();
        (rows, outcome.err().map(|e| switch_error(t, &e)))
    })
    .await;
    let Some((rows, failure)) = found else {
        return Redirect::to("/").into_response();
    };
    let mut f = Frame::new(&app);
    if let Some(text) = failure {
        f.add_error(text);
    }
    html(&HistoryPage {
        nothing: timeline::word(t.lang, "nothing-yet"),
        f,
        rows,
    })
}

/// Takes back a false duress alarm on every watcher. The answer names no count of contacts:
/// under the duress passphrase it reads the same, and must not tell how many there are.
pub(super) async fn retract(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let done = with_vault(&app, move |vault| {
        let sent = Mutex::new(false);
        let outcome = requests::retract_duress(vault, |_, retracted| {
            if retracted {
                *sent.lock().unwrap_or_else(|p| p.into_inner()) = true;
            }
        });
        (
            sent.into_inner().unwrap_or_else(|p| p.into_inner()),
            outcome,
        )
    })
    .await;
    match done {
        None => Redirect::to("/").into_response(),
        Some((_, Err(e))) => app.after_post("/history", Some(Flash::Error(switch_error(t, &e)))),
        Some((true, Ok(()))) => {
            app.after_post("/history", Some(Flash::Notice(t.get("retract-sent"))))
        }
        Some((false, Ok(()))) => {
            app.after_post("/history", Some(Flash::Notice(t.get("retract-nothing"))))
        }
    }
}
