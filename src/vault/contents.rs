//! What a vault holds, as the journalist reads and changes it: records (added, replaced,
//! found by an id prefix, listed, searched, removed) and their attachments, streamed in and
//! out of encrypted files. A record that does not open is named, never silently skipped.

use std::io::{Read, Write};

use super::views::chaff_name;
use super::{
    Attachment, Listing, Record, RecordId, Refusal, Result, Vault, VaultError, blob, now, record,
    store,
};

impl Vault {
    // ----- records -----

    /// Stores a new record and returns its id once it is on disk.
    pub fn add(&self, record: &Record) -> Result<RecordId> {
        let id = RecordId::random();
        self.put(&id, record)?;
        Ok(id)
    }

    /// Stores `record` under `id` (new or replacing), durably.
    pub fn put(&self, id: &RecordId, record: &Record) -> Result<()> {
        self.store
            .put(&self.key, &self.space.records, &id.0, |entry_key| {
                record.seal(entry_key, id)
            })
    }

    pub fn get(&self, id: &RecordId) -> Result<Record> {
        let entry = self
            .store
            .get(&self.key, &self.space.records, &id.0)?
            .ok_or_else(|| VaultError::NoSuchRecord(id.to_string()))?;
        open_record(id, &entry)
    }

    /// Finds the one record whose id starts with `prefix` (at least 4 hex digits).
    pub fn resolve(&self, prefix: &str) -> Result<RecordId> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.len() < 4 || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Refusal::NotARecordId(prefix).into());
        }
        let mut found = None;
        let chaff = chaff_name(&self.key);
        for key in self.store.names(&self.space.records)? {
            if key == chaff {
                continue;
            }
            if hex::encode(&key).starts_with(&prefix) {
                if found.is_some() {
                    return Err(VaultError::AmbiguousId(prefix));
                }
                found = Some(key);
            }
        }
        let key = found.ok_or(VaultError::NoSuchRecord(prefix))?;
        Ok(RecordId(key.try_into().map_err(|_| {
            VaultError::Damaged("a record key has the wrong length".into())
        })?))
    }

    /// Every record that opens, oldest first, plus an error for each that does not.
    pub fn records(&self) -> Result<Listing> {
        let mut good = Vec::new();
        let mut damaged = Vec::new();
        let chaff = chaff_name(&self.key);
        self.store
            .for_each_entry(&self.key, &self.space.records, |name, key, value| {
                if name == chaff {
                    return;
                }
                let Ok(raw) = <[u8; 16]>::try_from(name) else {
                    damaged.push(VaultError::Damaged(format!(
                        "an entry with a malformed id ({} bytes)",
                        name.len()
                    )));
                    return;
                };
                let id = RecordId(raw);
                let opened = match key {
                    Some(key) => Record::open(key, &id, value),
                    None => Err(VaultError::TamperedRecord { id: id.to_string() }),
                };
                match opened {
                    Ok(record) => good.push((id, record)),
                    Err(e) => damaged.push(e),
                }
            })?;
        good.sort_by_key(|(id, r)| (r.created, *id));
        Ok(Listing {
            records: good,
            damaged,
        })
    }

    /// Records matching every word of `words`, plus the damaged ones that could not be searched.
    pub fn search(&self, words: &[String]) -> Result<Listing> {
        let words = record::search_words(words);
        let mut listing = self.records()?;
        listing.records.retain(|(_, r)| r.matches(&words));
        Ok(listing)
    }

    /// Deletes a record and its attachments.
    pub fn remove(&self, id: &RecordId) -> Result<()> {
        let record = self.get(id);
        self.store.remove(&self.space.records, &id.0)?;
        if let Ok(record) = record {
            for attachment in &record.attachments {
                let _ = blob::remove_blob(&self.space.blobs, &attachment.blob);
            }
        }
        Ok(())
    }

    // ----- attachments -----

    /// Streams `input` into an encrypted attachment named `name` on record `id`.
    pub fn attach(&self, id: &RecordId, name: &str, input: &mut dyn Read) -> Result<u64> {
        validate_attachment_name(name)?;
        let mut record = self.get(id)?;
        if record.attachment(name).is_some() {
            return Err(VaultError::DuplicateAttachment {
                id: id.to_string(),
                name: name.to_string(),
            });
        }
        let written = blob::write_blob(&self.space.blobs, input)
            .map_err(|e| VaultError::io(&self.space.blobs, e))?;
        record.attachments.push(Attachment {
            name: name.to_string(),
            size: written.size,
            blob: written.blob_id.clone(),
            key: hex::encode(written.key.expose()),
            added: now(),
        });
        record.updated = now();
        if let Err(e) = self.put(id, &record) {
            let _ = blob::remove_blob(&self.space.blobs, &written.blob_id);
            return Err(e);
        }
        Ok(written.size)
    }

    /// Decrypts attachment `name` of record `id` into `output`.
    pub fn extract(&self, id: &RecordId, name: &str, output: &mut dyn Write) -> Result<()> {
        let record = self.get(id)?;
        let attachment = record
            .attachment(name)
            .ok_or_else(|| VaultError::NoSuchAttachment {
                id: id.to_string(),
                name: name.to_string(),
            })?;
        self.read_attachment(id, attachment, output)
    }

    pub(super) fn read_attachment(
        &self,
        id: &RecordId,
        attachment: &Attachment,
        output: &mut dyn Write,
    ) -> Result<()> {
        let key = attachment.key()?;
        blob::read_blob(
            &self.space.blobs,
            &attachment.blob,
            &key,
            attachment.size,
            output,
        )
        .map_err(|e| match e {
            blob::BlobError::Io(io) => VaultError::io(&self.space.blobs, io),
            other => VaultError::TamperedAttachment {
                id: id.to_string(),
                name: attachment.name.clone(),
                why: match other {
                    blob::BlobError::Missing => "its encrypted file is missing",
                    blob::BlobError::Truncated => "its encrypted file is truncated",
                    blob::BlobError::BadHeader => "its encrypted file has a wrong header",
                    _ => "a chunk does not authenticate",
                },
            },
        })
    }

    /// Removes attachment `name` from record `id`.
    pub fn detach(&self, id: &RecordId, name: &str) -> Result<()> {
        let mut record = self.get(id)?;
        let position = record
            .attachments
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| VaultError::NoSuchAttachment {
                id: id.to_string(),
                name: name.to_string(),
            })?;
        let removed = record.attachments.remove(position);
        record.updated = now();
        self.put(id, &record)?;
        let _ = blob::remove_blob(&self.space.blobs, &removed.blob);
        Ok(())
    }
}

/// Opens a stored record with the key its cell gave; a missing key is tampering (or a
/// destroyed key), named by the record.
fn open_record(id: &RecordId, entry: &store::Entry) -> Result<Record> {
    match &entry.key {
        Some(key) => Record::open(key, id, &entry.value),
        None => Err(VaultError::TamperedRecord { id: id.to_string() }),
    }
}

pub(crate) fn validate_attachment_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 255
        || name.contains(['/', '\0'])
        || name == "."
        || name == ".."
    {
        return Err(Refusal::BadAttachmentName(name.to_string()).into());
    }
    Ok(())
}
