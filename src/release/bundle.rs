//! A release bundle: chosen records and their attachments, sealed on the laptop for the
//! lawyers' own age keys (X25519 or `ssh-ed25519`), to be released by the watchers if the
//! journalist goes silent. The watchers hold it but cannot read it.
//!
//! Format: an `age` file (binary) whose plaintext is a POSIX tar archive:
//!
//! - `MANIFEST.txt`: what the bundle holds, for people (English and Russian headings);
//! - `manifest.json`: the same for programs (`format: "posbon-bundle/1"`);
//! - `NN-SLUG/record.txt`: each record as text (kind, title, fields, tags, body);
//! - `NN-SLUG/FILE`: its attachments, under their own names;
//! - `SIGNATURE.json`, last: the journalist's *sealing key* (Ed25519, kept in the vault) and
//!   its signature over the path, size and SHA-256 of every file before it.
//!
//! So a lawyer opens it with `posbon open BUNDLE -i KEY`, or with the standard tools:
//! `age -d -i KEY BUNDLE | tar x`. Anyone who knows a lawyer's public key can encrypt a file
//! to it, and a watcher's operator can attach any file to an alert the watcher signs; the
//! signature is what shows the journalist sealed this one. `posbon open` checks it and shows
//! the sealing key's fingerprint, which the lawyer compares with the one the journalist gave
//! them in person (`--from` makes the comparison and refuses on a mismatch).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::vault::{Kind, Record, RecordId, Vault, VaultError};

pub const FORMAT: &str = "posbon-bundle/1";
pub const SIGNATURE_FORMAT: &str = "posbon-bundle-signature/1";
const SIGNATURE_FILE: &str = "SIGNATURE.json";
/// The signature file is small; anything larger is not one.
const MAX_SIGNATURE_FILE: u64 = 16 * 1024;
/// Bundles travel by e-mail and sit on watchers: this is the most one may hold.
pub const MAX_BUNDLE: u64 = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Invalid(String),
    #[error("writing the bundle failed: {0}")]
    Io(#[from] std::io::Error),
    /// A file that could not be read (exit code 1, as any I/O error).
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        path: std::path::PathBuf,
        reason: std::io::Error,
    },
    #[error(
        "this key cannot open the bundle (it was sealed for other keys), or it is not an age file"
    )]
    NotForThisKey,
    #[error("the bundle is damaged or was altered: {0}")]
    Damaged(String),
    #[error(
        "the bundle was sealed by key {found}, not by {expected}: it is not from the journalist you named"
    )]
    WrongSealer { expected: String, found: String },
    #[error(
        "the bundle is not signed, so --from cannot be checked: it may be a forgery (or was sealed by a posbon older than the signature)"
    )]
    Unsigned,
}

/// `SIGNATURE.json`: who sealed the bundle, and their signature over its files.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SignatureFile {
    format: String,
    /// The sealing key, Ed25519, base64.
    key: String,
    fingerprint: String,
    /// Over [`signed_listing`] of every file before this one, base64.
    signature: String,
}

/// Who sealed an opened bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealer {
    /// Signed by this sealing key (the signature checked out).
    Signed { fingerprint: String },
    /// No signature: sealed by an older posbon.
    Unsigned,
}

/// An opened bundle: what it says it holds, and who sealed it.
#[derive(Debug)]
pub struct Opened {
    pub manifest: Manifest,
    pub sealer: Sealer,
}

/// A sealing key's fingerprint: the same form as a watcher's (128 bits of SHA-256 of the
/// public key, in groups of four hex digits), long enough to stand up to an adversary who
/// would search for a key with the same fingerprint.
pub fn sealing_fingerprint(public_key: &[u8]) -> String {
    crate::watch::protocol::fingerprint(public_key)
}

/// Whether `text` (as typed: any case, any separators) can be a whole sealing fingerprint:
/// 32 hex digits. A shortened one is a typing mistake, not a different sealer.
pub fn is_sealing_fingerprint(text: &str) -> bool {
    crate::watch::protocol::is_whole_fingerprint(text)
}

/// Whether `expected` (as typed: any case, any separators) is `fingerprint`.
pub fn same_fingerprint(expected: &str, fingerprint: &str) -> bool {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase()
    };
    let (a, b) = (clean(expected), clean(fingerprint));
    // Fingerprints are public: no need to compare in constant time.
    !a.is_empty() && a == b
}

/// What the signature covers: a line per file, in archive order.
fn signed_listing(files: &[(String, u64, String)]) -> Vec<u8> {
    let mut text = format!("{SIGNATURE_FORMAT}\n");
    for (path, size, sha256) in files {
        text.push_str(&format!("{sha256} {size} {path}\n"));
    }
    text.into_bytes()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// One item of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub n: usize,
    /// The folder in the archive.
    pub dir: String,
    pub kind: String,
    pub title: String,
    pub created_ms: i64,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub name: String,
    pub sealed_ms: i64,
    /// Who sealed it, as they chose to be named.
    pub by: String,
    /// The recipients it was sealed for (contact names).
    pub for_: Vec<String>,
    pub items: Vec<Item>,
}

/// A recipient a bundle can be sealed for: `age1...` or `ssh-ed25519 AAAA...`.
pub fn parse_recipient(text: &str) -> Result<Box<dyn age::Recipient + Send>, BundleError> {
    let text = text.trim();
    if text.starts_with("age1") {
        return text
            .parse::<age::x25519::Recipient>()
            .map(|r| Box::new(r) as Box<dyn age::Recipient + Send>)
            .map_err(|e| BundleError::Invalid(format!("{text:?} is not an age recipient: {e}")));
    }
    if text.starts_with("ssh-ed25519 ") {
        return text
            .parse::<age::ssh::Recipient>()
            .map(|r| Box::new(r) as Box<dyn age::Recipient + Send>)
            .map_err(|_| BundleError::Invalid(format!("{text:?} is not an ssh-ed25519 key")));
    }
    Err(BundleError::Invalid(format!(
        "{text:?}: a lawyer's key is an age recipient (age1...) or an ssh-ed25519 public key"
    )))
}

/// A folder name for an item: its number and a safe form of its title.
fn slug(n: usize, title: &str) -> String {
    let mut out: String = title
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    out = out.chars().take(40).collect();
    if out.is_empty() {
        out = "item".into();
    }
    format!("{n:02}-{out}")
}

/// A file name that stays inside its folder.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_string();
    if cleaned.is_empty() || cleaned == "record.txt" {
        format!("file-{cleaned}")
    } else {
        cleaned
    }
}

fn render(record: &Record) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    text.push_str(&format!(
        "{}: {}\n",
        record.kind.title_label(),
        record.title
    ));
    text.push_str(&format!("kind: {}\n", record.kind.as_str()));
    for field in &record.fields {
        text.push_str(&format!("{}: {}\n", field.name, field.value));
    }
    if !record.tags.is_empty() {
        text.push_str(&format!("tags: {}\n", record.tags.join(", ")));
    }
    text.push_str(&format!(
        "created: {}\n\n",
        jiff::Timestamp::from_millisecond(record.created)
            .map(|t| t.to_string())
            .unwrap_or_default()
    ));
    text.push_str(&record.body);
    text.push('\n');
    text
}

fn human_manifest(manifest: &Manifest) -> String {
    let mut text = format!(
        "posbon release bundle / пакет материалов posbon\n\nname / название: {}\nsealed / запечатан: {}\nby / кем: {}\nfor / для: {}\n\n",
        manifest.name,
        jiff::Timestamp::from_millisecond(manifest.sealed_ms)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        manifest.by,
        manifest.for_.join(", ")
    );
    for item in &manifest.items {
        text.push_str(&format!(
            "{}. [{}] {}\n   folder / папка: {}/\n",
            item.n, item.kind, item.title, item.dir
        ));
        for file in &item.files {
            text.push_str(&format!("   - {file}\n"));
        }
    }
    text
}

fn tar_header(path: &str, size: u64, mtime_ms: i64) -> Result<tar::Header, BundleError> {
    let mut header = tar::Header::new_ustar();
    header
        .set_path(path)
        .map_err(|e| BundleError::Invalid(format!("the name {path:?}: {e}")))?;
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime((mtime_ms.max(0) / 1000) as u64);
    header.set_cksum();
    Ok(header)
}

/// What a bundle of `ids` would hold, without sealing anything (for the preview).
pub fn plan(vault: &Vault, ids: &[RecordId]) -> Result<Vec<(RecordId, Item)>, BundleError> {
    let mut items = Vec::new();
    let mut total: u64 = 0;
    for (i, id) in ids.iter().enumerate() {
        let record = vault.get(id)?;
        let n = i + 1;
        total += record.attachments.iter().map(|a| a.size).sum::<u64>() + record.body.len() as u64;
        items.push((
            *id,
            Item {
                n,
                dir: slug(n, &record.title),
                kind: record.kind.as_str().to_string(),
                title: record.title.clone(),
                created_ms: record.created,
                files: record
                    .attachments
                    .iter()
                    .map(|a| safe_name(&a.name))
                    .collect(),
            },
        ));
    }
    if total > MAX_BUNDLE {
        return Err(BundleError::Invalid(format!(
            "these records hold {} MiB; a bundle may hold at most {} MiB (leave out large attachments)",
            total / (1024 * 1024),
            MAX_BUNDLE / (1024 * 1024)
        )));
    }
    Ok(items)
}

/// Whether any of `ids` is a source (protected unless named and confirmed).
pub fn sources_among(vault: &Vault, ids: &[RecordId]) -> Result<Vec<String>, BundleError> {
    let mut titles = Vec::new();
    for id in ids {
        let record = vault.get(id)?;
        if record.kind == Kind::Source {
            titles.push(record.title.clone());
        }
    }
    Ok(titles)
}

/// How a bundle is labelled in its manifest.
pub struct Label<'a> {
    pub name: &'a str,
    pub by: &'a str,
    /// The contacts it is for, by name.
    pub for_: &'a [String],
    pub sealed_ms: i64,
}

/// Seals the records `ids` for `recipients` into `output`, signed with the journalist's
/// sealing key `signer`; returns the manifest.
pub fn seal(
    vault: &Vault,
    ids: &[RecordId],
    recipients: &[String],
    label: &Label<'_>,
    signer: &ring::signature::Ed25519KeyPair,
    output: &mut dyn Write,
) -> Result<Manifest, BundleError> {
    let (name, by, for_, now_ms) = (label.name, label.by, label.for_, label.sealed_ms);
    let parsed: Vec<Box<dyn age::Recipient + Send>> = recipients
        .iter()
        .map(|r| parse_recipient(r))
        .collect::<Result<_, _>>()?;
    if parsed.is_empty() {
        return Err(BundleError::Invalid(
            "none of the chosen contacts has an age or SSH key (contact add --age-recipient)"
                .into(),
        ));
    }
    let planned = plan(vault, ids)?;
    let manifest = Manifest {
        format: FORMAT.into(),
        name: name.to_string(),
        sealed_ms: now_ms,
        by: by.to_string(),
        for_: for_.to_vec(),
        items: planned.iter().map(|(_, item)| item.clone()).collect(),
    };
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r.as_ref() as &dyn age::Recipient))
            .map_err(|e| BundleError::Invalid(format!("cannot encrypt to those keys: {e}")))?;
    let mut sealed = encryptor.wrap_output(output)?;
    {
        let mut archive = tar::Builder::new(&mut sealed);
        // (path, size, SHA-256) of every file, for the signature at the end.
        let mut files: Vec<(String, u64, String)> = Vec::new();
        let mut append = |archive: &mut tar::Builder<_>,
                          path: String,
                          bytes: &[u8],
                          mtime_ms: i64|
         -> Result<(), BundleError> {
            archive.append(&tar_header(&path, bytes.len() as u64, mtime_ms)?, bytes)?;
            files.push((path, bytes.len() as u64, sha256_hex(bytes)));
            Ok(())
        };
        let human = human_manifest(&manifest);
        append(
            &mut archive,
            "MANIFEST.txt".into(),
            human.as_bytes(),
            now_ms,
        )?;
        let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
        append(&mut archive, "manifest.json".into(), &json, now_ms)?;
        for (id, item) in &planned {
            let record = vault.get(id)?;
            let text = render(&record);
            append(
                &mut archive,
                format!("{}/record.txt", item.dir),
                text.as_bytes(),
                record.updated,
            )?;
            for (attachment, file) in record.attachments.iter().zip(&item.files) {
                // Bundles are bounded (MAX_BUNDLE), so one attachment at a time fits in RAM;
                // the buffer is wiped afterwards.
                let mut bytes = Zeroizing::new(Vec::with_capacity(attachment.size as usize));
                vault.extract(id, &attachment.name, &mut *bytes)?;
                append(
                    &mut archive,
                    format!("{}/{file}", item.dir),
                    &bytes,
                    attachment.added,
                )?;
            }
        }
        let public_key = ring::signature::KeyPair::public_key(signer).as_ref();
        let signature = SignatureFile {
            format: SIGNATURE_FORMAT.into(),
            key: crate::watch::protocol::b64(public_key),
            fingerprint: sealing_fingerprint(public_key),
            signature: crate::watch::protocol::b64(signer.sign(&signed_listing(&files)).as_ref()),
        };
        let json = serde_json::to_vec_pretty(&signature).expect("a signature serialises");
        archive.append(
            &tar_header(SIGNATURE_FILE, json.len() as u64, now_ms)?,
            json.as_slice(),
        )?;
        archive.finish()?;
    }
    sealed.finish()?;
    Ok(manifest)
}

/// Reads the identities in `key` (an age identity file, or an SSH private key).
pub fn identities(key: &Path) -> Result<Vec<Box<dyn age::Identity>>, BundleError> {
    let bytes = Zeroizing::new(
        std::fs::read(key).map_err(|reason| BundleError::Unreadable {
            path: key.to_path_buf(),
            reason,
        })?,
    );
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("AGE-SECRET-KEY-") {
        let file = age::IdentityFile::from_buffer(std::io::BufReader::new(bytes.as_slice()))
            .map_err(|e| BundleError::Invalid(format!("{}: {e}", key.display())))?;
        return file
            .into_identities()
            .map_err(|e| BundleError::Invalid(format!("{}: {e}", key.display())));
    }
    let identity = age::ssh::Identity::from_buffer(
        std::io::BufReader::new(bytes.as_slice()),
        Some(key.display().to_string()),
    )
    .map_err(|_| {
        BundleError::Invalid(format!(
            "{}: not an age identity file nor an SSH private key",
            key.display()
        ))
    })?;
    match identity {
        age::ssh::Identity::Unencrypted(_) => Ok(vec![Box::new(identity)]),
        _ => Err(BundleError::Invalid(format!(
            "{}: a passphrase-protected or unsupported SSH key; use `age -d -i` with it, or an unencrypted copy",
            key.display()
        ))),
    }
}

/// Opens a bundle with `identities` and writes its contents under `out` (which must not
/// exist). Returns the manifest.
///
/// With `from` (a sealing fingerprint as the lawyer typed it), a bundle sealed by another key,
/// or not signed, is refused. The files are written to a hidden folder beside `out` and
/// renamed to `out` only once everything checked out, so `out` never holds a bundle that
/// failed a check, even if posbon is killed half-way.
pub fn open(
    bundle: &mut dyn Read,
    identities: &[Box<dyn age::Identity>],
    out: &Path,
    from: Option<&str>,
) -> Result<Opened, BundleError> {
    let decryptor = age::Decryptor::new(age::armor::ArmoredReader::new(bundle))
        .map_err(|_| BundleError::NotForThisKey)?;
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|_| BundleError::NotForThisKey)?;
    let exists = || {
        BundleError::Invalid(format!(
            "{} already exists: give a new folder with --out",
            out.display()
        ))
    };
    // Never written into: what is there stays as it is. Choose another folder.
    if out.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let partial = partial_dir(out);
    std::fs::create_dir(&partial)?;
    let result = extract(reader, &partial).and_then(|opened| {
        check_sealer(&opened.sealer, from)?;
        // rename(2) replaces an empty directory, so `out` is claimed with mkdir first.
        std::fs::create_dir(out).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => exists(),
            _ => BundleError::Io(e),
        })?;
        std::fs::rename(&partial, out)?;
        Ok(opened)
    });
    if result.is_err() {
        // A bundle that fails half-way leaves nothing half-written behind.
        let _ = std::fs::remove_dir_all(&partial);
    }
    result
}

/// A hidden folder beside `out`, for the files until they checked out.
fn partial_dir(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let suffix = hex::encode(crate::crypto::random_array::<4>());
    out.with_file_name(format!(".{name}.partial-{suffix}"))
}

/// Refuses a bundle that `from` (as typed) does not name as its sealer.
fn check_sealer(sealer: &Sealer, from: Option<&str>) -> Result<(), BundleError> {
    match (sealer, from) {
        (_, None) => Ok(()),
        (Sealer::Signed { fingerprint }, Some(expected)) => {
            if same_fingerprint(expected, fingerprint) {
                Ok(())
            } else {
                Err(BundleError::WrongSealer {
                    expected: expected.trim().to_string(),
                    found: fingerprint.clone(),
                })
            }
        }
        (Sealer::Unsigned, Some(_)) => Err(BundleError::Unsigned),
    }
}

/// A file being written, and the SHA-256 of what went into it.
struct HashingWriter<W> {
    inner: W,
    digest: ring::digest::Context,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.digest.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Checks `SIGNATURE.json` against the files read before it.
fn check_signature(bytes: &[u8], files: &[(String, u64, String)]) -> Result<Sealer, BundleError> {
    let bad = |why: &str| BundleError::Damaged(format!("{SIGNATURE_FILE}: {why}"));
    let signature: SignatureFile =
        serde_json::from_slice(bytes).map_err(|_| bad("it is malformed"))?;
    if signature.format != SIGNATURE_FORMAT {
        return Err(bad("an unknown format"));
    }
    let key = crate::watch::protocol::unb64(&signature.key).map_err(|_| bad("a malformed key"))?;
    let fingerprint = sealing_fingerprint(&key);
    if signature.fingerprint != fingerprint {
        return Err(bad("the fingerprint is not that of the key"));
    }
    let sig = crate::watch::protocol::unb64(&signature.signature)
        .map_err(|_| bad("a malformed signature"))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
        .verify(&signed_listing(files), &sig)
        .map_err(|_| {
            bad("the signature does not match the files: something was changed after sealing")
        })?;
    Ok(Sealer::Signed { fingerprint })
}

/// Writes the archive's regular files under `out`, within the size a bundle may have.
fn extract(reader: impl Read, out: &Path) -> Result<Opened, BundleError> {
    let mut archive = tar::Archive::new(reader);
    let mut manifest = None;
    let mut total: u64 = 0;
    let mut files: Vec<(String, u64, String)> = Vec::new();
    let mut sealer = Sealer::Unsigned;
    let mut signed = false;
    for entry in archive
        .entries()
        .map_err(|e| BundleError::Damaged(e.to_string()))?
    {
        let mut entry = entry.map_err(|e| BundleError::Damaged(e.to_string()))?;
        if signed {
            return Err(BundleError::Damaged(format!(
                "something follows {SIGNATURE_FILE}, outside what it signs"
            )));
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        // posbon writes regular files only: links, devices and sparse files are refused.
        if !kind.is_file() {
            return Err(BundleError::Damaged(format!(
                "it holds something other than plain files ({kind:?})"
            )));
        }
        let size = entry
            .header()
            .size()
            .map_err(|e| BundleError::Damaged(e.to_string()))?;
        total = total.saturating_add(size);
        if total > MAX_BUNDLE + 1024 * 1024 {
            return Err(BundleError::Damaged(
                "it unpacks to more than a bundle can hold".into(),
            ));
        }
        let path = entry
            .path()
            .map_err(|e| BundleError::Damaged(e.to_string()))?
            .into_owned();
        // The signed listing has a line per file: a name with a line break (or any control
        // character) could make several files read as one, hiding some from the signature.
        // posbon never writes such names.
        let Some(name) = path.to_str().filter(|n| !n.chars().any(char::is_control)) else {
            return Err(BundleError::Damaged(
                "a file name holds a control character or is not UTF-8".into(),
            ));
        };
        let name = name.to_string();
        let target = contained(out, &path)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&target)
            .map_err(|e| BundleError::Damaged(format!("{}: {e}", path.display())))?;
        if path == Path::new("manifest.json") || path == Path::new(SIGNATURE_FILE) {
            if path == Path::new(SIGNATURE_FILE) && size > MAX_SIGNATURE_FILE {
                return Err(BundleError::Damaged(format!(
                    "{SIGNATURE_FILE} is too large"
                )));
            }
            let mut bytes = Vec::new();
            (&mut entry)
                .take(size)
                .read_to_end(&mut bytes)
                .map_err(|e| BundleError::Damaged(e.to_string()))?;
            if path == Path::new(SIGNATURE_FILE) {
                sealer = check_signature(&bytes, &files)?;
                signed = true;
            } else {
                manifest = Some(
                    serde_json::from_slice::<Manifest>(&bytes)
                        .map_err(|e| BundleError::Damaged(format!("manifest.json: {e}")))?,
                );
                files.push((name, bytes.len() as u64, sha256_hex(&bytes)));
            }
            file.write_all(&bytes)?;
        } else {
            let mut hashing = HashingWriter {
                inner: &mut file,
                digest: ring::digest::Context::new(&ring::digest::SHA256),
            };
            let copied = std::io::copy(&mut (&mut entry).take(size), &mut hashing)
                .map_err(|e| BundleError::Damaged(e.to_string()))?;
            files.push((name, copied, hex::encode(hashing.digest.finish())));
        }
        file.sync_all()?;
    }
    let manifest = manifest.ok_or_else(|| BundleError::Damaged("it has no manifest".into()))?;
    Ok(Opened { manifest, sealer })
}

/// `out/path`, refusing anything that would leave `out` (absolute paths, `..`).
fn contained(out: &Path, path: &Path) -> Result<PathBuf, BundleError> {
    use std::path::Component;
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(BundleError::Damaged(format!(
            "it names a file outside its folder: {}",
            path.display()
        )));
    }
    Ok(out.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed_archive(
        build: impl FnOnce(&mut tar::Builder<&mut Vec<u8>>),
    ) -> (Vec<u8>, Vec<Box<dyn age::Identity>>) {
        let mut plain = Vec::new();
        {
            let mut archive = tar::Builder::new(&mut plain);
            build(&mut archive);
            archive.finish().unwrap();
        }
        let (_, identity) = crate::vault::identity::generate();
        let recipient = identity.to_public();
        let mut sealed = Vec::new();
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .unwrap();
        let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
        writer.write_all(&plain).unwrap();
        writer.finish().unwrap();
        (sealed, vec![Box::new(identity)])
    }

    #[test]
    fn hostile_archives_are_refused_and_leave_nothing_behind() {
        let temp = tempfile::tempdir().unwrap();
        // A symbolic link pointing out of the folder.
        let (sealed, ids) = sealed_archive(|a| {
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_path("01-x/link").unwrap();
            header.set_link_name("/etc/passwd").unwrap();
            header.set_size(0);
            header.set_cksum();
            a.append(&header, std::io::empty()).unwrap();
        });
        let out = temp.path().join("a");
        assert!(matches!(
            open(&mut sealed.as_slice(), &ids, &out, None),
            Err(BundleError::Damaged(_))
        ));
        assert!(!out.exists());
        // An entry claiming more than a bundle can hold.
        let (sealed, ids) = sealed_archive(|a| {
            let mut header = tar::Header::new_gnu();
            header.set_path("01-x/huge").unwrap();
            header.set_size(MAX_BUNDLE * 4);
            header.set_cksum();
            a.append(&header, std::io::repeat(0).take(0)).unwrap_or(());
        });
        let out = temp.path().join("b");
        assert!(open(&mut sealed.as_slice(), &ids, &out, None).is_err());
        assert!(!out.exists());
        // A path leaving the folder.
        let (sealed, ids) = sealed_archive(|a| {
            let mut header = tar::Header::new_gnu();
            let name = b"../escaped";
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            header.set_size(1);
            header.set_cksum();
            a.append(&header, &b"x"[..]).unwrap();
        });
        let out = temp.path().join("c");
        assert!(open(&mut sealed.as_slice(), &ids, &out, None).is_err());
        assert!(!temp.path().join("escaped").exists());
        assert!(!out.exists());
    }

    /// A signed archive as `seal` writes it: a manifest, one file, the signature; then
    /// whatever `after` appends.
    fn signed_archive(
        key: &ring::signature::Ed25519KeyPair,
        file: &[u8],
        after: impl FnOnce(&mut tar::Builder<&mut Vec<u8>>),
    ) -> (Vec<u8>, Vec<Box<dyn age::Identity>>) {
        sealed_archive(|a| {
            let manifest = serde_json::to_vec(&Manifest {
                format: FORMAT.into(),
                name: "n".into(),
                sealed_ms: 0,
                by: "b".into(),
                for_: vec![],
                items: vec![],
            })
            .unwrap();
            let mut files = Vec::new();
            for (path, bytes) in [("manifest.json", &manifest[..]), ("01-x/a.txt", file)] {
                a.append(&tar_header(path, bytes.len() as u64, 0).unwrap(), bytes)
                    .unwrap();
                files.push((path.to_string(), bytes.len() as u64, sha256_hex(bytes)));
            }
            let public = ring::signature::KeyPair::public_key(key).as_ref();
            let signature = serde_json::to_vec(&SignatureFile {
                format: SIGNATURE_FORMAT.into(),
                key: crate::watch::protocol::b64(public),
                fingerprint: sealing_fingerprint(public),
                signature: crate::watch::protocol::b64(key.sign(&signed_listing(&files)).as_ref()),
            })
            .unwrap();
            a.append(
                &tar_header(SIGNATURE_FILE, signature.len() as u64, 0).unwrap(),
                &signature[..],
            )
            .unwrap();
            after(a);
        })
    }

    #[test]
    fn the_signature_covers_every_file_and_nothing_may_follow_it() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let key = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let fingerprint = sealing_fingerprint(ring::signature::KeyPair::public_key(&key).as_ref());
        let temp = tempfile::tempdir().unwrap();
        let (sealed, ids) = signed_archive(&key, b"case notes", |_| {});
        let opened = open(&mut sealed.as_slice(), &ids, &temp.path().join("ok"), None).unwrap();
        assert_eq!(
            opened.sealer,
            Sealer::Signed {
                fingerprint: fingerprint.clone()
            }
        );
        assert!(same_fingerprint(
            &fingerprint.to_uppercase().replace('-', " "),
            &fingerprint
        ));
        assert!(!same_fingerprint("", &fingerprint));
        // A file slipped in after the signature, outside what it covers.
        let (sealed, ids) = signed_archive(&key, b"case notes", |a| {
            a.append(&tar_header("01-x/planted.txt", 1, 0).unwrap(), &b"x"[..])
                .unwrap();
        });
        let out = temp.path().join("after");
        assert!(matches!(
            open(&mut sealed.as_slice(), &ids, &out, None),
            Err(BundleError::Damaged(why)) if why.contains("follows")
        ));
        assert!(!out.exists());
        // A name with a line break, which could make two files read as one in the signed
        // listing and hide the second.
        let (sealed, ids) = sealed_archive(|a| {
            let mut header = tar::Header::new_gnu();
            let name = b"01-x/b.txt\nfeed 1 01-x/c.txt";
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            header.set_size(1);
            header.set_cksum();
            a.append(&header, &b"x"[..]).unwrap();
        });
        let out = temp.path().join("newline");
        assert!(matches!(
            open(&mut sealed.as_slice(), &ids, &out, None),
            Err(BundleError::Damaged(why)) if why.contains("control character")
        ));
        // --from: another sealer, or none, is refused and leaves nothing at all behind.
        let (sealed, ids) = signed_archive(&key, b"case notes", |_| {});
        let out = temp.path().join("other");
        assert!(matches!(
            open(&mut sealed.as_slice(), &ids, &out, Some("0000-1111")),
            Err(BundleError::WrongSealer { .. })
        ));
        let (sealed, ids) = signed_archive(&key, b"case notes", |_| {});
        let mut right = open(
            &mut sealed.as_slice(),
            &ids,
            &temp.path().join("right"),
            Some(&fingerprint),
        );
        assert!(right.is_ok());
        let (unsigned, ids) = sealed_archive(|a| {
            let manifest = br#"{"format":"posbon-bundle/1","name":"n","sealed_ms":0,"by":"b","for_":[],"items":[]}"#;
            a.append(
                &tar_header("manifest.json", manifest.len() as u64, 0).unwrap(),
                &manifest[..],
            )
            .unwrap();
        });
        right = open(&mut unsigned.as_slice(), &ids, &out, Some(&fingerprint));
        assert!(matches!(right, Err(BundleError::Unsigned)));
        let mut left: Vec<String> = std::fs::read_dir(temp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["ok", "right"], "only what opened and checked out");
    }

    #[test]
    fn names_stay_inside_the_bundle() {
        assert_eq!(
            slug(3, "Case 12/2026: Sino court"),
            "03-Case-12-2026-Sino-court"
        );
        assert_eq!(slug(1, "///"), "01-item");
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name("record.txt"), "file-record.txt");
        let out = Path::new("/tmp/x");
        assert!(contained(out, Path::new("01-a/record.txt")).is_ok());
        assert!(contained(out, Path::new("../evil")).is_err());
        assert!(contained(out, Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn recipients_are_age_or_ssh_ed25519_keys() {
        let (_, identity) = crate::vault::identity::generate();
        parse_recipient(&identity.to_public().to_string()).unwrap();
        assert!(parse_recipient("ssh-rsa AAAA").is_err());
        assert!(parse_recipient("age1notvalid").is_err());
    }
}
