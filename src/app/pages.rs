//! The app's pages for the vault: unlock and lock, the language, and the records (list,
//! search, read, add, edit, delete). Each handler does its vault work on a blocking thread
//! (the vault's calls are synchronous and the unlock runs Argon2) and renders a template.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use zeroize::{Zeroize, Zeroizing};

pub(super) use super::forms::{form, take};
use super::text::Tr;
use super::when;
use super::{Flash, Shared};
use crate::lang::Lang;
use crate::release::names::displayable;
use crate::secret::Passphrase;
use crate::switch::alarm::open_vault;
use crate::vault::{self, Kind, Record, RecordId, Refusal, Unlock, Vault, VaultError};

/// What every page's frame shows: the words, the form token, whether the vault is open, and
/// a line of news or of trouble from the last action.
pub(super) struct Frame {
    pub t: Tr,
    pub csrf: String,
    pub unlocked: bool,
    pub notice: String,
    pub error: String,
}

impl Frame {
    /// Adds what went wrong asking the watchers for this page after what the last form said
    /// (why an enrolment failed, say), which it must not hide.
    pub(super) fn add_error(&mut self, text: String) {
        self.error = if self.error.is_empty() {
            text
        } else {
            format!("{} {text}", self.error)
        };
    }

    /// The frame of the page being rendered, with the line the last post left for it.
    pub(super) fn new(app: &Shared) -> Self {
        let mut frame = Frame {
            t: app.tr(),
            csrf: app.gate.form_token().to_string(),
            unlocked: app.unlocked(),
            notice: String::new(),
            error: String::new(),
        };
        match app.take_flash() {
            Some(Flash::Notice(text)) => frame.notice = text,
            Some(Flash::Error(text)) => frame.error = text,
            None => {}
        }
        frame
    }
}

#[derive(Template)]
#[template(path = "refused.html")]
pub(super) struct Refused {
    pub t: Tr,
    pub text: String,
}

#[derive(Template)]
#[template(path = "unlock.html")]
struct UnlockPage {
    f: Frame,
}

/// What the app shows where there is no vault yet: the form that makes one.
#[derive(Template)]
#[template(path = "create.html")]
struct CreatePage {
    f: Frame,
    dir: String,
}

/// Makes the vault, as `posbon init`, with a passphrase typed twice and refused when easy to
/// guess, then opens it.
pub(super) async fn create_vault(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let chosen = super::forms::new_passphrase(t, &mut pairs);
    pairs.zeroize();
    let passphrase = match chosen {
        Ok(passphrase) => passphrase,
        Err(text) => return app.after_post("/", Some(Flash::Error(text))),
    };
    let maker = app.clone();
    // Argon2, twice (to make the slots, then to open): on a blocking thread.
    let made = tokio::task::spawn_blocking(move || {
        if vault::exists(&maker.vault_dir) {
            return Err(VaultError::AlreadyExists(maker.vault_dir.clone()));
        }
        Vault::create(&maker.vault_dir, &passphrase, maker.kdf)?;
        let warning = vault::keyslots::erasure_warning(&maker.vault_dir);
        maker.wipe_pages();
        maker.session.open_with(|| {
            open_vault(&maker.vault_dir, Unlock::Passphrase(&passphrase)).map(|(vault, _)| vault)
        })?;
        Ok(warning)
    })
    .await;
    match made {
        Ok(Ok(None)) => app.after_post("/", Some(Flash::Notice(t.get("create-done")))),
        Ok(Ok(Some(warning))) => {
            let warning = super::notices::said(t, &jiff::tz::TimeZone::UTC, &warning);
            app.after_post(
                "/",
                Some(Flash::Error(format!("{} {warning}", t.get("create-done")))),
            )
        }
        Ok(Err(e)) => app.after_post("/", Some(Flash::Error(vault_error(t, &e)))),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "create failed").into_response(),
    }
}

pub(super) struct Row {
    id: String,
    kind: String,
    title: String,
    tags: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    f: Frame,
    words: String,
    count_text: String,
    rows: Vec<Row>,
    damaged: Vec<String>,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    f: Frame,
    id: String,
    kind: String,
    title: String,
    tags: String,
    updated: String,
    fields: Vec<(String, String)>,
    body: String,
    files: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "edit.html")]
struct EditPage {
    f: Frame,
    heading: String,
    action: String,
    title_label: String,
    title: String,
    /// (name, label, value)
    fields: Vec<(String, String, String)>,
    tags: String,
    body: String,
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub(super) struct ConfirmPage {
    pub f: Frame,
    pub question: String,
    pub detail: String,
    pub action: String,
    pub button: String,
    pub back: String,
}

/// A rendered template as an answer (a template that fails to render is a bug: say so).
pub(super) fn html(page: &impl Template) -> Response {
    match page.render() {
        Ok(text) => Html(text).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("posbon: a page failed to render: {e}"),
        )
            .into_response(),
    }
}

/// Runs `work` on the unlocked vault on a blocking thread; `None` when the vault is locked.
pub(super) async fn with_vault<R: Send + 'static>(
    app: &Shared,
    work: impl FnOnce(&Vault) -> R + Send + 'static,
) -> Option<R> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || app.session.with(work))
        .await
        .ok()
        .flatten()
}

/// The same, for work that changes the vault's key slots.
pub(super) async fn with_vault_mut<R: Send + 'static>(
    app: &Shared,
    work: impl FnOnce(&mut Vault) -> R + Send + 'static,
) -> Option<R> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || app.session.with_mut(work))
        .await
        .ok()
        .flatten()
}

/// Where a locked vault sends every page: the unlock form.
fn to_unlock() -> Response {
    Redirect::to("/").into_response()
}

pub(super) async fn home(State(app): State<Shared>) -> Response {
    list(&app, String::new(), Frame::new(&app)).await
}

async fn list(app: &Shared, words: String, frame: Frame) -> Response {
    let t = app.tr();
    let query = words.clone();
    let found = with_vault(app, move |vault| {
        let zone = when::zone(vault);
        let listing = if query.trim().is_empty() {
            vault.records()
        } else {
            vault.search(&[query])
        };
        listing.map(|listing| {
            let rows: Vec<Row> = listing
                .records
                .iter()
                .rev()
                .map(|(id, record)| Row {
                    id: id.to_string(),
                    kind: kind_name(t, record.kind),
                    title: displayable(&record.title),
                    tags: record.tags.join(", "),
                    updated: when::when(&zone, record.updated),
                })
                .collect();
            let damaged = listing.damaged.iter().map(|e| vault_error(t, e)).collect();
            (rows, damaged)
        })
    })
    .await;
    let Some(found) = found else {
        if !vault::exists(&app.vault_dir) {
            return html(&CreatePage {
                f: frame,
                dir: app.vault_dir.display().to_string(),
            });
        }
        return html(&UnlockPage { f: frame });
    };
    match found {
        Ok((rows, damaged)) => html(&RecordsPage {
            count_text: t.count("records-count", "count", rows.len() as i64),
            f: frame,
            words,
            rows,
            damaged,
        }),
        Err(e) => html(&RecordsPage {
            f: Frame {
                error: vault_error(t, &e),
                ..frame
            },
            words,
            count_text: String::new(),
            rows: Vec::new(),
            damaged: Vec::new(),
        }),
    }
}

pub(super) async fn unlock(State(app): State<Shared>, body: Bytes) -> Response {
    let mut pairs = form(body);
    let passphrase = Passphrase::new(take(&mut pairs, "passphrase"));
    pairs.zeroize();
    let t = app.tr();
    let opener = app.clone();
    // Argon2 takes a second or two: on a blocking thread, and with the vault's slot locked
    // so that two unlocks cannot race.
    let opened = tokio::task::spawn_blocking(move || {
        opener.wipe_pages();
        let mut told = None;
        let opened = opener.session.open_with(|| {
            let (vault, notices) = open_vault(&opener.vault_dir, Unlock::Passphrase(&passphrase))?;
            if let Some(notices) = notices {
                // The silent alarm: sent in the background, never waited for, never shown.
                std::thread::spawn(move || notices.deliver(None));
            }
            // What the vault has to tell (captures imported, the duress passphrase used):
            // shown once, above the first page.
            told = super::notices::flash(t, &super::when::zone(&vault), vault.notices());
            Ok::<Vault, VaultError>(vault)
        })?;
        Ok::<_, VaultError>((opened, told))
    })
    .await;
    match opened {
        Ok(Ok((true, told))) => app.after_post("/", told),
        // Overtaken by a Lock pressed meanwhile, which wins: the page shows it.
        Ok(Ok((false, _))) => app.after_post("/", None),
        Ok(Err(e)) => app.after_post("/", Some(Flash::Error(vault_error(t, &e)))),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "unlock failed").into_response(),
    }
}

pub(super) async fn lock(State(app): State<Shared>) -> Response {
    app.lock().await;
    let t = app.tr();
    app.after_post("/", Some(Flash::Notice(t.get("locked"))))
}

pub(super) async fn set_lang(State(app): State<Shared>, body: Bytes) -> Response {
    let mut pairs = form(body);
    if let Ok(lang) = Lang::parse(&take(&mut pairs, "to")) {
        *app.lang.lock().unwrap_or_else(|p| p.into_inner()) = lang;
    }
    app.after_post("/", None)
}

pub(super) async fn search(State(app): State<Shared>, body: Bytes) -> Response {
    // A form post, not a query in the address: the words stay out of the browser's history.
    // Kept here, not in the browser, until the next search or the lock.
    let mut pairs = form(body);
    let words = Zeroizing::new(take(&mut pairs, "words"));
    pairs.zeroize();
    if app.unlocked() {
        *app.search.lock().unwrap_or_else(|p| p.into_inner()) = words;
    }
    app.after_post("/search", None)
}

/// The results of the last search.
pub(super) async fn found(State(app): State<Shared>) -> Response {
    let words = app
        .search
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .to_string();
    let frame = Frame::new(&app);
    list(&app, words, frame).await
}

fn parse_kind(text: &str) -> Option<Kind> {
    match text {
        "source" => Some(Kind::Source),
        "draft" => Some(Kind::Draft),
        "note" => Some(Kind::Note),
        _ => None,
    }
}

pub(super) fn kind_name(t: Tr, kind: Kind) -> String {
    t.get(&format!("kind-{}", kind.as_str()))
}

fn title_label(t: Tr, kind: Kind) -> String {
    t.get(&format!("title-{}", kind.title_label()))
}

fn edit_page(f: Frame, heading: String, action: String, record: &Record) -> EditPage {
    EditPage {
        heading,
        action,
        title_label: title_label(f.t, record.kind),
        title: record.title.clone(),
        fields: record
            .kind
            .field_names()
            .iter()
            .map(|name| {
                (
                    name.to_string(),
                    f.t.get(&format!("field-{name}")),
                    record.field(name).unwrap_or_default().to_string(),
                )
            })
            .collect(),
        tags: record.tags.join(", "),
        body: record.body.clone(),
        f,
    }
}

pub(super) async fn new_form(State(app): State<Shared>, Path(kind): Path<String>) -> Response {
    let Some(kind) = parse_kind(&kind) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !app.unlocked() {
        return to_unlock();
    }
    let f = Frame::new(&app);
    let heading = f.t.get(&format!("new-{}", kind.as_str()));
    let blank = Record::new(kind, String::new(), 0);
    html(&edit_page(
        f,
        heading,
        format!("/new/{}", kind.as_str()),
        &blank,
    ))
}

/// The record a form describes, on top of `record`.
fn fill(record: &mut Record, mut pairs: Vec<(String, String)>) {
    record.title = take(&mut pairs, "title").trim().to_string();
    record.body = take(&mut pairs, "body").replace("\r\n", "\n");
    record.tags = take(&mut pairs, "tags")
        .split(',')
        .map(|tag| tag.trim().to_string())
        .filter(|tag| !tag.is_empty())
        .collect();
    for name in record.kind.field_names() {
        let value = take(&mut pairs, &format!("field-{name}"));
        record.set_field(name, value.trim());
    }
    pairs.zeroize();
}

pub(super) async fn create(
    State(app): State<Shared>,
    Path(kind): Path<String>,
    body: Bytes,
) -> Response {
    let Some(kind) = parse_kind(&kind) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let pairs = form(body);
    let t = app.tr();
    let added = with_vault(&app, move |vault| {
        let mut record = Record::new(kind, String::new(), vault::now());
        fill(&mut record, pairs);
        vault.add(&record)
    })
    .await;
    match added {
        None => to_unlock(),
        Some(Ok(id)) => app.after_post(&format!("/r/{id}"), None),
        Some(Err(e)) => app.after_post("/", Some(Flash::Error(vault_error(t, &e)))),
    }
}

pub(super) async fn show(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let app = &app;
    let t = app.tr();
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = with_vault(app, move |vault| {
        let zone = when::zone(vault);
        vault.get(&record_id).map(|r| (r, zone))
    })
    .await;
    let f = Frame::new(app);
    match found {
        None => to_unlock(),
        Some(Ok((record, zone))) => html(&RecordPage {
            id,
            kind: kind_name(t, record.kind),
            title: displayable(&record.title),
            tags: record.tags.join(", "),
            updated: when::when(&zone, record.updated),
            fields: record
                .fields
                .iter()
                .map(|field| (t.get(&format!("field-{}", field.name)), field.value.clone()))
                .collect(),
            body: record.body.clone(),
            files: record
                .attachments
                .iter()
                .map(|a| (displayable(&a.name), size_text(t, a.size)))
                .collect(),
            f,
        }),
        Some(Err(e)) => app.after_post("/", Some(Flash::Error(vault_error(t, &e)))),
    }
}

pub(super) async fn edit_form(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let t = app.tr();
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match with_vault(&app, move |vault| vault.get(&record_id)).await {
        None => to_unlock(),
        Some(Ok(record)) => {
            let f = Frame::new(&app);
            let heading = f.t.get("edit");
            html(&edit_page(f, heading, format!("/r/{id}/edit"), &record))
        }
        Some(Err(e)) => app.after_post("/", Some(Flash::Error(vault_error(t, &e)))),
    }
}

pub(super) async fn save(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let t = app.tr();
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let pairs = form(body);
    let saved = with_vault(&app, move |vault| {
        let mut record = vault.get(&record_id)?;
        fill(&mut record, pairs);
        record.updated = vault::now();
        vault.put(&record_id, &record)
    })
    .await;
    match saved {
        None => to_unlock(),
        Some(Ok(())) => app.after_post(&format!("/r/{id}"), None),
        Some(Err(e)) => app.after_post(&format!("/r/{id}"), Some(Flash::Error(vault_error(t, &e)))),
    }
}

pub(super) async fn confirm_delete(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(Ok(record)) = with_vault(&app, move |vault| vault.get(&record_id)).await else {
        return to_unlock();
    };
    let f = Frame::new(&app);
    html(&ConfirmPage {
        question: f
            .t
            .with("delete-question", "title", &displayable(&record.title)),
        detail: f.t.get("delete-detail"),
        action: format!("/r/{id}/delete"),
        button: f.t.get("delete"),
        back: format!("/r/{id}"),
        f,
    })
}

pub(super) async fn delete(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let t = app.tr();
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match with_vault(&app, move |vault| vault.remove(&record_id)).await {
        None => to_unlock(),
        Some(Ok(())) => app.after_post("/", Some(Flash::Notice(t.get("deleted")))),
        Some(Err(e)) => app.after_post(&format!("/r/{id}"), Some(Flash::Error(vault_error(t, &e)))),
    }
}

/// A size in the reader's units: "1,5 МБ" in Russian and Tajik, "1.5 MB" in English.
pub(super) fn size_text(t: Tr, bytes: u64) -> String {
    let (value, id) = if bytes >= 1_000_000 {
        (bytes as f64 / 1_000_000.0, "size-mb")
    } else if bytes >= 1_000 {
        (bytes as f64 / 1_000.0, "size-kb")
    } else {
        return t.count("size-bytes", "n", bytes as i64);
    };
    let mut number = format!("{value:.1}");
    if t.lang != Lang::En {
        number = number.replace('.', ",");
    }
    t.with(id, "n", &number)
}

/// A vault error in the reader's words; the rarest ones keep the library's English text
/// after a translated lead-in.
pub(super) fn vault_error(t: Tr, error: &VaultError) -> String {
    match error {
        VaultError::WrongPassphrase => t.get("error-wrong-passphrase"),
        VaultError::NotFound(dir) => t.with("error-no-vault", "dir", &dir.display().to_string()),
        VaultError::InUse(_) => t.get("error-in-use"),
        VaultError::NoSuchRecord(_) => t.get("error-no-record"),
        VaultError::TamperedRecord { id } => t.with("error-tampered", "id", id),
        VaultError::DuplicateAttachment { name, .. } => {
            t.with("error-duplicate-file", "name", name)
        }
        VaultError::Refused(refusal) => refused(t, refusal),
        other => t.with("error-other", "detail", &other.to_string()),
    }
}

/// What the vault will not do as asked, in the app's words; a refusal only the command line
/// can meet (a record id typed short, a key file that is not one) keeps the library's text.
fn refused(t: Tr, refusal: &Refusal) -> String {
    match refusal {
        Refusal::KeysChanged => t.get("refused-keys-changed"),
        Refusal::PassphraseInUse => t.get("refused-passphrase-in-use"),
        Refusal::DuressSameAsReal => t.get("refused-duress-same-as-real"),
        Refusal::EmptyPassphrase | Refusal::EmptyNewPassphrase | Refusal::EmptyDuressPassphrase => {
            t.get("refused-empty-passphrase")
        }
        Refusal::BadAttachmentName(name) => t.with("refused-attachment-name", "name", name),
        Refusal::BackupWantsKey(_) => t.get("refused-backup-wants-key"),
        Refusal::BackupWantsPassphrase(_) => t.get("refused-backup-wants-passphrase"),
        Refusal::BackupNewer { found, supported } => t.args(
            "refused-backup-newer",
            &[
                ("found", &found.to_string()),
                ("supported", &supported.to_string()),
            ],
        ),
        Refusal::DirNotEmpty(dir) => {
            t.with("refused-dir-not-empty", "dir", &dir.display().to_string())
        }
        Refusal::NotARecordId(_) | Refusal::NotAnIdentityFile { .. } => {
            t.with("error-other", "detail", &refusal.to_string())
        }
    }
}

/// The attachment download's headers: always a file to save, never a page to render.
pub(super) fn attachment_headers(name: &str, size: u64) -> [(header::HeaderName, String); 4] {
    // A right-to-left override would make the saved `fdp.exe` read as `exe.pdf`.
    let name = &displayable(name);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    [
        (header::CONTENT_TYPE, "application/octet-stream".into()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
        ),
        (header::CONTENT_LENGTH, size.to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
    ]
}
