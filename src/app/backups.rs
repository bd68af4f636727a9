//! Backups from the app, as `posbon backup export`: the whole vault as one `age` file sealed
//! with a backup passphrase the journalist types here (typed twice, refused when easy to
//! guess), streamed to the browser's downloads. The passphrase is posted once and kept in
//! memory for the one download that follows (Post/Redirect/Get: no post with it in it stays
//! in the browser); the download itself is a plain link.

use std::io;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::Zeroize;

use super::files::{ChunkWriter, Transfer};
use super::forms::new_passphrase;
use super::pages::{Frame, form, html, with_vault};
use super::{Flash, Shared};
use crate::vault::backup::{self, Seal};

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
