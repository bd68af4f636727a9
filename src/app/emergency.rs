//! What works without unlocking: adding a note to the vault (sealed to it, readable after the
//! next unlock, as `posbon capture`), and `panic`, which destroys the vault's keys after a
//! deliberate confirmation (typing a word, not a click that could slip).

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use zeroize::Zeroize;

use super::pages::{Frame, form, html, kind_name, take, vault_error};
use super::{Flash, Shared};
use crate::vault::{self, Kind, capture};

/// The words that confirm `panic`, in any of the three languages: under pressure a journalist
/// types the one that comes, whatever the page's language.
const CONFIRM_WORDS: [&str; 3] = ["ERASE", "УНИЧТОЖИТЬ", "НОБУД"];

#[derive(Template)]
#[template(path = "capture.html")]
struct CapturePage {
    f: Frame,
    /// (value, label)
    kinds: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "panic.html")]
struct PanicPage {
    f: Frame,
    word: String,
}

pub(super) async fn capture_form(State(app): State<Shared>) -> Response {
    let f = Frame::new(&app);
    let kinds = [Kind::Draft, Kind::Note, Kind::Source]
        .into_iter()
        .map(|kind| (kind.as_str(), kind_name(f.t, kind)))
        .collect();
    html(&CapturePage { f, kinds })
}

pub(super) async fn capture(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let kind = match take(&mut pairs, "kind").as_str() {
        "source" => Kind::Source,
        "note" => Kind::Note,
        _ => Kind::Draft,
    };
    let title = take(&mut pairs, "title").trim().to_string();
    let mut text = take(&mut pairs, "body").replace("\r\n", "\n");
    pairs.zeroize();
    if title.is_empty() {
        text.zeroize();
        return app.after_post("/capture", Some(Flash::Error(t.get("capture-no-title"))));
    }
    let dir = app.vault_dir.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let stored = capture::capture_note(&dir, kind, &title, &[], text.as_bytes());
        text.zeroize();
        stored
    })
    .await;
    match stored {
        Ok(Ok(_)) => app.after_post("/capture", Some(Flash::Notice(t.get("capture-done")))),
        Ok(Err(e)) => app.after_post("/capture", Some(Flash::Error(vault_error(t, &e)))),
        Err(_) => app.after_post("/capture", Some(Flash::Error(t.get("open-damaged")))),
    }
}

pub(super) async fn panic_form(State(app): State<Shared>) -> Response {
    let f = Frame::new(&app);
    let word = CONFIRM_WORDS[match f.t.lang {
        crate::lang::Lang::En => 0,
        crate::lang::Lang::Ru => 1,
        crate::lang::Lang::Tg => 2,
    }]
    .to_string();
    html(&PanicPage { f, word })
}

pub(super) async fn panic(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let typed = take(&mut pairs, "confirm").trim().to_uppercase();
    if !CONFIRM_WORDS.contains(&typed.as_str()) {
        return app.after_post("/panic", Some(Flash::Error(t.get("panic-not-confirmed"))));
    }
    // Nothing may use the vault from here; the keys on disk go at once, without waiting for
    // a transfer to let go of the vault, and the keys in memory as soon as it does.
    app.end_session();
    let dir = app.vault_dir.clone();
    let erased = tokio::task::spawn_blocking(move || vault::panic_erase(&dir)).await;
    app.lock().await;
    match erased {
        Ok(Ok(())) => app.after_post("/", Some(Flash::Notice(t.get("panic-done")))),
        Ok(Err(e)) => app.after_post("/panic", Some(Flash::Error(vault_error(t, &e)))),
        Err(_) => app.after_post("/panic", Some(Flash::Error(t.get("open-damaged")))),
    }
}
