//! Write-only capture: adding material to a vault without unlocking it.
//!
//! Anyone holding the vault directory can drop a note or a file into `inbox/`, sealed with
//! `age` to the vault's capture recipient (its public key, stored in the key-slot file). Only
//! the real vault holds the matching identity, so a capture cannot be read back until the
//! journalist unlocks; on that unlock it is imported as a record. The same channel carries
//! events the decoy view must not show, such as "the duress passphrase was used".
//!
//! Inbox file plaintext: one JSON header line, the payload, then zero padding (Padmé), so the
//! file's size shows only a rounded size of what was captured.
//!
//! Inbox files and the inbox carry the constant time of [`fsprotect::FLAT_TIME`], so they do
//! not tell when something was captured or when the duress passphrase was used, and imported
//! files are overwritten before they are removed ([`fsprotect::shred`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::fsprotect;

use super::error::{Result, VaultError};
use super::keyslots::KeySlots;
use super::notice::Notice;
use super::record::{Kind, Record, RecordId};
use super::{Event, EventKind, INBOX_DIR, KEYSLOTS_FILE, Vault};

/// Longest header line accepted when importing, so a hostile inbox file cannot exhaust memory.
const MAX_HEADER: u64 = 64 * 1024;
/// Largest captured note body; files have no limit, they are streamed.
const MAX_NOTE_BODY: u64 = 16 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Header {
    Note {
        kind: Kind,
        title: String,
        #[serde(default)]
        tags: Vec<String>,
        created: i64,
        body_len: u64,
    },
    File {
        name: String,
        size: u64,
        created: i64,
    },
    Event {
        what: EventKind,
        at: i64,
    },
}

fn recipient(dir: &Path) -> Result<age::x25519::Recipient> {
    let slots_path = dir.join(KEYSLOTS_FILE);
    if !slots_path.exists() {
        return Err(VaultError::NotFound(dir.to_path_buf()));
    }
    let text = KeySlots::read(&slots_path)?.capture_recipient()?;
    age::x25519::Recipient::from_str(&text)
        .map_err(|_| VaultError::Damaged("the capture recipient does not parse".into()))
}

/// Writes one capture: header, payload from `payload` (exactly `payload_len` bytes), padding.
fn write_capture(
    dir: &Path,
    recipient: &age::x25519::Recipient,
    header: &Header,
    payload: &mut dyn Read,
    payload_len: u64,
) -> Result<RecordId> {
    let inbox = dir.join(INBOX_DIR);
    super::create_private_dir(&inbox)?;
    let id = RecordId::random();
    let temp = inbox.join(format!("{id}.tmp"));
    let result = (|| -> io::Result<()> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .map_err(io::Error::other)?;
        let mut writer = encryptor.wrap_output(io::BufWriter::new(file))?;
        let mut line = serde_json::to_vec(header).map_err(io::Error::other)?;
        line.push(b'\n');
        writer.write_all(&line)?;
        let copied = io::copy(&mut payload.take(payload_len), &mut writer)?;
        if copied != payload_len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the input ended before its announced size",
            ));
        }
        let written = line.len() as u64 + payload_len;
        io::copy(
            &mut io::repeat(0).take(crypto::padme(written) - written),
            &mut writer,
        )?;
        let file = writer.finish()?.into_inner().map_err(|e| e.into_error())?;
        fsprotect::flatten_file_times(&file)?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = fsprotect::shred(&temp);
        return Err(VaultError::io(&temp, e));
    }
    let final_path = inbox.join(format!("{id}.age"));
    fs::rename(&temp, &final_path).map_err(|e| VaultError::io(&final_path, e))?;
    // The rename set the inbox's times (and the vault directory's, had the inbox been missing).
    fsprotect::flatten_times(&inbox)
        .and_then(|()| fsprotect::flatten_times(dir))
        .and_then(|()| File::open(&inbox))
        .and_then(|d| d.sync_all())
        .map_err(|e| VaultError::io(&inbox, e))?;
    Ok(id)
}

/// Captures a note without unlocking. Returns the capture's id (its inbox file name); the
/// record it becomes gets an id derived from it with the vault key.
pub fn capture_note(
    dir: &Path,
    kind: Kind,
    title: &str,
    tags: &[String],
    body: &[u8],
) -> Result<RecordId> {
    let header = Header::Note {
        kind,
        title: title.to_string(),
        tags: tags.to_vec(),
        created: super::now(),
        body_len: body.len() as u64,
    };
    write_capture(
        dir,
        &recipient(dir)?,
        &header,
        &mut &body[..],
        body.len() as u64,
    )
}

/// Captures a file without unlocking, streaming it in constant memory.
pub fn capture_file(dir: &Path, name: &str, path: &Path) -> Result<RecordId> {
    super::contents::validate_attachment_name(name)?;
    let file = File::open(path).map_err(|e| VaultError::io(path, e))?;
    let size = file.metadata().map_err(|e| VaultError::io(path, e))?.len();
    let header = Header::File {
        name: name.to_string(),
        size,
        created: super::now(),
    };
    write_capture(
        dir,
        &recipient(dir)?,
        &header,
        &mut io::BufReader::new(file),
        size,
    )
}

/// Suffix of a spool: a streamed capture on its way in (see [`capture_stream`]).
const SPOOL_SUFFIX: &str = "spool";

/// Captures a file of unknown length without unlocking (a browser's upload), in constant
/// memory. A capture's header names its size, which a stream tells only at its end: so the
/// stream is first spooled into the inbox encrypted to a key made for it that lives only in
/// this process's memory, then read back into the capture, and the spool is shredded.
/// Nothing readable is on the disk at any moment, even after a crash (the spool's key died
/// with the process; the next unlock shreds what is left of it).
pub fn capture_stream(dir: &Path, name: &str, input: &mut dyn Read) -> Result<RecordId> {
    super::contents::validate_attachment_name(name)?;
    let recipient = recipient(dir)?;
    let inbox = dir.join(INBOX_DIR);
    super::create_private_dir(&inbox)?;
    // Spools a crash left behind (nobody holds their lock) go first: unreadable, but their
    // size and time tell what was being added, and when.
    shred_abandoned_spools(&inbox);
    let spool = inbox.join(format!("{}.{SPOOL_SUFFIX}", RecordId::random()));
    let (_secret, key) = super::identity::generate();
    // Held while the spool is in use, so that no other process takes it for abandoned.
    let mut held = None;
    let spooled = (|| -> io::Result<u64> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&spool)?;
        file.lock()?;
        fsprotect::flatten_file_times(&file)?;
        held = Some(file.try_clone()?);
        let public = key.to_public();
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&public as &dyn age::Recipient))
                .map_err(io::Error::other)?;
        let mut writer = encryptor.wrap_output(io::BufWriter::new(file))?;
        let size = io::copy(input, &mut writer)?;
        writer.finish()?.into_inner().map_err(|e| e.into_error())?;
        Ok(size)
    })();
    let captured = spooled
        .map_err(|e| VaultError::io(&spool, e))
        .and_then(|size| {
            let file = File::open(&spool).map_err(|e| VaultError::io(&spool, e))?;
            let mut reader = age::Decryptor::new_buffered(BufReader::new(file))
                .and_then(|d| d.decrypt(std::iter::once(&key as &dyn age::Identity)))
                .map_err(|e| VaultError::io(&spool, io::Error::other(e)))?;
            let header = Header::File {
                name: name.to_string(),
                size,
                created: super::now(),
            };
            write_capture(dir, &recipient, &header, &mut reader, size)
        });
    let _ = fsprotect::shred(&spool);
    drop(held);
    captured
}

/// Shreds the spools an interrupted [`capture_stream`] left (unreadable: their key is gone):
/// those whose lock nobody holds, so never one another process is still writing.
pub fn shred_abandoned_spools(inbox: &Path) {
    let Ok(entries) = fs::read_dir(inbox) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_none_or(|x| x != SPOOL_SUFFIX) {
            continue;
        }
        let abandoned = File::open(&path).is_ok_and(|file| file.try_lock().is_ok());
        if abandoned {
            let _ = fsprotect::shred(&path);
        }
    }
}

/// How an import went.
#[derive(Default)]
pub(crate) struct ImportReport {
    /// Notes and files that became records.
    pub imported: usize,
    /// Whether any inbox file was used up (records or events).
    pub removed_any: bool,
    /// One notice per capture that could not be read; its file is kept.
    pub failed: Vec<Notice>,
}

/// Imports every finished capture in the inbox into `vault`.
pub(crate) fn import_all(
    vault: &mut Vault,
    identity: &age::x25519::Identity,
) -> Result<ImportReport> {
    let inbox = vault.dir().join(INBOX_DIR);
    let mut report = ImportReport::default();
    // Captures imported before a crash that stopped their shredding half-way.
    let _ = fsprotect::finish_shredding(&inbox);
    shred_abandoned_spools(&inbox);
    let Ok(entries) = fs::read_dir(&inbox) else {
        return Ok(report);
    };
    let mut paths: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "age"))
        .collect();
    paths.sort();
    for path in paths {
        let Some(capture_id) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(RecordId::from_hex)
        else {
            continue;
        };
        let id = vault.capture_record_id(&capture_id);
        match import_one(vault, identity, &path, id) {
            Ok(Imported::NotForThisView) => {}
            Ok(imported) => {
                fsprotect::shred(&path).map_err(|e| VaultError::io(&path, e))?;
                report.removed_any = true;
                report.imported += usize::from(imported == Imported::Record);
            }
            Err(e) => report.failed.push(Notice::CaptureKept {
                file: path.display().to_string(),
                why: e.to_string(),
            }),
        }
    }
    // Listing the inbox set its access time: the moment of this unlock.
    fsprotect::flatten_times(&inbox).map_err(|e| VaultError::io(&inbox, e))?;
    if report.removed_any {
        File::open(&inbox)
            .and_then(|d| d.sync_all())
            .map_err(|e| VaultError::io(&inbox, e))?;
    }
    Ok(report)
}

fn import_one(
    vault: &mut Vault,
    identity: &age::x25519::Identity,
    path: &Path,
    id: RecordId,
) -> Result<Imported> {
    let unreadable = |why: String| VaultError::Damaged(why);
    let file = fsprotect::open_quietly(path, OpenOptions::new().read(true), 0)
        .map_err(|e| VaultError::io(path, e))?;
    let decryptor = age::Decryptor::new_buffered(BufReader::new(file))
        .map_err(|e| unreadable(format!("not an age file ({e})")))?;
    let reader = match decryptor.decrypt(std::iter::once(identity as &dyn age::Identity)) {
        Ok(reader) => reader,
        // Sealed for another view of the vault: left where it is, for that view.
        Err(age::DecryptError::NoMatchingKeys) => return Ok(Imported::NotForThisView),
        Err(e) => return Err(unreadable(format!("it does not decrypt ({e})"))),
    };
    let mut reader = BufReader::new(reader);
    let mut line = zeroize::Zeroizing::new(Vec::new());
    (&mut reader)
        .take(MAX_HEADER)
        .read_until(b'\n', &mut line)
        .map_err(|e| unreadable(format!("it does not authenticate ({e})")))?;
    let header: Header =
        serde_json::from_slice(&line).map_err(|_| unreadable("its header is malformed".into()))?;
    match header {
        Header::Note {
            kind,
            title,
            tags,
            created,
            body_len,
        } => {
            if body_len > MAX_NOTE_BODY {
                return Err(unreadable("its note is too large".into()));
            }
            let mut body = zeroize::Zeroizing::new(Vec::with_capacity(body_len as usize));
            (&mut reader)
                .take(body_len)
                .read_to_end(&mut body)
                .map_err(|e| unreadable(format!("it does not authenticate ({e})")))?;
            if vault.get(&id).is_ok() {
                return Ok(Imported::Record); // imported before a crash; only the inbox file was left
            }
            let mut record = Record::new(kind, title, created);
            record.tags = tags;
            // Anyone with the laptop can capture: mark where the record came from.
            if !record.tags.iter().any(|t| t == "captured") {
                record.tags.push("captured".into());
            }
            record.body = String::from_utf8_lossy(&body).into_owned();
            vault.put(&id, &record)?;
            Ok(Imported::Record)
        }
        Header::File {
            name,
            size,
            created,
        } => {
            let already = vault.get(&id).ok();
            if already
                .as_ref()
                .is_some_and(|r| r.attachment(&name).is_some())
            {
                return Ok(Imported::Record); // imported before a crash; only the inbox file was left
            }
            if already.is_none() {
                let mut record = Record::new(Kind::Draft, format!("captured file {name}"), created);
                record.tags = vec!["captured".into()];
                vault.put(&id, &record)?;
            }
            let mut limited = (&mut reader).take(size);
            let stored = vault.attach(&id, &name, &mut limited)?;
            if stored != size {
                return Err(unreadable(
                    "the captured file is shorter than announced".into(),
                ));
            }
            // Reading the padding to the end makes age authenticate the final chunk.
            io::copy(&mut reader, &mut io::sink())
                .map_err(|e| unreadable(format!("it does not authenticate ({e})")))?;
            Ok(Imported::Record)
        }
        Header::Event { what, at } => {
            vault.add_event(Event {
                id: id.to_string(),
                at,
                what,
            })?;
            Ok(Imported::Event)
        }
    }
}

/// What a capture became: a record (counted and told to the journalist) or an event (such
/// as a duress unlock, which has its own warning and is no "captured item").
#[derive(PartialEq, Eq)]
enum Imported {
    Record,
    Event,
    NotForThisView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spool_in_use_is_left_and_an_abandoned_one_is_shredded() {
        let temp = tempfile::tempdir().unwrap();
        let inbox = temp.path();
        let in_use = inbox.join(format!("a.{SPOOL_SUFFIX}"));
        let abandoned = inbox.join(format!("b.{SPOOL_SUFFIX}"));
        let capture = inbox.join("c.age");
        for path in [&in_use, &abandoned, &capture] {
            fs::write(path, b"ciphertext").unwrap();
        }
        let held = File::open(&in_use).unwrap();
        held.lock().unwrap();
        shred_abandoned_spools(inbox);
        assert!(in_use.exists(), "another process is still writing it");
        assert!(!abandoned.exists(), "nobody holds it: shredded");
        assert!(capture.exists(), "captures are not spools");
        drop(held);
        shred_abandoned_spools(inbox);
        assert!(!in_use.exists(), "once let go, it is shredded too");
    }
}
