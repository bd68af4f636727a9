//! A release bundle: chosen records and their attachments, sealed on the laptop for the
//! lawyers' own age keys (X25519 or `ssh-ed25519`), to be released by the watchers if the
//! journalist goes silent. The watchers hold it but cannot read it. Opening it is
//! [`super::open`]; the lawyer's key is [`super::keys`].
//!
//! Format: an `age` file (binary) whose plaintext is a POSIX tar archive:
//!
//! - `MANIFEST.txt`: what the bundle holds, for people (English, Russian and Tajik headings,
//!   from [`super::text`]);
//! - `manifest.json`: the same for programs (`format: "posbon-bundle/2"`), with the bundle's
//!   id, its version (one more at every `release update`) and the recipients' keys, so a
//!   replayed old version or a copy re-encrypted for someone else shows;
//! - `NN-SLUG/record.txt`: each record as text (kind, title, fields, tags, body; labelled in
//!   the three languages);
//! - `NN-SLUG/FILE`: its attachments, under their own names;
//! - `PADDING`: zeros, so the sealed size is rounded up (Padmé) and says less of what is in it;
//! - `SIGNATURE.json`, last: the journalist's *sealing key* (Ed25519, kept in the vault) and
//!   its signature over the path, size and SHA-256 of every file before it.
//!
//! Anyone who knows a lawyer's public key can encrypt a file to it, and a watcher's operator
//! can attach any file to an alert the watcher signs; the signature is what shows the
//! journalist sealed this one, and `posbon open --from` checks it before writing anything.

use std::io::Write;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use super::error::{BundleError, KeyProblem};
use super::names::is_hidden_char;
use super::text;
use crate::vault::{Kind, RecordId, Vault};

/// The format posbon seals: with the bundle id, version and recipients in the manifest.
pub const FORMAT_V2: &str = "posbon-bundle/2";
/// The first format (no version, no recipients): still opened, and said to be older.
pub const FORMAT_V1: &str = "posbon-bundle/1";
pub const SIGNATURE_FORMAT: &str = "posbon-bundle-signature/1";
pub(super) const SIGNATURE_FILE: &str = "SIGNATURE.json";
/// Zeros before the signature (signed like any file), never written out by `posbon open`.
pub(super) const PADDING_FILE: &str = "PADDING";
/// The signature file is small; anything larger is not one.
pub(super) const MAX_SIGNATURE_FILE: u64 = 16 * 1024;
/// Bundles travel by e-mail and sit on watchers: this is the most a sealed bundle may be.
pub const MAX_BUNDLE: u64 = 32 * 1024 * 1024;
/// What the records and attachments may hold, leaving room under [`MAX_BUNDLE`] for the
/// archive's headers, the manifest and the padding.
pub const MAX_CONTENT: u64 = MAX_BUNDLE - 2 * 1024 * 1024;
/// A name in the archive at most (bytes); longer names are cut.
const MAX_NAME_BYTES: usize = 200;
/// Bundles smaller than this are padded up to it: a short note and a long one look alike.
const MIN_PADDED: u64 = 64 * 1024;

/// `SIGNATURE.json`: who sealed the bundle, and their signature over its files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SignatureFile {
    pub(super) format: String,
    /// The sealing key, Ed25519, base64.
    pub(super) key: String,
    pub(super) fingerprint: String,
    /// Over [`signed_listing`] of every file before this one, base64.
    pub(super) signature: String,
}

/// Who sealed an opened bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealer {
    /// Signed by this sealing key (the signature checked out).
    Signed { fingerprint: String },
    /// No signature: sealed by an older posbon.
    Unsigned,
}

/// A sealing key's fingerprint: the same form as a watcher's (128 bits of SHA-256 of the
/// public key, in groups of four hex digits), long enough to stand up to an adversary who
/// would search for a key with the same fingerprint.
pub fn sealing_fingerprint(public_key: &[u8]) -> String {
    crate::crypto::fingerprint(public_key)
}

/// Whether `text` (as typed: any case, any separators) can be a whole sealing fingerprint:
/// 32 hex digits. A shortened one is a typing mistake, not a different sealer.
pub fn is_sealing_fingerprint(text: &str) -> bool {
    crate::crypto::is_whole_fingerprint(text)
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
pub(super) fn signed_listing(files: &[(String, u64, String)]) -> Vec<u8> {
    let mut text = format!("{SIGNATURE_FORMAT}\n");
    for (path, size, sha256) in files {
        text.push_str(&format!("{sha256} {size} {path}\n"));
    }
    text.into_bytes()
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
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
    /// The bundle's id, as the watchers know it (format 2).
    #[serde(default)]
    pub bundle_id: String,
    /// 1 when first sealed, one more at every `release update` (format 2; 0 before).
    #[serde(default)]
    pub version: u64,
    /// The keys it was sealed for, `age1...` or `ssh-ed25519 ...` (format 2).
    #[serde(default)]
    pub recipients: Vec<String>,
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

/// A file name that stays inside its folder, shows as what it is (no bidirectional or
/// invisible characters: `fdp.exe` must not read as `exe.pdf`), and fits any file system.
fn safe_name(name: &str) -> String {
    let mut cleaned = String::new();
    for c in name.chars() {
        if cleaned.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        cleaned.push(if c == '/' || c == '\\' || is_hidden_char(c) {
            '_'
        } else {
            c
        });
    }
    let cleaned = cleaned.trim_start_matches('.').to_string();
    if cleaned.is_empty() || cleaned == "record.txt" {
        format!("file-{cleaned}")
    } else {
        cleaned
    }
}

/// `MANIFEST.txt`: what the bundle holds, for people.
fn manifest_txt(manifest: &Manifest) -> String {
    let mut text = format!("{}\n\n", text::label("manifest-title"));
    let mut line = |label: String, value: &str| {
        text.push_str(&format!("{label}: {value}\n"));
    };
    line(text::label("name"), &manifest.name);
    line(
        text::label("bundle"),
        &format!(
            "{} ({} {})",
            manifest.bundle_id,
            text::label("version"),
            manifest.version
        ),
    );
    line(text::label("sealed"), &text::time(manifest.sealed_ms));
    line(text::label("by"), &manifest.by);
    line(text::label("for"), &manifest.for_.join(", "));
    text.push('\n');
    for item in &manifest.items {
        text.push_str(&format!(
            "{}. [{}] {}\n   {}: {}/\n",
            item.n,
            text::kind_label(&item.kind),
            item.title,
            text::label("folder"),
            item.dir
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
    if total > MAX_CONTENT {
        return Err(BundleError::TooLarge {
            mib: total / (1024 * 1024),
            max_mib: MAX_CONTENT / (1024 * 1024),
        });
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
    /// The id the watchers know it by.
    pub bundle_id: &'a str,
    /// 1 when first sealed, one more at every update.
    pub version: u64,
}

/// The length an archive of `len` bytes is padded to: Padmé (Nikitin et al., 2019), which
/// reveals O(log log) bits of the length and costs at most 12% (here a few % for bundles of
/// megabytes), at least [`MIN_PADDED`], and never past what a watcher accepts. Whole tar
/// blocks throughout.
fn padded_length(len: u64) -> u64 {
    let len = len.max(MIN_PADDED);
    // floor(log2 len), and the number of bits needed to write it.
    let e = 63 - u64::from(len.leading_zeros());
    let s = 64 - u64::from(e.leading_zeros());
    let mask = (1u64 << (e - s).max(9)) - 1;
    let padded = (len + mask) & !mask;
    // Room for age's own overhead (16 bytes per 64 KiB, and the header).
    let ceiling = (MAX_BUNDLE - 64 * 1024) / 512 * 512;
    padded.min(ceiling.max(len.div_ceil(512) * 512))
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
        return Err(BundleError::NoSealingKeys);
    }
    let planned = plan(vault, ids)?;
    let manifest = Manifest {
        format: FORMAT_V2.into(),
        name: name.to_string(),
        sealed_ms: now_ms,
        by: by.to_string(),
        for_: for_.to_vec(),
        items: planned.iter().map(|(_, item)| item.clone()).collect(),
        bundle_id: label.bundle_id.to_string(),
        version: label.version,
        recipients: recipients
            .iter()
            .map(|r| super::keys::normalised_recipient(r))
            .collect(),
    };
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r.as_ref() as &dyn age::Recipient))
            .map_err(|e| BundleError::Invalid(format!("cannot encrypt to those keys: {e}")))?;
    let mut sealed = encryptor.wrap_output(output)?;
    {
        let mut archive = tar::Builder::new(&mut sealed);
        // (path, size, SHA-256) of every file, for the signature at the end.
        let mut files: Vec<(String, u64, String)> = Vec::new();
        // The archive's length so far, for the padding.
        let archive_len = std::cell::Cell::new(0u64);
        let mut append = |archive: &mut tar::Builder<_>,
                          path: String,
                          bytes: &[u8],
                          mtime_ms: i64|
         -> Result<(), BundleError> {
            archive.append(&tar_header(&path, bytes.len() as u64, mtime_ms)?, bytes)?;
            archive_len.set(archive_len.get() + 512 + (bytes.len() as u64).div_ceil(512) * 512);
            files.push((path, bytes.len() as u64, sha256_hex(bytes)));
            Ok(())
        };
        let human = manifest_txt(&manifest);
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
            let text = text::record_txt(&record);
            append(
                &mut archive,
                format!("{}/record.txt", item.dir),
                text.as_bytes(),
                record.updated,
            )?;
            for (attachment, file) in record.attachments.iter().zip(&item.files) {
                // Bundles are bounded (MAX_CONTENT), so one attachment at a time fits in RAM;
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
        // What follows the padding: its header, the signature's header and block (its
        // JSON is shorter than a block: fixed-length fields), and the tar's two end blocks.
        const AFTER_PADDING: u64 = 512 + 1024 + 1024;
        let unpadded = archive_len.get() + AFTER_PADDING;
        let padding = Zeroizing::new(vec![0u8; (padded_length(unpadded) - unpadded) as usize]);
        append(&mut archive, PADDING_FILE.into(), &padding, now_ms)?;
        let public_key = ring::signature::KeyPair::public_key(signer).as_ref();
        let signature = SignatureFile {
            format: SIGNATURE_FORMAT.into(),
            key: crate::crypto::b64(public_key),
            fingerprint: sealing_fingerprint(public_key),
            signature: crate::crypto::b64(signer.sign(&signed_listing(&files)).as_ref()),
        };
        let json = serde_json::to_vec_pretty(&signature).expect("a signature serialises");
        debug_assert!(
            json.len() <= 512,
            "the signature fits the block counted for it"
        );
        archive.append(
            &tar_header(SIGNATURE_FILE, json.len() as u64, now_ms)?,
            json.as_slice(),
        )?;
        archive.finish()?;
    }
    sealed.finish()?;
    Ok(manifest)
}

/// Checks `SIGNATURE.json` against the files read before it.
pub(super) fn check_signature(
    bytes: &[u8],
    files: &[(String, u64, String)],
) -> Result<Sealer, BundleError> {
    let bad = |why: &str| BundleError::Damaged(format!("{SIGNATURE_FILE}: {why}"));
    let signature: SignatureFile =
        serde_json::from_slice(bytes).map_err(|_| bad("it is malformed"))?;
    if signature.format != SIGNATURE_FORMAT {
        return Err(bad("an unknown format"));
    }
    let key = crate::crypto::unb64(&signature.key).ok_or_else(|| bad("a malformed key"))?;
    let fingerprint = sealing_fingerprint(&key);
    if signature.fingerprint != fingerprint {
        return Err(bad("the fingerprint is not that of the key"));
    }
    let sig =
        crate::crypto::unb64(&signature.signature).ok_or_else(|| bad("a malformed signature"))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
        .verify(&signed_listing(files), &sig)
        .map_err(|_| {
            bad("the signature does not match the files: something was changed after sealing")
        })?;
    Ok(Sealer::Signed { fingerprint })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(safe_name("report\u{202E}fdp.exe"), "report_fdp.exe");
        assert!(safe_name(&"я".repeat(300)).len() <= MAX_NAME_BYTES);
    }

    #[test]
    fn padding_hides_all_but_the_order_of_the_size() {
        // Small bundles all look alike.
        assert_eq!(padded_length(3_000), MIN_PADDED);
        assert_eq!(padded_length(40_000), MIN_PADDED);
        let mut last = 0;
        for len in [70_000u64, 1_000_000, 5_000_000, 20_000_000, 30_000_000] {
            let padded = padded_length(len);
            assert!(
                padded >= len && padded.is_multiple_of(512),
                "{len} -> {padded}"
            );
            // Padmé costs at most 12%.
            assert!(padded - len <= len / 8, "{len} -> {padded}");
            assert!(padded > last);
            last = padded;
        }
        // Many lengths share one padded length: that is what hides them.
        assert_eq!(padded_length(5_000_000), padded_length(5_050_000));
        assert!(padded_length(MAX_BUNDLE) <= MAX_BUNDLE);
    }

    #[test]
    fn recipients_are_age_or_ssh_ed25519_keys() {
        let (_, identity) = crate::vault::identity::generate();
        parse_recipient(&identity.to_public().to_string()).unwrap();
        assert!(parse_recipient("ssh-rsa AAAA").is_err());
        assert!(parse_recipient("age1notvalid").is_err());
    }

    #[test]
    fn the_manifest_is_labelled_in_english_russian_and_tajik() {
        let manifest = Manifest {
            format: "posbon-bundle/2".into(),
            name: "Case 12/2026".into(),
            sealed_ms: 0,
            by: "Rustam".into(),
            for_: vec!["Dilnoza".into()],
            items: vec![Item {
                n: 1,
                dir: "01-Road-tender".into(),
                kind: "draft".into(),
                title: "Road tender".into(),
                created_ms: 0,
                files: vec!["scan.txt".into()],
            }],
            bundle_id: "b1".into(),
            version: 2,
            recipients: vec![],
        };
        let text = manifest_txt(&manifest);
        assert!(
            text.starts_with(
                "posbon release bundle / пакет материалов posbon / бастаи маводи posbon\n\n\
                 name / название / ном: Case 12/2026\n\
                 bundle / пакет / баста: b1 (version / версия / версия 2)\n\
                 sealed / запечатан / мӯҳр зада шуд: 1970-01-01T00:00:00Z\n\
                 by / кем / аз ҷониби: Rustam\n\
                 for / для / барои: Dilnoza\n\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "1. [draft / черновик / лоиҳа] Road tender\n   \
                 folder / папка / ҷузвдон: 01-Road-tender/\n   - scan.txt\n"
            ),
            "{text}"
        );
    }
}
