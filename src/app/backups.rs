//! Backups from the app, as `posbon backup export`: the whole vault as one `age` file sealed
//! with a backup passphrase the journalist types here (typed twice, refused when easy to
//! guess), streamed to the browser's downloads. The passphrase is posted once and kept in
//! memory for the one download that follows (Post/Redirect/Get: no post with it in it stays
//! in the browser); the download itself is a plain link. And a backup restored into the open
//! vault, as `posbon backup restore`: its file streamed from the browser with its passphrase,
//! records merged by id (restoring twice keeps one copy).

use std::io;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::Zeroize;

use super::files::{ChunkWriter, Transfer, into_vault};
use super::forms::new_passphrase;
use super::pages::{Frame, form, html, vault_error, with_vault};
use super::{Flash, Shared};
use crate::secret::Passphrase;
use crate::vault::backup::{self, Opener, Seal};

#[derive(Template)]
#[template(path = "backup.html")]
struct BackupPage {
    f: Frame,
    ready: bool,
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    if !app.unlocked() {
        return Redirect::to("/").into_response();
    }
    let ready = app
        .backup_passphrase
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .is_some();
    html(&BackupPage {
        f: Frame::new(&app),
        ready,
    })
}

pub(super) async fn prepare(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let chosen = new_passphrase(t, &mut pairs);
    pairs.zeroize();
    match chosen {
        Ok(passphrase) => {
            *app.backup_passphrase
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(passphrase);
            app.after_post("/backup", None)
        }
        Err(text) => app.after_post("/backup", Some(Flash::Error(text))),
    }
}

pub(super) async fn download(State(app): State<Shared>) -> Response {
    let Some(passphrase) = app
        .backup_passphrase
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    else {
        return Redirect::to("/backup").into_response();
    };
    let streamer = app.clone();
    let (mut writer, body) = ChunkWriter::with_body(Transfer::new(&app));
    tokio::spawn(async move {
        let exported = with_vault(&streamer, move |vault| {
            match backup::export(vault, Seal::Passphrase(&passphrase), &mut writer) {
                Ok(_) => writer.finish(),
                Err(e) => writer.fail(io::Error::other(e.to_string())),
            }
        })
        .await;
        if exported.is_none() {
            tracing::warn!("the vault was locked before the backup could be made");
        }
    });
    let date = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"posbon-backup-{date}.age\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Restores a backup into the open vault. The form sends the passphrase before the file (in
/// the page's order), so the file is decrypted as it streams in, never held or spooled.
pub(super) async fn restore(State(app): State<Shared>, mut multipart: Multipart) -> Response {
    let t = app.tr();
    let mut passphrase = None;
    let field = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("passphrase") => {
                passphrase = Some(Passphrase::new(field.text().await.unwrap_or_default()));
            }
            Ok(Some(field)) if field.name() == Some("file") => break Some(field),
            Ok(Some(_)) => continue,
            _ => break None,
        }
    };
    let (Some(field), Some(passphrase)) = (field, passphrase) else {
        return app.after_post("/backup", Some(Flash::Error(t.get("error-no-file"))));
    };
    let (restored, whole) = into_vault(&app, field, move |vault, reader| {
        backup::restore_from(vault, reader, Opener::Passphrase(&passphrase))
    })
    .await;
    match restored {
        None => Redirect::to("/").into_response(),
        Some(Ok(summary)) => app.after_post(
            "/",
            Some(Flash::Notice(t.count(
                "backup-restored",
                "count",
                summary.records as i64,
            ))),
        ),
        Some(Err(_)) if !whole => {
            app.after_post("/backup", Some(Flash::Error(t.get("error-upload-broken"))))
        }
        Some(Err(e)) => app.after_post("/backup", Some(Flash::Error(vault_error(t, &e)))),
    }
}
