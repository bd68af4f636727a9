//! Opening a release bundle on the lawyer's side, safely whatever the bundle holds.
//!
//! Anyone who knows a lawyer's public key can seal a file for it, and a hostile watcher can
//! serve an old or a re-encrypted copy. So nothing is written until everything is checked,
//! and nothing the bundle says can make the checks expensive:
//!
//! 1. the input is read into memory up to a fixed size (a bundle is bounded), then decrypted
//!    into memory up to a fixed size;
//! 2. the tar headers are walked once and refused past a number of entries, a path depth, or
//!    an extension header size (a directory bomb or a 400 MB name costs nothing);
//! 3. the signature over every file is checked, then the sealer against `--from`, then that
//!    the key that opened it is one the journalist sealed it for;
//! 4. only then are the plain files written, under names stripped of control and
//!    bidirectional characters, into a hidden folder that is renamed into place at the end.
//!
//! The input may be the sealed bundle, or the tar archive already decrypted by `age -d`.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use zeroize::Zeroizing;

use super::bundle::{
    BundleError, FORMAT_V1, FORMAT_V2, MAX_SIGNATURE_FILE, Manifest, PADDING_FILE, SIGNATURE_FILE,
    Sealer, check_signature, sha256_hex,
};
use super::keys::{LawyerKey, normalised_recipient};
pub use super::names::{displayable, is_hidden_char};

/// The most a bundle's archive may hold once decrypted: the content limit, tar headers for
/// every entry, and the padding.
pub const MAX_PLAINTEXT: u64 = super::bundle::MAX_BUNDLE + 8 * 1024 * 1024;
/// The most read as input: the archive, in the larger ASCII-armoured form of age.
const MAX_INPUT: u64 = MAX_PLAINTEXT / 3 * 4 + 1024 * 1024;
/// Entries (files, folders, extension headers) an archive may have. A bundle holds a folder
/// per record with its attachments; a journalist seals tens of records, not thousands.
pub const MAX_ENTRIES: usize = 10_000;
/// posbon writes `FOLDER/FILE` at most.
const MAX_DEPTH: usize = 2;
/// A path in the archive, and one name in it, at most (bytes).
const MAX_PATH: usize = 1024;
const MAX_NAME: usize = 255;
/// Extension headers (PAX, GNU long names) at most: names fit in far less.
const MAX_EXTENSION_HEADER: u64 = 8 * 1024;

/// What a bundle was opened with.
pub enum Input<'a> {
    /// A sealed bundle (an `age` file), and the lawyer's key.
    Sealed(&'a LawyerKey),
    /// A tar archive already decrypted (`age -d ... | posbon open -`): the key that
    /// opened it is not known here, so the recipient check is left to the lawyer.
    Plain,
}

/// Whose key opened the bundle, as checked against the recipients it was sealed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// The key that opened it is one the journalist sealed the bundle for.
    SealedForThisKey,
    /// Opened from a decrypted archive: which key opened it is not known.
    NotChecked,
    /// Sealed by a posbon that did not name its recipients.
    OlderFormat,
}

/// An opened bundle: what it says it holds, who sealed it, and what was written.
#[derive(Debug)]
pub struct Opened {
    pub manifest: Manifest,
    pub sealer: Sealer,
    pub key: KeyCheck,
    /// The files written, relative to the output folder (nothing when only looked at).
    pub written: Vec<PathBuf>,
    /// SHA-256 of the input as read (the sealed file, or the archive), hex.
    pub sha256: String,
}

/// One file of the archive: its name as stored, and where its bytes are.
struct Entry {
    name: String,
    start: usize,
    len: usize,
}

/// Opens `input`: checks it entirely, then (with `out`) writes its files under `out`, which
/// must not exist. Without `out`, nothing is written: what the bundle holds and who sealed
/// it are returned, to be shown.
///
/// With `from` (a sealing fingerprint as the lawyer typed it), a bundle sealed by another
/// key, or not signed, is refused. A bundle that names its recipients and was opened with a
/// key not among them (re-encrypted by someone else) is refused.
pub fn open(
    input: &mut dyn Read,
    how: Input<'_>,
    out: Option<&Path>,
    from: Option<&str>,
) -> Result<Opened, BundleError> {
    if let Some(out) = out
        && out.symlink_metadata().is_ok()
    {
        return Err(already_exists(out));
    }
    let raw = read_bounded(input, MAX_INPUT, "the input is larger than any bundle")?;
    let sha256 = sha256_hex(&raw);
    let (archive, used_key) = match how {
        Input::Sealed(key) => {
            let (plain, public) = decrypt(&raw, key)?;
            (plain, Some(public))
        }
        Input::Plain => {
            if looks_like_age(&raw) {
                return Err(BundleError::SealedNeedsKey);
            }
            if raw.len() as u64 > MAX_PLAINTEXT {
                return Err(BundleError::Damaged(
                    "it unpacks to more than a bundle can hold".into(),
                ));
            }
            (raw, None)
        }
    };
    walk_headers(&archive)?;
    let (entries, manifest, sealer) = read_archive(&archive)?;
    check_sealer(&sealer, from)?;
    let key = check_recipient(&manifest, used_key.as_deref())?;
    let mut opened = Opened {
        manifest,
        sealer,
        key,
        written: Vec::new(),
        sha256,
    };
    if let Some(out) = out {
        opened.written = write_out(&archive, &entries, out)?;
    }
    Ok(opened)
}

fn already_exists(out: &Path) -> BundleError {
    BundleError::OutExists(out.to_path_buf())
}

/// Everything `reader` holds, refused past `limit` bytes (without reading further).
fn read_bounded(
    reader: &mut dyn Read,
    limit: u64,
    too_large: &str,
) -> Result<Zeroizing<Vec<u8>>, BundleError> {
    let mut bytes = Zeroizing::new(Vec::new());
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| BundleError::Damaged(format!("it cannot be read: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(BundleError::Damaged(too_large.into()));
    }
    Ok(bytes)
}

fn looks_like_age(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1\n")
        || bytes
            .trim_ascii_start()
            .starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// Decrypts with whichever of the lawyer's identities opens it; returns the archive and the
/// recipient of the identity that did.
fn decrypt(sealed: &[u8], key: &LawyerKey) -> Result<(Zeroizing<Vec<u8>>, String), BundleError> {
    if !looks_like_age(sealed) {
        return Err(BundleError::NotForThisKey);
    }
    for (identity, public) in &key.keys {
        let Ok(decryptor) = age::Decryptor::new(age::armor::ArmoredReader::new(sealed)) else {
            return Err(BundleError::NotForThisKey);
        };
        // Each identity is tried alone, to know which one opened it.
        let Ok(mut reader) = decryptor.decrypt(std::iter::once(identity.as_ref())) else {
            continue;
        };
        let plain = read_bounded(
            &mut reader,
            MAX_PLAINTEXT,
            "it unpacks to more than a bundle can hold",
        )?;
        return Ok((plain, public.clone()));
    }
    Err(BundleError::NotForThisKey)
}

/// Walks the tar headers without the tar library, which would read a long-name or PAX
/// header of any size into memory: refuses too many entries and oversized extension headers.
fn walk_headers(archive: &[u8]) -> Result<(), BundleError> {
    let mut at = 0usize;
    let mut entries = 0usize;
    while at + 512 <= archive.len() {
        let header = &archive[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            return Ok(());
        }
        entries += 1;
        if entries > MAX_ENTRIES {
            return Err(BundleError::Damaged(format!(
                "it has more than {MAX_ENTRIES} entries"
            )));
        }
        let size = tar_size(&header[124..136])
            .ok_or_else(|| BundleError::Damaged("a tar header is malformed".into()))?;
        // posbon writes plain ustar headers only: files ('0', or NUL in old archives) and
        // folders ('5'). Anything else is refused here, before the tar library reads it:
        // a PAX header can override the size this walk reads (hiding entries from it), and
        // long-name headers make the library read their contents into memory.
        match header[156] {
            b'0' | b'\0' | b'5' => {}
            b'L' | b'K' | b'x' | b'g' if size > MAX_EXTENSION_HEADER => {
                return Err(BundleError::Damaged(format!(
                    "an extension header of {size} bytes (a name is far shorter)"
                )));
            }
            b'L' | b'K' | b'x' | b'g' => {
                return Err(BundleError::Damaged(
                    "it holds extension headers (PAX or GNU long names), which posbon never writes"
                        .into(),
                ));
            }
            other => {
                return Err(BundleError::Damaged(format!(
                    "it holds something other than plain files (tar type {:?})",
                    char::from(other)
                )));
            }
        }
        let padded = size
            .checked_add(511)
            .map(|s| s / 512 * 512)
            .and_then(|s| usize::try_from(s).ok())
            .ok_or_else(|| BundleError::Damaged("a tar header is malformed".into()))?;
        at = at
            .checked_add(512 + padded)
            .ok_or_else(|| BundleError::Damaged("a tar header is malformed".into()))?;
    }
    Ok(())
}

/// A tar size field: octal digits, or base-256 when the top bit is set.
fn tar_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut value: u64 = 0;
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text = std::str::from_utf8(field).ok()?;
    let digits = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// Reads the archive's entries (in memory, writing nothing), the manifest and the signature.
fn read_archive(archive: &[u8]) -> Result<(Vec<Entry>, Manifest, Sealer), BundleError> {
    let damaged = |e: std::io::Error| BundleError::Damaged(e.to_string());
    let mut tar = tar::Archive::new(archive);
    let mut entries: Vec<Entry> = Vec::new();
    let mut listing: Vec<(String, u64, String)> = Vec::new();
    let mut manifest = None;
    let mut sealer = Sealer::Unsigned;
    let mut signed = false;
    for entry in tar.entries().map_err(damaged)? {
        let entry = entry.map_err(damaged)?;
        if signed {
            return Err(BundleError::Damaged(format!(
                "something follows {SIGNATURE_FILE}, outside what it signs"
            )));
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        // posbon writes regular files only: links, devices, FIFOs and sparse files are refused.
        if !kind.is_file() {
            return Err(BundleError::Damaged(format!(
                "it holds something other than plain files ({kind:?})"
            )));
        }
        let path = entry.path().map_err(damaged)?.into_owned();
        // The signed listing has a line per file: a name with a line break (or any control
        // character) could make several files read as one, hiding some from the signature.
        let Some(name) = path.to_str().filter(|n| !n.chars().any(char::is_control)) else {
            return Err(BundleError::Damaged(
                "a file name holds a control character or is not UTF-8".into(),
            ));
        };
        check_path(&path)?;
        let start = usize::try_from(entry.raw_file_position()).map_err(|_| too_large())?;
        let len = usize::try_from(entry.size()).map_err(|_| too_large())?;
        let bytes = archive
            .get(start..start.checked_add(len).ok_or_else(too_large)?)
            .ok_or_else(|| BundleError::Damaged("it is cut short".into()))?;
        if name == SIGNATURE_FILE {
            if len as u64 > MAX_SIGNATURE_FILE {
                return Err(BundleError::Damaged(format!(
                    "{SIGNATURE_FILE} is too large"
                )));
            }
            sealer = check_signature(bytes, &listing)?;
            signed = true;
        } else {
            if name == "manifest.json" {
                let parsed: Manifest = serde_json::from_slice(bytes)
                    .map_err(|e| BundleError::Damaged(format!("manifest.json: {e}")))?;
                if parsed.format != FORMAT_V1 && parsed.format != FORMAT_V2 {
                    return Err(BundleError::Damaged(format!(
                        "manifest.json: the format {:?} is not one posbon knows",
                        parsed.format
                    )));
                }
                manifest = Some(parsed);
            }
            listing.push((name.to_string(), len as u64, sha256_hex(bytes)));
        }
        entries.push(Entry {
            name: name.to_string(),
            start,
            len,
        });
    }
    let manifest = manifest.ok_or_else(|| BundleError::Damaged("it has no manifest".into()))?;
    Ok((entries, manifest, sealer))
}

fn too_large() -> BundleError {
    BundleError::Damaged("it unpacks to more than a bundle can hold".into())
}

/// A path posbon could have written: relative, no `..`, at most `FOLDER/FILE`, short names.
fn check_path(path: &Path) -> Result<(), BundleError> {
    let outside = || {
        BundleError::Damaged(format!(
            "it names a file outside its folder: {}",
            displayable(&path.to_string_lossy())
        ))
    };
    let mut depth = 0;
    for component in path.components() {
        let Component::Normal(name) = component else {
            return Err(outside());
        };
        depth += 1;
        if name.len() > MAX_NAME {
            return Err(BundleError::Damaged("a file name is too long".into()));
        }
    }
    if depth == 0 {
        return Err(outside());
    }
    if depth > MAX_DEPTH || path.as_os_str().len() > MAX_PATH {
        return Err(BundleError::Damaged(format!(
            "a path deeper than a bundle's: {}",
            displayable(&path.to_string_lossy())
        )));
    }
    Ok(())
}

/// Refuses a bundle that `from` (as typed) does not name as its sealer.
fn check_sealer(sealer: &Sealer, from: Option<&str>) -> Result<(), BundleError> {
    match (sealer, from) {
        (_, None) => Ok(()),
        (Sealer::Signed { fingerprint }, Some(expected)) => {
            if super::bundle::same_fingerprint(expected, fingerprint) {
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

/// Whether the key that opened the bundle is one of those the (signed) manifest names.
fn check_recipient(manifest: &Manifest, used: Option<&str>) -> Result<KeyCheck, BundleError> {
    if manifest.format == FORMAT_V1 {
        return Ok(KeyCheck::OlderFormat);
    }
    let Some(used) = used else {
        return Ok(KeyCheck::NotChecked);
    };
    let used = normalised_recipient(used);
    if manifest
        .recipients
        .iter()
        .any(|r| normalised_recipient(r) == used)
    {
        Ok(KeyCheck::SealedForThisKey)
    } else {
        Err(BundleError::NotSealedForThisKey { key: used })
    }
}

/// Writes the files into a hidden folder beside `out`, renamed to `out` once all are
/// written, so `out` never holds half a bundle, even if posbon is killed half-way.
fn write_out(archive: &[u8], entries: &[Entry], out: &Path) -> Result<Vec<PathBuf>, BundleError> {
    use std::os::unix::fs::DirBuilderExt;
    let partial = partial_dir(out);
    std::fs::DirBuilder::new().mode(0o700).create(&partial)?;
    let result = write_files(archive, entries, &partial).and_then(|written| {
        // rename(2) replaces an empty directory, so `out` is claimed with mkdir first.
        std::fs::create_dir(out).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => already_exists(out),
            _ => BundleError::Io(e),
        })?;
        std::fs::rename(&partial, out)?;
        Ok(written)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result
}

fn write_files(archive: &[u8], entries: &[Entry], dir: &Path) -> Result<Vec<PathBuf>, BundleError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let mut written = Vec::new();
    for entry in entries {
        // The padding is only there to hide the size.
        if entry.name == PADDING_FILE {
            continue;
        }
        let relative = PathBuf::from(displayable(&entry.name));
        let target = dir.join(&relative);
        if let Some(parent) = target.parent() {
            // Folder names are record titles: readable by the lawyer alone, like the files.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&target)
            .map_err(|e| BundleError::Damaged(format!("{}: {e}", relative.display())))?;
        file.write_all(&archive[entry.start..entry.start + entry.len])?;
        file.sync_all()?;
        written.push(relative);
    }
    Ok(written)
}

/// A hidden folder beside `out`, for the files until all are written.
fn partial_dir(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let suffix = hex::encode(crate::crypto::random_array::<4>());
    out.with_file_name(format!(".{name}.partial-{suffix}"))
}

#[cfg(test)]
mod tests;
