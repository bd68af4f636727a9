//! The vault's keys in the app, as `posbon passwd`, `recovery add|remove` and `duress
//! set|remove`: a new passphrase, a recovery key shown once, and the duress passphrase that
//! opens the decoy; removing either after a question.
//! New passphrases are typed twice and refused when easy to guess (the estimator the CLI
//! uses). Under the duress passphrase the same page does the same things to the decoy view,
//! as the CLI does.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::{Zeroize, Zeroizing};

use super::forms::new_passphrase;
use super::pages::{ConfirmPage, Frame, form, html, take, vault_error, with_vault, with_vault_mut};
use super::when::{when, zone};
use super::{Flash, Shared};

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    f: Frame,
    recovery_set: bool,
    duress_set: bool,
    duress_uses: Vec<String>,
    /// A recovery key just made: shown on this one page, then forgotten.
    new_recovery_key: String,
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    let shown = with_vault(&app, |vault| {
        let zone = zone(vault);
        let (recovery, duress) = vault.slot_summary()?;
        let uses = vault
            .events()?
            .iter()
            .map(|event| when(&zone, event.at))
            .collect::<Vec<_>>();
        Ok::<_, crate::vault::VaultError>((recovery, duress, uses))
    })
    .await;
    let t = app.tr();
    let new_recovery_key = app
        .recovery_key
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .map(|key| key.to_string())
        .unwrap_or_default();
    match shown {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => app.after_post("/", Some(Flash::Error(vault_error(t, &e)))),
        Some(Ok((recovery_set, duress_set, duress_uses))) => html(&KeysPage {
            f: Frame::new(&app),
            recovery_set,
            duress_set,
            duress_uses,
            new_recovery_key,
        }),
    }
}

pub(super) async fn change(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let which = take(&mut pairs, "which");
    let chosen = new_passphrase(t, &mut pairs);
    pairs.zeroize();
    let passphrase = match chosen {
        Ok(passphrase) => passphrase,
        Err(text) => return app.after_post("/keys", Some(Flash::Error(text))),
    };
    // Slot changes need the vault mutably, under its lock.
    let changed = with_vault_mut(&app, move |vault| {
        if which == "duress" {
            vault.set_duress(&passphrase).map(|()| {
                // The decoy knows the watchers too, so that it checks in like the real one.
                let _ = crate::switch::watchers::sync_decoy(vault);
                "keys-duress-set"
            })
        } else {
            vault
                .change_passphrase(&passphrase)
                .map(|()| "keys-changed")
        }
    })
    .await;
    match changed {
        None => Redirect::to("/").into_response(),
        Some(Ok(id)) => app.after_post("/keys", Some(Flash::Notice(t.get(id)))),
        Some(Err(e)) => app.after_post("/keys", Some(Flash::Error(vault_error(t, &e)))),
    }
}

pub(super) async fn recovery(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let session = app.session.current();
    let made = with_vault_mut(&app, |vault| vault.add_recovery_key()).await;
    match made {
        None => Redirect::to("/").into_response(),
        Some(Ok((key, _recipient))) => {
            app.keep(
                session,
                &app.recovery_key,
                Zeroizing::new(key.expose().to_string()),
            );
            app.after_post("/keys", Some(Flash::Notice(t.get("keys-recovery-made"))))
        }
        Some(Err(e)) => app.after_post("/keys", Some(Flash::Error(vault_error(t, &e)))),
    }
}

/// What can be removed from the keys page: the recovery key, or the duress passphrase (which
/// empties the decoy with it).
fn removable(which: &str) -> Option<&'static str> {
    match which {
        "recovery" => Some("recovery"),
        "duress" => Some("duress"),
        _ => None,
    }
}

pub(super) async fn confirm_remove(
    State(app): State<Shared>,
    Path(which): Path<String>,
) -> Response {
    let Some(which) = removable(&which) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !app.unlocked() {
        return Redirect::to("/").into_response();
    }
    let f = Frame::new(&app);
    html(&ConfirmPage {
        question: f.t.get(&format!("keys-remove-{which}-question")),
        detail: f.t.get(&format!("keys-remove-{which}-detail")),
        action: format!("/keys/remove/{which}"),
        button: f.t.get(&format!("keys-remove-{which}")),
        back: "/keys".into(),
        f,
    })
}

pub(super) async fn remove(State(app): State<Shared>, Path(which): Path<String>) -> Response {
    let t = app.tr();
    let Some(which) = removable(&which) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let removed = with_vault_mut(&app, move |vault| match which {
        "duress" => vault.remove_duress(),
        _ => vault.remove_recovery_key(),
    })
    .await;
    match removed {
        None => Redirect::to("/").into_response(),
        Some(Ok(true)) => app.after_post(
            "/keys",
            Some(Flash::Notice(t.get(&format!("keys-{which}-removed")))),
        ),
        Some(Ok(false)) => app.after_post(
            "/keys",
            Some(Flash::Notice(t.get(&format!("keys-{which}-none")))),
        ),
        Some(Err(e)) => app.after_post("/keys", Some(Flash::Error(vault_error(t, &e)))),
    }
}
