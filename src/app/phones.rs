//! Phones in the app, as `posbon watch enrol-phone` and `posbon phone list|remove`: one link
//! (and its QR code) that sets a phone up with every watcher, with a spare served by another
//! watcher, shown once; each watcher's phones; removing one after a question. Under the
//! duress passphrase the same pages, and what the library does under duress (a phone set up
//! then only ever raises the silent alarm).

use std::sync::Mutex;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::forms::hex_id;
use super::pages::{ConfirmPage, Frame, html, with_vault};
use super::watchers::switch_error;
use super::when::{when, zone};
use super::{Flash, Shared};
use crate::switch::{phones, requests};

/// A link just made, for the one page that shows it (its tokens work once, for 15 minutes).
pub(super) struct ShownLink {
    url: String,
    /// The QR code, as SVG markup made here from the link (no script, no image request).
    qr: String,
    served_by: String,
    watchers: String,
    spare: bool,
}

/// One watcher's phones as the page shows them.
struct WatcherPhones {
    url: String,
    /// (id, set up, last check-in, notes)
    phones: Vec<(String, String, String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "phones.html")]
struct PhonesPage {
    f: Frame,
    links: Vec<ShownLink>,
    watchers: Vec<WatcherPhones>,
}

/// The QR code of `text` as inline SVG, one square per dark module. Made on the server from
/// the link so that nothing is fetched or run to show it.
fn qr_svg(text: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return String::new();
    };
    let width = code.width();
    let quiet = 4;
    let size = width + 2 * quiet;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         width=\"264\" height=\"264\" shape-rendering=\"crispEdges\" role=\"img\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % width + quiet, i / width + quiet);
            svg.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    svg.push_str("\"/></svg>");
    svg
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let links = app
        .phone_links
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .unwrap_or_default();
    let found = with_vault(&app, move |vault| {
        let zone = zone(vault);
        let seen = Mutex::new(Vec::new());
        let outcome = requests::phones(vault, |link, status| {
            let phones = status
                .phones
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|phone| {
                    let mut notes = Vec::new();
                    if !phone.signs {
                        notes.push(t.get("phones-old"));
                    }
                    if phone.duress_only {
                        notes.push(t.get("phones-duress-only"));
                    }
                    (
                        phone.id.clone(),
                        when(&zone, phone.enrolled_ms),
                        phone
                            .last_checkin_ms
                            .map(|ms| when(&zone, ms))
                            .unwrap_or_else(|| t.get("status-never")),
                        notes,
                    )
                })
                .collect();
            seen.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(WatcherPhones {
                    url: link.url.clone(),
                    phones,
                });
        });
        let mut watchers = seen.into_inner().unwrap_or_else(|p| p.into_inner());
        watchers.sort_by(|a, b| a.url.cmp(&b.url));
        (watchers, outcome.err().map(|e| switch_error(t, &e)))
    })
    .await;
    let Some((watchers, failure)) = found else {
        return Redirect::to("/").into_response();
    };
    let mut f = Frame::new(&app);
    if let Some(text) = failure {
        f.add_error(text);
    }
    html(&PhonesPage { f, links, watchers })
}

/// Makes the link (and the spare) that sets a phone up with every watcher.
pub(super) async fn invite(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let session = app.session.current();
    let made = with_vault(&app, |vault| phones::invite_phone(vault, None)).await;
    match made {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => app.after_post("/phones", Some(Flash::Error(switch_error(t, &e)))),
        Some(Ok(made)) => {
            let shown = made
                .links
                .iter()
                .map(|link| ShownLink {
                    qr: qr_svg(&link.url),
                    url: link.url.clone(),
                    served_by: link.served_by.clone(),
                    watchers: link.watchers.join(", "),
                    spare: link.spare,
                })
                .collect();
            app.keep(session, &app.phone_links, shown);
            let flash = match made.unanswered {
                Some(e) => Flash::Error(format!(
                    "{} {}",
                    switch_error(t, &e),
                    t.get("phones-some-missing")
                )),
                None => Flash::Notice(t.get("phones-link-made")),
            };
            app.after_post("/phones", Some(flash))
        }
    }
}

pub(super) async fn confirm_remove(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(id) = hex_id(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !app.unlocked() {
        return Redirect::to("/").into_response();
    }
    let f = Frame::new(&app);
    html(&ConfirmPage {
        question: f.t.with("phones-remove-question", "id", &id),
        detail: f.t.get("phones-remove-detail"),
        action: format!("/phones/{id}/remove"),
        button: f.t.get("phones-remove"),
        back: "/phones".into(),
        f,
    })
}

pub(super) async fn remove(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let t = app.tr();
    let Some(id) = hex_id(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let removed = with_vault(&app, move |vault| {
        requests::remove_phone(vault, &id, |_, _| {})
    })
    .await;
    match removed {
        None => Redirect::to("/").into_response(),
        Some(Ok(())) => app.after_post("/phones", Some(Flash::Notice(t.get("phones-removed")))),
        Some(Err(e)) => app.after_post("/phones", Some(Flash::Error(switch_error(t, &e)))),
    }
}
