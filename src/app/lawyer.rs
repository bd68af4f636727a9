//! The lawyer's side in the app, with or without a vault: verify an alert pasted in (the
//! checks of `posbon alert verify`), and open a released bundle with the lawyer's key file
//! (the checks of `posbon open --from`), its files written to a new folder in the downloads
//! directory. Nothing here needs the vault unlocked.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::response::Response;
use zeroize::{Zeroize, Zeroizing};

use super::pages::{Frame, form, html, take};
use super::text::Tr;
use super::{Flash, Shared};
use crate::alert::message::{self, VerifyError};
use crate::release::bundle::{self, BundleError, KeyProblem, Sealer};
use crate::release::keys;
use crate::release::names::displayable;
use crate::release::open::{self as opening, Input, KeyCheck};
use crate::secret::Passphrase;

/// The largest key file and bundle the form takes (a bundle holds at most 32 MiB, sealed).
const MAX_KEY: usize = 64 << 10;
const MAX_BUNDLE: usize = 40 << 20;
/// The whole form: both files and the short fields.
pub(super) const MAX_FORM: usize = MAX_BUNDLE + MAX_KEY + (64 << 10);

/// What the last verification or opening found, shown once by `GET /lawyer`.
pub(super) enum Finding {
    Verified {
        genuine: bool,
        /// (label, value)
        lines: Vec<(String, String)>,
        warning: String,
        text: String,
    },
    Opened {
        lines: Vec<(String, String)>,
        items: Vec<String>,
        written: Vec<String>,
        warning: String,
    },
}

#[derive(Template)]
#[template(path = "lawyer.html")]
struct LawyerPage {
    f: Frame,
    finding: Option<Finding>,
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    let finding = app.finding.lock().unwrap_or_else(|p| p.into_inner()).take();
    html(&LawyerPage {
        f: Frame::new(&app),
        finding,
    })
}

fn verify_error(t: Tr, error: &VerifyError) -> String {
    match error {
        VerifyError::NotFound => t.get("verify-not-found"),
        VerifyError::WrongWatcher { found, .. } => t.with("verify-wrong-watcher", "found", found),
        VerifyError::BadSignature | VerifyError::Mismatch(_) => t.get("verify-altered"),
        VerifyError::SeveralAlerts => t.get("verify-several"),
        VerifyError::InvisibleCharacters => t.get("verify-invisible"),
        other => t.with("error-other", "detail", &other.to_string()),
    }
}

pub(super) async fn verify(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let watcher = take(&mut pairs, "watcher");
    let alert = Zeroizing::new(take(&mut pairs, "alert").replace("\r\n", "\n"));
    pairs.zeroize();
    if !message::names_a_watcher(&watcher) {
        return app.after_post("/lawyer", Some(Flash::Error(t.get("verify-bad-watcher"))));
    }
    let finding = match message::verify(alert.as_bytes(), &watcher) {
        Ok(verified) => {
            let header = &verified.header;
            let fingerprint = crate::protocol::fingerprint(
                &crate::protocol::unb64(&header.watcher_key).unwrap_or_default(),
            );
            let issued = jiff::Timestamp::from_millisecond(header.issued_ms)
                .map(|at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            Finding::Verified {
                genuine: true,
                lines: vec![
                    (t.get("verify-signed-by"), fingerprint),
                    (t.get("verify-id"), header.id.clone()),
                    (t.get("verify-subject"), header.subject.clone()),
                    (t.get("verify-step"), header.step.clone()),
                    (t.get("verify-issued"), issued),
                ],
                warning: if verified.text_outside {
                    t.get("verify-text-outside")
                } else {
                    String::new()
                },
                text: verified.text,
            }
        }
        Err(e) => Finding::Verified {
            genuine: false,
            lines: Vec::new(),
            warning: verify_error(t, &e),
            text: String::new(),
        },
    };
    *app.finding.lock().unwrap_or_else(|p| p.into_inner()) = Some(finding);
    app.after_post("/lawyer", None)
}

pub(super) fn bundle_error(t: Tr, error: &BundleError) -> String {
    match error {
        BundleError::BadKey { problem, .. } => {
            t.with("open-bad-key", "problem", &key_problem(t, problem))
        }
        BundleError::SealedNeedsKey => t.get("open-missing"),
        BundleError::OutExists(dir) => t.with("open-out-exists", "dir", &dir.display().to_string()),
        BundleError::TooLarge { mib, max_mib } => t.args(
            "seal-too-large",
            &[("mib", &mib.to_string()), ("max", &max_mib.to_string())],
        ),
        BundleError::NoSealingKeys => t.get("seal-no-keys"),
        BundleError::Vault(e) => super::pages::vault_error(t, e),
        BundleError::NotForThisKey => t.get("open-not-for-this-key"),
        BundleError::WrongSealer { found, .. } => t.with("open-wrong-sealer", "found", found),
        BundleError::Unsigned => t.get("open-unsigned"),
        BundleError::NotSealedForThisKey { .. } => t.get("open-not-sealed-for-key"),
        BundleError::WrongKeyPassphrase { .. } => t.get("open-key-passphrase"),
        BundleError::Damaged(_) => t.get("open-damaged"),
        other => t.with("error-other", "detail", &other.to_string()),
    }
}

/// Why a key file cannot be used, in the app's words.
fn key_problem(t: Tr, problem: &KeyProblem) -> String {
    match problem {
        KeyProblem::TooLarge => t.get("key-too-large"),
        KeyProblem::NotAKey => t.get("key-not-a-key"),
        KeyProblem::BadLine(line) => t.with("key-bad-line", "line", &line.to_string()),
        KeyProblem::NoIdentity => t.get("key-no-identity"),
        KeyProblem::DamagedEncrypted => t.get("key-damaged-encrypted"),
        KeyProblem::NotPassphraseProtected => t.get("key-not-passphrase-protected"),
        KeyProblem::UnsupportedSsh => t.get("key-unsupported-ssh"),
        KeyProblem::DamagedSsh => t.get("key-damaged-ssh"),
    }
}

/// The form's parts, read whole but bounded; the key and its passphrase wiped after use.
struct OpenForm {
    key: Zeroizing<Vec<u8>>,
    key_passphrase: Passphrase,
    bundle: Vec<u8>,
    bundle_name: String,
    from: String,
}

async fn read_open_form(multipart: &mut Multipart) -> Result<OpenForm, &'static str> {
    let mut form = OpenForm {
        key: Zeroizing::new(Vec::new()),
        key_passphrase: Passphrase::new(String::new()),
        bundle: Vec::new(),
        bundle_name: String::new(),
        from: String::new(),
    };
    while let Ok(Some(mut field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        let limit = match name.as_str() {
            "key" => MAX_KEY,
            "bundle" => MAX_BUNDLE,
            _ => 4096,
        };
        if name == "bundle" {
            form.bundle_name = field.file_name().unwrap_or("bundle").to_string();
        }
        let mut bytes = Zeroizing::new(Vec::new());
        while let Ok(Some(chunk)) = field.chunk().await {
            if bytes.len() + chunk.len() > limit {
                return Err("open-too-large");
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "key" => form.key = bytes,
            "bundle" => form.bundle = bytes.to_vec(),
            "key_passphrase" => {
                form.key_passphrase =
                    Passphrase::new(String::from_utf8_lossy(&bytes).trim_end().to_string())
            }
            "from" => form.from = String::from_utf8_lossy(&bytes).trim().to_string(),
            _ => {}
        }
    }
    if form.key.is_empty() || form.bundle.is_empty() {
        return Err("open-missing");
    }
    Ok(form)
}

pub(super) async fn open(State(app): State<Shared>, mut multipart: Multipart) -> Response {
    let t = app.tr();
    let form = match read_open_form(&mut multipart).await {
        Ok(form) => form,
        Err(id) => return app.after_post("/lawyer", Some(Flash::Error(t.get(id)))),
    };
    if !bundle::is_sealing_fingerprint(&form.from) {
        return app.after_post("/lawyer", Some(Flash::Error(t.get("open-bad-from"))));
    }
    let opened = tokio::task::spawn_blocking(move || open_bundle(t, form)).await;
    match opened {
        Ok(Ok(finding)) => {
            *app.finding.lock().unwrap_or_else(|p| p.into_inner()) = Some(finding);
            app.after_post("/lawyer", None)
        }
        Ok(Err(text)) => app.after_post("/lawyer", Some(Flash::Error(text))),
        Err(_) => app.after_post("/lawyer", Some(Flash::Error(t.get("open-damaged")))),
    }
}

/// A folder that does not exist yet in the downloads directory, named after the bundle.
fn new_folder(bundle_name: &str) -> std::path::PathBuf {
    let base = dirs::download_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir);
    let stem: String = bundle_name
        .trim_end_matches(".age")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let stem = if stem.is_empty() {
        "bundle".into()
    } else {
        stem
    };
    (0..)
        .map(|n| match n {
            0 => base.join(format!("{stem}-opened")),
            n => base.join(format!("{stem}-opened-{n}")),
        })
        .find(|path| path.symlink_metadata().is_err())
        .expect("some name is free")
}

fn open_bundle(t: Tr, form: OpenForm) -> Result<Finding, String> {
    let passphrase = form.key_passphrase;
    let key = keys::parse(&form.key, "key", &mut || {
        if passphrase.is_empty() {
            Err(BundleError::WrongKeyPassphrase { key: "key".into() })
        } else {
            Ok(Passphrase::new(passphrase.expose().to_string()))
        }
    })
    .map_err(|e| bundle_error(t, &e))?;
    let out = new_folder(&form.bundle_name);
    let opened = opening::open(
        &mut form.bundle.as_slice(),
        Input::Sealed(&key),
        Some(&out),
        Some(&form.from),
    )
    .map_err(|e| bundle_error(t, &e))?;
    let manifest = &opened.manifest;
    let signed_by = match &opened.sealer {
        Sealer::Signed { fingerprint } => t.with("open-signed-checked", "fingerprint", fingerprint),
        Sealer::Unsigned => t.get("open-unsigned"),
    };
    let sealed = jiff::Timestamp::from_millisecond(manifest.sealed_ms)
        .map(|at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    Ok(Finding::Opened {
        lines: vec![
            (t.get("open-name"), displayable(&manifest.name)),
            (t.get("open-version"), manifest.version.to_string()),
            (t.get("open-signed-by"), signed_by),
            (
                t.get("open-sealed"),
                format!("{sealed}, {}", displayable(&manifest.by)),
            ),
            (
                t.get("open-for"),
                manifest
                    .for_
                    .iter()
                    .map(|f| displayable(f))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                t.get("open-your-key"),
                match opened.key {
                    KeyCheck::SealedForThisKey => t.get("open-key-checked"),
                    _ => t.get("open-key-not-checked"),
                },
            ),
            ("SHA-256".into(), opened.sha256.clone()),
        ],
        items: manifest
            .items
            .iter()
            .map(|item| format!("{}. {}", item.n, displayable(&item.title)))
            .collect(),
        written: opened
            .written
            .iter()
            .map(|path| out.join(path).display().to_string())
            .collect(),
        warning: t.get("open-files-warning"),
    })
}
