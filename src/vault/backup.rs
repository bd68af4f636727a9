//! Backups: the whole (open) vault as one `age` file, verified and restored by posbon, and
//! readable by the standard `age` tool.
//!
//! The backup is encrypted with the passphrase (age's scrypt recipient) or to age recipients
//! (for example the vault's recovery key, or a lawyer's key). Its plaintext is a stream of JSON
//! lines, each record followed by the raw bytes of its attachments (documented in
//! `docs/format.md`), ending with a line that counts what came before, so a backup that was
//! cut short is refused even before age's own end-of-stream check.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::secret::Passphrase;

use super::Vault;
use super::error::{Refusal, Result, VaultError};
use super::record::{Kind, Record, RecordId};

const FORMAT: &str = "posbon-backup";
const VERSION: u32 = 1;
/// Longest JSON line accepted when reading a backup (a record with its body).
const MAX_LINE: u64 = 64 * 1024 * 1024;

/// Who can open a backup.
pub enum Seal<'a> {
    /// The passphrase (age scrypt; `age -d` asks for it).
    Passphrase(&'a Passphrase),
    /// age X25519 recipients (`age1...`), such as the vault's recovery key.
    Recipients(Vec<age::x25519::Recipient>),
}

/// What opens a backup.
pub enum Opener<'a> {
    Passphrase(&'a Passphrase),
    /// An age identity file (`AGE-SECRET-KEY-1...` lines).
    IdentityFile(&'a Path),
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct BackupAttachment {
    name: String,
    size: u64,
    added: i64,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct BackupRecord {
    id: String,
    #[zeroize(skip)]
    kind: Kind,
    title: String,
    tags: Vec<String>,
    body: String,
    fields: Vec<super::record::Field>,
    created: i64,
    updated: i64,
    attachments: Vec<BackupAttachment>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "lowercase")]
enum Line {
    Header {
        format: String,
        version: u32,
        created: i64,
    },
    Record(Box<BackupRecord>),
    End {
        records: u64,
        attachments: u64,
    },
}

/// What a backup holds (from `verify`, `restore` or `export`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    pub attachments: u64,
    pub attachment_bytes: u64,
}

fn write_line(out: &mut dyn Write, line: &Line) -> io::Result<()> {
    let mut bytes = zeroize::Zeroizing::new(serde_json::to_vec(line).map_err(io::Error::other)?);
    bytes.push(b'\n');
    out.write_all(&bytes)
}

/// Writes every record and attachment of `vault` as a backup to `output`.
/// Refuses when any record is damaged, so a backup is never silently incomplete.
pub fn export(vault: &Vault, seal: Seal<'_>, output: &mut dyn Write) -> Result<Summary> {
    let listing = vault.records()?;
    if let Some(first) = listing.damaged.into_iter().next() {
        return Err(first);
    }
    let records = listing.records;
    let encryptor = match seal {
        Seal::Passphrase(passphrase) => {
            age::Encryptor::with_user_passphrase(SecretString::from(passphrase.expose()))
        }
        Seal::Recipients(recipients) => {
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| {
                    VaultError::Invalid(format!("cannot encrypt to those recipients: {e}"))
                })?
        }
    };
    let io_error = |e: io::Error| VaultError::Store(format!("writing the backup failed: {e}"));
    let mut writer = encryptor
        .wrap_output(io::BufWriter::new(output))
        .map_err(io_error)?;
    let mut summary = Summary::default();
    write_line(
        &mut writer,
        &Line::Header {
            format: FORMAT.into(),
            version: VERSION,
            created: super::now(),
        },
    )
    .map_err(io_error)?;
    for (id, record) in &records {
        let line = Line::Record(Box::new(BackupRecord {
            id: id.to_string(),
            kind: record.kind,
            title: record.title.clone(),
            tags: record.tags.clone(),
            body: record.body.clone(),
            fields: record.fields.clone(),
            created: record.created,
            updated: record.updated,
            attachments: record
                .attachments
                .iter()
                .map(|a| BackupAttachment {
                    name: a.name.clone(),
                    size: a.size,
                    added: a.added,
                })
                .collect(),
        }));
        write_line(&mut writer, &line).map_err(io_error)?;
        summary.records += 1;
        for attachment in &record.attachments {
            vault.extract(id, &attachment.name, &mut writer)?;
            summary.attachments += 1;
            summary.attachment_bytes += attachment.size;
        }
    }
    write_line(
        &mut writer,
        &Line::End {
            records: summary.records,
            attachments: summary.attachments,
        },
    )
    .map_err(io_error)?;
    writer
        .finish()
        .and_then(|mut w| w.flush())
        .map_err(io_error)?;
    Ok(summary)
}

fn damaged(why: impl Into<String>) -> VaultError {
    VaultError::DamagedBackup(why.into())
}

/// Remembers whether reading the backup failed, so that a failure surfacing inside
/// `Vault::attach` (as an I/O error) is reported as the backup's damage, not the vault's.
struct Watched<'a> {
    inner: &'a mut dyn Read,
    failed: bool,
}

impl Read for Watched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        self.failed |= result.is_err();
        result
    }
}

/// Opens a backup file for reading its plaintext stream.
fn open_stream(path: &Path, opener: Opener<'_>) -> Result<BufReader<Box<dyn Read>>> {
    let file = File::open(path).map_err(|e| VaultError::io(path, e))?;
    decrypt_stream(Box::new(file), &path.display().to_string(), opener)
}

/// The backup's plaintext from its encrypted bytes `input`; `named` names it in errors.
fn decrypt_stream<'a>(
    input: Box<dyn Read + 'a>,
    named: &str,
    opener: Opener<'_>,
) -> Result<BufReader<Box<dyn Read + 'a>>> {
    // Armored (`age -a`) and binary files alike.
    let input = age::armor::ArmoredReader::new(BufReader::new(input));
    let decryptor =
        age::Decryptor::new(input).map_err(|e| damaged(format!("it is not an age file ({e})")))?;
    // Say which key the file wants when it is the other kind, rather than "wrong passphrase".
    match (&opener, decryptor.is_scrypt()) {
        (Opener::Passphrase(_), false) => {
            return Err(Refusal::BackupWantsKey(named.to_string()).into());
        }
        (Opener::IdentityFile(_), true) => {
            return Err(Refusal::BackupWantsPassphrase(named.to_string()).into());
        }
        _ => {}
    }
    let reader: Box<dyn Read + 'a> = match opener {
        Opener::Passphrase(passphrase) => {
            let identity = age::scrypt::Identity::new(SecretString::from(passphrase.expose()));
            Box::new(
                decryptor
                    .decrypt(std::iter::once(&identity as &dyn age::Identity))
                    .map_err(|_| VaultError::WrongPassphrase)?,
            )
        }
        Opener::IdentityFile(key_path) => {
            let identities = age::IdentityFile::from_file(key_path.to_string_lossy().into_owned())
                .and_then(|f| f.into_identities().map_err(io::Error::other))
                .map_err(|e| Refusal::NotAnIdentityFile {
                    path: key_path.to_path_buf(),
                    why: e.to_string(),
                })?;
            Box::new(
                decryptor
                    .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
                    .map_err(|_| VaultError::WrongPassphrase)?,
            )
        }
    };
    Ok(BufReader::new(reader))
}

fn read_line(reader: &mut dyn BufRead) -> Result<Line> {
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    reader
        .take(MAX_LINE)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| damaged(format!("it does not authenticate or was cut short ({e})")))?;
    if bytes.is_empty() {
        return Err(damaged("it was cut short (no end marker)"));
    }
    serde_json::from_slice(&bytes).map_err(|_| damaged("it has a malformed entry"))
}

/// Reads a whole backup, handing each record and its attachment bytes to `each`.
fn walk(
    path: &Path,
    opener: Opener<'_>,
    each: impl FnMut(&BackupRecord, &mut dyn BufRead) -> Result<()>,
) -> Result<Summary> {
    walk_stream(open_stream(path, opener)?, each)
}

/// The same over a backup's plaintext.
fn walk_stream(
    mut reader: BufReader<Box<dyn Read + '_>>,
    mut each: impl FnMut(&BackupRecord, &mut dyn BufRead) -> Result<()>,
) -> Result<Summary> {
    match read_line(&mut reader)? {
        Line::Header {
            format, version, ..
        } if format == FORMAT => {
            if version > VERSION {
                return Err(Refusal::BackupNewer {
                    found: version,
                    supported: VERSION,
                }
                .into());
            }
        }
        _ => return Err(damaged("it does not start with a posbon backup header")),
    }
    let mut summary = Summary::default();
    loop {
        match read_line(&mut reader)? {
            Line::Header { .. } => return Err(damaged("it has a second header")),
            Line::Record(record) => {
                summary.records += 1;
                summary.attachments += record.attachments.len() as u64;
                summary.attachment_bytes += record.attachments.iter().map(|a| a.size).sum::<u64>();
                each(&record, &mut reader)?;
            }
            Line::End {
                records,
                attachments,
            } => {
                if records != summary.records || attachments != summary.attachments {
                    return Err(damaged("its end marker does not match its contents"));
                }
                let mut rest = [0u8; 1];
                let trailing = reader
                    .read(&mut rest)
                    .map_err(|e| damaged(format!("it does not authenticate ({e})")))?;
                if trailing != 0 {
                    return Err(damaged("it has data after its end marker"));
                }
                return Ok(summary);
            }
        }
    }
}

fn copy_exact(reader: &mut dyn BufRead, size: u64, out: &mut dyn Write) -> Result<()> {
    let copied = io::copy(&mut reader.take(size), out)
        .map_err(|e| damaged(format!("it does not authenticate or was cut short ({e})")))?;
    if copied != size {
        return Err(damaged("it was cut short inside an attachment"));
    }
    Ok(())
}

/// Decrypts and checks a whole backup without writing anything.
pub fn verify(path: &Path, opener: Opener<'_>) -> Result<Summary> {
    walk(path, opener, |record, reader| {
        RecordId::from_hex(&record.id).ok_or_else(|| damaged("it has a malformed record id"))?;
        for attachment in &record.attachments {
            copy_exact(reader, attachment.size, &mut io::sink())?;
        }
        Ok(())
    })
}

/// Restores a backup into `vault`. Records keep their ids; restoring the same backup twice
/// (say after an interruption) leaves one copy of each record and attachment.
pub fn restore(vault: &Vault, path: &Path, opener: Opener<'_>) -> Result<Summary> {
    walk(path, opener, |backup, reader| {
        restore_one(vault, backup, reader)
    })
}

/// Restores a backup read from `input` (a browser's upload), as [`restore`] does a file:
/// streamed, never held whole; what was restored before a break stays, and restoring again
/// completes it.
pub fn restore_from(vault: &Vault, input: &mut dyn Read, opener: Opener<'_>) -> Result<Summary> {
    let reader = decrypt_stream(Box::new(input), "the backup", opener)?;
    walk_stream(reader, |backup, reader| restore_one(vault, backup, reader))
}

fn restore_one(vault: &Vault, backup: &BackupRecord, reader: &mut dyn BufRead) -> Result<()> {
    {
        let id = RecordId::from_hex(&backup.id)
            .ok_or_else(|| damaged("it has a malformed record id"))?;
        let existing = vault.get(&id).ok();
        if existing.is_none() {
            let mut record = Record::new(backup.kind, backup.title.clone(), backup.created);
            record.tags = backup.tags.clone();
            record.body = backup.body.clone();
            record.fields = backup.fields.clone();
            record.updated = backup.updated;
            vault.put(&id, &record)?;
        }
        for attachment in &backup.attachments {
            let present = existing
                .as_ref()
                .is_some_and(|r| r.attachment(&attachment.name).is_some());
            if present {
                copy_exact(reader, attachment.size, &mut io::sink())?;
                continue;
            }
            let mut limited = reader.take(attachment.size);
            let mut watched = Watched {
                inner: &mut limited,
                failed: false,
            };
            let stored = match vault.attach(&id, &attachment.name, &mut watched) {
                Ok(stored) => stored,
                Err(_) if watched.failed => {
                    return Err(damaged("it does not authenticate inside an attachment"));
                }
                Err(e) => return Err(e),
            };
            if stored != attachment.size {
                return Err(damaged("it was cut short inside an attachment"));
            }
        }
        Ok(())
    }
}
