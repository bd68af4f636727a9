//! What a vault holds: records of three kinds (sources, drafts, case notes), with tags and
//! attachments, and their sealed form at rest.
//!
//! Pure data and encoding, no I/O. A record's kind, title, tags, body, field values, times and
//! attachment names all travel inside one ciphertext; the only thing outside is the random id.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto;
use crate::secret::{Key32, SecretBytes};

use super::error::{Result, VaultError};

/// Sealed records are padded to at least this many bytes, so short notes all look alike.
pub(crate) const MIN_SEALED_PLAINTEXT: usize = 512;

/// The kind of a record. Stored inside the ciphertext, so the number of sources is not visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A person who gave information: name, how to reach them, trust notes, what they gave.
    Source,
    /// A piece of writing: title and body.
    Draft,
    /// A legal case note: case number, court, lawyer, dates, body.
    Note,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Source => "source",
            Kind::Draft => "draft",
            Kind::Note => "note",
        }
    }

    /// The named fields a record of this kind has besides title and body, in display order.
    pub fn field_names(self) -> &'static [&'static str] {
        match self {
            Kind::Source => &["contact", "trust", "gave"],
            Kind::Draft => &[],
            Kind::Note => &["court", "lawyer", "dates"],
        }
    }

    /// What the title means for this kind, for display.
    pub fn title_label(self) -> &'static str {
        match self {
            Kind::Source => "name",
            Kind::Draft => "title",
            Kind::Note => "case",
        }
    }
}

/// A record's random id: 16 bytes from the OS generator, shown as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(pub [u8; 16]);

impl RecordId {
    pub fn random() -> Self {
        RecordId(crypto::random_array())
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        Some(RecordId(bytes.try_into().ok()?))
    }

    /// Associated data binding a sealed record to its id and to its storage kind, so a
    /// ciphertext cannot be moved to another id or reused as another kind of value.
    pub fn aad(&self) -> Vec<u8> {
        let mut aad = b"posbon/v1/record/".to_vec();
        aad.extend_from_slice(&self.0);
        aad
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

/// A file attached to a record. The content lives in an encrypted blob file; this is the
/// sealed description of it, including the blob's own key.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Attachment {
    pub name: String,
    pub size: u64,
    /// Hex id of the blob file under `blobs/`.
    pub blob: String,
    /// The blob's own AES-256-GCM key, hex.
    pub key: String,
    pub added: i64,
}

impl Attachment {
    pub fn key(&self) -> Result<Key32> {
        let bytes = zeroize::Zeroizing::new(
            hex::decode(&self.key)
                .map_err(|_| VaultError::Damaged("attachment key is not hex".into()))?,
        );
        Key32::from_slice(&bytes).ok_or_else(|| VaultError::Damaged("attachment key length".into()))
    }
}

/// One record, decrypted. Zeroized when dropped; `Debug` shows only its kind.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Record {
    #[zeroize(skip)]
    pub kind: Kind,
    pub title: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub body: String,
    /// Kind-specific fields, see [`Kind::field_names`].
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Unix milliseconds.
    pub created: i64,
    pub updated: i64,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// One named field of a record (a source's contact, a case note's court, ...).
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Field {
    pub name: String,
    pub value: String,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Record {{ kind: {:?}, [redacted] }}", self.kind)
    }
}

impl Record {
    pub fn new(kind: Kind, title: String, now: i64) -> Self {
        Record {
            kind,
            title,
            tags: Vec::new(),
            body: String::new(),
            fields: Vec::new(),
            created: now,
            updated: now,
            attachments: Vec::new(),
        }
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }

    /// Sets a field; an empty value removes it.
    pub fn set_field(&mut self, name: &str, value: &str) {
        self.fields.retain(|f| f.name != name);
        if !value.is_empty() {
            self.fields.push(Field {
                name: name.to_string(),
                value: value.to_string(),
            });
        }
    }

    /// True when every word occurs (case-insensitively, in any script) in the title, tags,
    /// body, field values or attachment names.
    pub fn matches(&self, lowercase_words: &[String]) -> bool {
        let mut haystack = zeroize::Zeroizing::new(String::with_capacity(
            self.title.len() + self.body.len() + 64,
        ));
        haystack.push_str(&self.title.to_lowercase());
        for text in self
            .tags
            .iter()
            .chain(self.fields.iter().map(|f| &f.value))
            .chain(self.attachments.iter().map(|a| &a.name))
        {
            haystack.push('\n');
            haystack.push_str(&text.to_lowercase());
        }
        haystack.push('\n');
        haystack.push_str(&self.body.to_lowercase());
        lowercase_words
            .iter()
            .all(|w| haystack.contains(w.as_str()))
    }

    pub fn attachment(&self, name: &str) -> Option<&Attachment> {
        self.attachments.iter().find(|a| a.name == name)
    }

    /// Seals the record for storage under `id`.
    pub fn seal(&self, key: &Key32, id: &RecordId) -> Result<Vec<u8>> {
        let json = self.to_json()?;
        let padded = crypto::pad(json.expose(), MIN_SEALED_PLAINTEXT);
        Ok(crypto::seal(key, &id.aad(), padded.expose()))
    }

    /// Opens a sealed record; any failure means the stored bytes are not what was sealed.
    pub fn open(key: &Key32, id: &RecordId, sealed: &[u8]) -> Result<Self> {
        let tampered = || VaultError::TamperedRecord { id: id.to_string() };
        let padded = crypto::open(key, &id.aad(), sealed).map_err(|_| tampered())?;
        let json = crypto::unpad(padded.expose()).ok_or_else(tampered)?;
        serde_json::from_slice(json).map_err(|_| tampered())
    }

    /// Serialises into a zeroizing buffer sized up front, so growth does not leave copies of
    /// the plaintext behind in freed memory.
    pub fn to_json(&self) -> Result<SecretBytes> {
        let estimate = 1024
            + self.title.len()
            + self.body.len() * 2
            + self
                .fields
                .iter()
                .map(|f| f.value.len() * 2 + 64)
                .sum::<usize>()
            + self.tags.iter().map(|t| t.len() * 2 + 4).sum::<usize>()
            + self.attachments.len() * 256;
        let mut buffer = zeroize::Zeroizing::new(Vec::with_capacity(estimate));
        serde_json::to_writer(&mut *buffer, self)
            .map_err(|e| VaultError::Invalid(format!("record cannot be encoded: {e}")))?;
        Ok(SecretBytes::new(std::mem::take(&mut *buffer)))
    }
}

/// Splits free text into lowercase search words.
pub fn search_words(text: &[String]) -> Vec<String> {
    text.iter()
        .flat_map(|t| t.split_whitespace())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let mut record = Record::new(Kind::Source, "Фарход".into(), 1_700_000_000_000);
        record.tags = vec!["Хуҷанд".into(), "court".into()];
        record.body = "Met at the bazaar. Documents about the tender.".into();
        record.set_field("contact", "Signal +992 90 000 0000");
        record
    }

    #[test]
    fn sealed_record_round_trips_and_is_bound_to_its_id() {
        let key = crypto::random_key();
        let id = RecordId::random();
        let sealed = sample().seal(&key, &id).unwrap();
        let opened = Record::open(&key, &id, &sealed).unwrap();
        assert_eq!(opened.title, "Фарход");
        assert_eq!(opened.field("contact"), Some("Signal +992 90 000 0000"));
        let other = RecordId::random();
        assert!(matches!(
            Record::open(&key, &other, &sealed),
            Err(VaultError::TamperedRecord { id }) if id == other.to_string()
        ));
    }

    #[test]
    fn sealed_size_does_not_reveal_short_lengths() {
        let key = crypto::random_key();
        let id = RecordId::random();
        let mut short = sample();
        short.body = "a".into();
        let mut longer = sample();
        longer.body = "a".repeat(200);
        assert_eq!(
            short.seal(&key, &id).unwrap().len(),
            longer.seal(&key, &id).unwrap().len()
        );
    }

    #[test]
    fn search_matches_every_word_in_any_field_and_script() {
        let record = sample();
        assert!(record.matches(&search_words(&["ФАРХОД".into()])));
        assert!(record.matches(&search_words(&["хуҷанд tender".into()])));
        assert!(record.matches(&search_words(&["+992".into()])));
        assert!(!record.matches(&search_words(&["tender".into(), "missing".into()])));
    }

    #[test]
    fn debug_of_a_record_shows_no_content() {
        let shown = format!("{:?}", sample());
        assert!(!shown.contains("Фарход"));
        assert!(!shown.contains("bazaar"));
    }
}
