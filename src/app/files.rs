//! Attachments in and out of the vault through the app, streamed both ways: an upload of any
//! size goes from the socket into the vault's encrypted chunks without being held whole in
//! memory or written anywhere in plaintext, and a download goes the other way.

use std::io::{self, Read, Write};

use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tokio::sync::mpsc;
use zeroize::Zeroize;

use super::pages::{attachment_headers, vault_error, with_vault};
use super::{Flash, Shared};
use crate::vault::RecordId;

/// Chunks in flight between the socket and the vault: a few, so memory stays flat.
const IN_FLIGHT: usize = 4;

/// A `Read` over chunks arriving from the async side; each chunk is wiped once read. An
/// upload that breaks off arrives as an error, so the vault keeps nothing of it.
struct ChunkReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Vec<u8>,
    offset: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.offset == self.current.len() {
            self.current.zeroize();
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.current = chunk.into();
                    self.offset = 0;
                }
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.offset);
        out[..n].copy_from_slice(&self.current[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

impl Drop for ChunkReader {
    fn drop(&mut self) {
        self.current.zeroize();
    }
}

/// A `Write` that hands what the vault decrypts to the answer's body.
pub(super) struct ChunkWriter {
    chunks: mpsc::Sender<io::Result<Bytes>>,
}

impl ChunkWriter {
    pub(super) fn new(chunks: mpsc::Sender<io::Result<Bytes>>) -> Self {
        ChunkWriter { chunks }
    }

    /// Ends the body with an error: the browser reports a failed download instead of
    /// saving a truncated file as if whole.
    pub(super) fn fail(&self, error: io::Error) {
        let _ = self.chunks.blocking_send(Err(error));
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.chunks
            .blocking_send(Ok(Bytes::copy_from_slice(data)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the browser went away"))?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(super) async fn attach(
    State(app): State<Shared>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let t = app.tr();
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut outcome = None;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .file_name()
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "file".into());
        let (sender, receiver) = mpsc::channel(IN_FLIGHT);
        let storing = with_vault(&app, move |vault| {
            let mut reader = ChunkReader {
                chunks: receiver,
                current: Vec::new(),
                offset: 0,
            };
            vault.attach(&record_id, &name, &mut reader)
        });
        let feeding = async move {
            loop {
                let next = match field.chunk().await {
                    Ok(Some(chunk)) => Ok(chunk),
                    // The end: dropping the sender ends the reader, and the file.
                    Ok(None) => return true,
                    Err(e) => Err(io::Error::other(e.to_string())),
                };
                let broken = next.is_err();
                if sender.send(next).await.is_err() || broken {
                    return false;
                }
            }
        };
        let (stored, whole) = tokio::join!(storing, feeding);
        outcome = Some(match stored {
            None => return Redirect::to("/").into_response(),
            Some(Ok(_)) => Ok(()),
            Some(Err(_)) if !whole => Err(t.get("error-upload-broken")),
            Some(Err(e)) => Err(vault_error(t, &e)),
        });
        break;
    }
    let back = format!("/r/{id}");
    match outcome {
        Some(Ok(())) => app.after_post(&back, None),
        Some(Err(text)) => app.after_post(&back, Some(Flash::Error(text))),
        None => app.after_post(&back, Some(Flash::Error(t.get("error-no-file")))),
    }
}

pub(super) async fn extract(
    State(app): State<Shared>,
    Path((id, index)): Path<(String, usize)>,
) -> Response {
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = with_vault(&app, move |vault| {
        vault
            .get(&record_id)
            .ok()
            .and_then(|r| r.attachments.get(index).map(|a| (a.name.clone(), a.size)))
    })
    .await;
    let Some(found) = found else {
        return Redirect::to("/").into_response();
    };
    let Some((name, size)) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (sender, mut receiver) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
    let file_name = name.clone();
    // Not awaited: the body streams while the vault decrypts. A failure mid-way (a tampered
    // chunk) ends the body with an error, so the browser reports a failed download instead
    // of saving a truncated file as if whole.
    let streamer = app.clone();
    tokio::spawn(async move {
        with_vault(&streamer, move |vault| {
            let mut writer = ChunkWriter { chunks: sender };
            if let Err(e) = vault.extract(&record_id, &file_name, &mut writer) {
                let _ = writer
                    .chunks
                    .blocking_send(Err(io::Error::other(e.to_string())));
            }
        })
        .await
    });
    let stream = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let mut response = Body::from_stream(stream).into_response();
    for (name, value) in attachment_headers(&name, size) {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

pub(super) async fn detach(
    State(app): State<Shared>,
    Path((id, index)): Path<(String, usize)>,
) -> Response {
    let t = app.tr();
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let removed = with_vault(&app, move |vault| {
        let record = vault.get(&record_id)?;
        match record.attachments.get(index) {
            Some(file) => vault.detach(&record_id, &file.name).map(|()| true),
            None => Ok(false),
        }
    })
    .await;
    match removed {
        None => Redirect::to("/").into_response(),
        Some(Ok(_)) => app.after_post(&format!("/r/{id}"), None),
        Some(Err(e)) => app.after_post(&format!("/r/{id}"), Some(Flash::Error(vault_error(t, &e)))),
    }
}
