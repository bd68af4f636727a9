//! Sealing material for the lawyers in the app, as `posbon release add`: choose records and
//! lawyers, then see exactly what the bundle will reveal and to whom (every record, every
//! file, and a warning for each source) before anything is sealed; sealed with the
//! journalist's sealing key for the lawyers' own keys, and uploaded to every watcher.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::Zeroize;

use super::forms::hex_id;
use super::pages::{ConfirmPage, Frame, form, html, kind_name, take, with_vault};
use super::text::Tr;
use super::watchers::switch_error;
use super::{Flash, Shared};
use crate::release::names::displayable;
use crate::switch::releases::{self, Choice, Prepared};
use crate::switch::{SwitchError, contacts};

#[derive(Template)]
#[template(path = "seal.html")]
struct SealPage {
    f: Frame,
    /// (id, kind, title)
    records: Vec<(String, String, String)>,
    /// Names of the contacts with keys.
    /// (name as stored, name as shown)
    lawyers: Vec<(String, String)>,
    /// The bundles already sealed.
    sealed: Vec<SealedRow>,
    /// The fingerprint of the key that signs every bundle, for the journalist to give each
    /// lawyer in person (as `posbon release key`).
    fingerprint: String,
}

/// A bundle already sealed, with what can be done with it.
struct SealedRow {
    id: String,
    line: String,
    /// Withdrawn, but not every watcher confirmed it yet.
    withdrawing: bool,
}

#[derive(Template)]
#[template(path = "seal_review.html")]
struct ReviewPage {
    f: Frame,
    heading: String,
    items: Vec<String>,
    sources: Vec<String>,
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let shown = with_vault(&app, move |vault| {
        let listing = vault.records()?;
        let records = listing
            .records
            .iter()
            .map(|(id, r)| (id.to_string(), kind_name(t, r.kind), displayable(&r.title)))
            .collect();
        let lawyers = contacts::directory(vault)?
            .contacts
            .iter()
            .filter(|c| !c.age_recipients.is_empty() && !c.is_journalist())
            .map(|c| (c.name.clone(), displayable(&c.name)))
            .collect();
        let sealed = releases::releases(vault)?
            .iter()
            .map(|r| SealedRow {
                id: r.id.clone(),
                line: t.args(
                    "seal-existing",
                    &[
                        ("name", &displayable(&r.name)),
                        ("version", &r.version.to_string()),
                        ("to", &displayable(&r.to.join(", "))),
                    ],
                ),
                withdrawing: r.removal_pending,
            })
            .collect();
        let fingerprint = crate::switch::keys::sealing_fingerprint(vault)?;
        Ok::<_, SwitchError>((records, lawyers, sealed, fingerprint))
    })
    .await;
    match shown {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => app.after_post("/", Some(Flash::Error(switch_error(t, &e)))),
        Some(Ok((records, lawyers, sealed, fingerprint))) => html(&SealPage {
            f: Frame::new(&app),
            records,
            lawyers,
            sealed,
            fingerprint,
        }),
    }
}

/// Every value of the repeated field `name`.
fn all(pairs: &mut [(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter_mut()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| std::mem::take(value))
        .collect()
}

pub(super) async fn prepare(State(app): State<Shared>, body: Bytes) -> Response {
    let mut pairs = form(body);
    let records = all(&mut pairs, "record");
    let to = all(&mut pairs, "to");
    let name = Some(take(&mut pairs, "name").trim().to_string()).filter(|n| !n.is_empty());
    let include_sources = take(&mut pairs, "include_sources") == "on";
    pairs.zeroize();
    let session = app.session.current();
    let prepared = with_vault(&app, move |vault| {
        let id = releases::new_id();
        releases::prepare(
            vault,
            &id,
            Choice {
                records: &records,
                to: &to,
                name,
                by: None,
                include_sources,
            },
        )
    })
    .await;
    to_review(&app, session, prepared)
}

fn review_of(t: Tr, prepared: &Prepared) -> (String, Vec<String>) {
    let heading = t.args(
        "seal-review",
        &[
            ("name", &displayable(&prepared.name)),
            ("to", &displayable(&prepared.for_.join(", "))),
        ],
    );
    let mut items = Vec::new();
    for item in &prepared.items {
        items.push(format!(
            "{}. [{}] {}",
            item.n,
            // A bundle's items are records, so their kind is one the catalogue names.
            t.get(&format!("kind-{}", item.kind)),
            displayable(&item.title)
        ));
        for file in &item.files {
            let file = displayable(file);
            items.push(format!("    {}: {file}", t.get("attachments")));
        }
    }
    (heading, items)
}

pub(super) async fn review(State(app): State<Shared>) -> Response {
    let t = app.tr();
    if !app.unlocked() {
        return Redirect::to("/").into_response();
    }
    let shown = {
        let pending = app.sealing.lock().unwrap_or_else(|p| p.into_inner());
        pending
            .as_ref()
            .map(|prepared| (review_of(t, prepared), prepared.sources.clone()))
    };
    match shown {
        None => Redirect::to("/seal").into_response(),
        Some(((heading, items), sources)) => html(&ReviewPage {
            f: Frame::new(&app),
            heading,
            items,
            sources,
        }),
    }
}

pub(super) async fn confirm(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let sources_accepted = take(&mut pairs, "reveal_sources") == "on";
    let Some(prepared) = app.sealing.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        return Redirect::to("/seal").into_response();
    };
    if !prepared.sources.is_empty() && !sources_accepted {
        *app.sealing.lock().unwrap_or_else(|p| p.into_inner()) = Some(prepared);
        return app.after_post(
            "/seal/review",
            Some(Flash::Error(t.get("seal-sources-not-accepted"))),
        );
    }
    let done = with_vault(&app, move |vault| {
        let sealed = releases::seal(vault, prepared)?;
        let items = sealed.items;
        releases::upload(vault, &sealed, |_| {}).map(|()| items)
    })
    .await;
    match done {
        None => Redirect::to("/").into_response(),
        Some(Ok(items)) => app.after_post(
            "/seal",
            Some(Flash::Notice(t.count("seal-done", "count", items as i64))),
        ),
        Some(Err(e)) => app.after_post(
            "/seal",
            Some(Flash::Error(format!(
                "{} {}",
                switch_error(t, &e),
                t.get("seal-not-everywhere")
            ))),
        ),
    }
}

/// Seals a bundle again from what its records hold now, for the same people, as `posbon
/// release update`: prepared here, shown on the review page, sealed only on its confirmation.
pub(super) async fn update(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(id) = hex_id(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let session = app.session.current();
    let prepared = with_vault(&app, move |vault| {
        let old = releases::find(vault, &id)?;
        let choice = releases::choice_of(&old)?;
        releases::prepare(vault, &old.id, choice)
    })
    .await;
    to_review(&app, session, prepared)
}

pub(super) async fn confirm_withdraw(
    State(app): State<Shared>,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = hex_id(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lookup = id.clone();
    let Some(Ok(release)) = with_vault(&app, move |vault| releases::find(vault, &lookup)).await
    else {
        return Redirect::to("/seal").into_response();
    };
    let f = Frame::new(&app);
    html(&ConfirmPage {
        question: f.t.with(
            "seal-withdraw-question",
            "name",
            &displayable(&release.name),
        ),
        detail: f.t.get("seal-withdraw-detail"),
        action: format!("/seal/{id}/withdraw"),
        button: f.t.get("seal-withdraw"),
        back: "/seal".into(),
        f,
    })
}

/// Withdraws a bundle from every watcher, as `posbon release remove`.
pub(super) async fn withdraw(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let t = app.tr();
    let Some(id) = hex_id(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let removed = with_vault(&app, move |vault| releases::remove(vault, &id, |_| {})).await;
    match removed {
        None => Redirect::to("/").into_response(),
        Some(Ok(())) => app.after_post("/seal", Some(Flash::Notice(t.get("seal-withdrawn")))),
        Some(Err(e)) => app.after_post("/seal", Some(Flash::Error(switch_error(t, &e)))),
    }
}

/// Keeps a bundle just prepared for the review page, or says why it could not be.
fn to_review(
    app: &Shared,
    session: u64,
    prepared: Option<Result<Prepared, SwitchError>>,
) -> Response {
    match prepared {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => app.after_post("/seal", Some(Flash::Error(switch_error(app.tr(), &e)))),
        Some(Ok(prepared)) => {
            app.keep(session, &app.sealing, prepared);
            app.after_post("/seal/review", None)
        }
    }
}
