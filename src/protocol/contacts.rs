//! Who a subject's alerts go to: contacts with a role, a language, the tiers they belong to and
//! the channels that reach them, plus the journalist's instructions to them, written in advance.
//! Plain data with validation; the journalist keeps the list in the vault and sends it to each
//! watcher as a signed `contacts` request.
//!
//! Tier 0 is the journalist themself: it receives the reminders and nothing else (never a
//! duress alert: the journalist's own phone may be in the coercer's hands).

use serde::{Deserialize, Serialize};

pub use crate::lang::Lang;

/// One way of reaching a contact. The watcher's operator configures the servers and secrets
/// (SMTP relay, bot token); a contact names only the address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "to", rename_all = "lowercase")]
pub enum Channel {
    Email(String),
    /// A URL that receives the alert as JSON, with an HMAC header.
    Webhook(String),
    /// A Telegram chat id (or @channel).
    Telegram(String),
    /// A phone number, through the operator's signal-cli REST gateway.
    Signal(String),
    /// An ntfy topic URL (`https://ntfy.sh/topic`).
    Ntfy(String),
    /// A Matrix room id (`!room:server`).
    Matrix(String),
}

impl Channel {
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Email(_) => "email",
            Channel::Webhook(_) => "webhook",
            Channel::Telegram(_) => "telegram",
            Channel::Signal(_) => "signal",
            Channel::Ntfy(_) => "ntfy",
            Channel::Matrix(_) => "matrix",
        }
    }

    pub fn address(&self) -> &str {
        match self {
            Channel::Email(a)
            | Channel::Webhook(a)
            | Channel::Telegram(a)
            | Channel::Signal(a)
            | Channel::Ntfy(a)
            | Channel::Matrix(a) => a,
        }
    }

    /// `email:lawyer@example.org`, for listings.
    pub fn describe(&self) -> String {
        format!("{}:{}", self.kind(), self.address())
    }

    /// What is wrong with this channel's address, by its service's own rules.
    fn mistake(&self) -> Option<ChannelMistake> {
        let address = self.address();
        if address.is_empty() || address.len() > 512 || address.chars().any(char::is_control) {
            return Some(ChannelMistake::Address);
        }
        match self {
            Channel::Email(a) => a
                .parse::<lettre::Address>()
                .is_err()
                .then_some(ChannelMistake::NotEmail),
            Channel::Webhook(url) | Channel::Ntfy(url) => {
                let Ok(parsed) = reqwest::Url::parse(url) else {
                    return Some(ChannelMistake::NotUrl);
                };
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    Some(ChannelMistake::NotHttp)
                } else if matches!(self, Channel::Ntfy(_)) && !ntfy_topic_ok(&parsed) {
                    Some(ChannelMistake::NtfyTopic)
                } else {
                    None
                }
            }
            Channel::Telegram(chat) => telegram_chat(chat).err(),
            Channel::Signal(number) => {
                let digits = number.strip_prefix('+').unwrap_or("");
                (digits.len() < 6 || !digits.chars().all(|c| c.is_ascii_digit()))
                    .then_some(ChannelMistake::SignalNumber)
            }
            Channel::Matrix(room) => (!matrix_room_ok(room)).then_some(ChannelMistake::MatrixRoom),
        }
    }
}

/// Why a channel's address is refused, by its service's rules (worded by
/// [`super::contact_words`], within [`ContactError::BadChannel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelMistake {
    /// Empty, longer than 512 bytes, or with control characters.
    Address,
    NotEmail,
    NotUrl,
    /// A webhook or ntfy URL that is not `http://` or `https://` with a host.
    NotHttp,
    /// An ntfy URL whose last segment is not a topic (`[-_A-Za-z0-9]{1,64}`, no `?` or `#`).
    NtfyTopic,
    /// An `@name` that is not 5 to 32 letters, digits or `_`, starting with a letter.
    TelegramName,
    /// Neither a numeric chat id nor an `@name`.
    TelegramChat,
    /// Not `+` followed by six digits or more.
    SignalNumber,
    /// Neither `!opaque:server` nor a room version 12 id.
    MatrixRoom,
}

/// What kind of Telegram chat an address names, by the forms the Bot API takes: a person's
/// numeric id (positive), a group's (negative), a supergroup's or channel's (`-100…`), or a
/// channel's or public group's `@username` (5 to 32 characters; a person cannot be reached
/// by username). Ids fit in 52 bits, so at most 16 digits past the `-100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelegramChat {
    Person,
    Group,
    ChannelOrSupergroup,
    Username,
}

pub fn telegram_chat(chat: &str) -> Result<TelegramChat, ChannelMistake> {
    if let Some(name) = chat.strip_prefix('@') {
        let ok = (5..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        return if ok {
            Ok(TelegramChat::Username)
        } else {
            Err(ChannelMistake::TelegramName)
        };
    }
    let digits = chat.strip_prefix('-').unwrap_or(chat);
    if digits.is_empty()
        || digits.len() > 20
        || !digits.chars().all(|c| c.is_ascii_digit())
        || digits.starts_with('0')
    {
        return Err(ChannelMistake::TelegramChat);
    }
    Ok(match chat.strip_prefix("-100") {
        Some(rest) if !rest.is_empty() => TelegramChat::ChannelOrSupergroup,
        _ if chat.starts_with('-') => TelegramChat::Group,
        _ => TelegramChat::Person,
    })
}

impl TelegramChat {
    /// What must be done before the bot can write there, for the journalist to pass on.
    pub fn first_step(self) -> &'static str {
        match self {
            TelegramChat::Person => {
                "a person: they must open each watcher's bot and press Start once, or Telegram \
                 refuses the alert (\"bot can't initiate conversation with a user\")"
            }
            TelegramChat::Group => {
                "a group: each watcher's bot must be a member; if the group becomes a \
                 supergroup its id changes (the watcher follows it; update the contact)"
            }
            TelegramChat::ChannelOrSupergroup => {
                "a channel or supergroup: each watcher's bot must be an administrator allowed \
                 to post (channel) or a member (supergroup)"
            }
            TelegramChat::Username => {
                "an @name reaches only a channel or public group, never a person (give a \
                 person's numeric id); each watcher's bot must be an administrator of it"
            }
        }
    }
}

/// A Matrix room id: `!opaque:server` (room versions 1 to 11), or from room version 12 on
/// `!` and the unpadded URL-safe base64 of a SHA-256 (43 characters), with no server part.
fn matrix_room_ok(room: &str) -> bool {
    let Some(rest) = room.strip_prefix('!') else {
        return false;
    };
    match rest.split_once(':') {
        Some((local, server)) => {
            !local.is_empty() && !server.is_empty() && !server.contains(char::is_whitespace)
        }
        None => {
            rest.len() == 43
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
    }
}

/// ntfy's own rule for a topic name (`^[-_A-Za-z0-9]{1,64}$`); a server under a sub-path
/// (`https://example.org/ntfy/topic`) is fine, the topic is the last segment.
fn ntfy_topic_ok(url: &reqwest::Url) -> bool {
    let topic = url.path().rsplit('/').next().unwrap_or("");
    url.query().is_none()
        && url.fragment().is_none()
        && (1..=64).contains(&topic.len())
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    /// Free text: editor, lawyer, NANSMIT duty officer, family.
    #[serde(default)]
    pub role: String,
    pub lang: Lang,
    pub tiers: Vec<u8>,
    pub channels: Vec<Channel>,
    /// The time zone times are shown in, besides UTC [default: the plan's, or UTC].
    #[serde(default)]
    pub tz: Option<String>,
    /// Their own keys for sealed release bundles: `age1...` or `ssh-ed25519 ...`. Kept in
    /// the journalist's vault, where bundles are sealed; a watcher never uses them and drops
    /// them from every directory it receives.
    #[serde(default)]
    pub age_recipients: Vec<String>,
    /// Attach released bundles to their e-mails (off: the download link only). Opt-in,
    /// because a mail provider keeps an attachment for ever, readable by whoever later
    /// seizes the lawyer's key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_attach: bool,
}

impl Contact {
    pub fn in_tier(&self, tier: u8) -> bool {
        self.tiers.contains(&tier)
    }

    /// Is this the journalist themself (tier 0)?
    pub fn is_journalist(&self) -> bool {
        self.tiers == [0]
    }
}

/// Everything a watcher needs to alert on a subject's behalf.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub contacts: Vec<Contact>,
    /// The journalist's own words to their contacts: who to call, the lawyer on record, the
    /// case number, medical needs.
    #[serde(default)]
    pub instructions: String,
}

impl Directory {
    /// What a watcher is sent: everything but the lawyers' own keys, which it never uses
    /// (bundles are sealed on the laptop) and which would tell a seized watcher whose keys
    /// to go after.
    pub fn for_watchers(&self) -> Directory {
        let mut sent = self.clone();
        for contact in &mut sent.contacts {
            contact.age_recipients.clear();
        }
        sent
    }
}

/// Why a directory is refused: each variant one mistake the journalist can put right, with
/// the values that show where. The words, in every language and in English for `Display`,
/// are [`super::contact_words`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    TooManyContacts {
        max: usize,
    },
    InstructionsTooLong {
        max: usize,
    },
    /// Control characters (other than line ends) or invisible ones.
    InstructionsHidden,
    /// A line with `POSBON ALERT` or `POSBON SIGNATURE`, which delimit a signed alert.
    InstructionsMarkers,
    /// A name empty or over 100 characters, a role over 100, or either with control or
    /// invisible characters. The name as given (not trimmed).
    BadName {
        name: String,
    },
    /// Two contacts whose names differ only in case or spaces around them.
    SameName {
        name: String,
    },
    /// No tier, or one above 9.
    BadTiers {
        contact: String,
    },
    TierZeroWithOthers {
        contact: String,
    },
    ChannelCount {
        contact: String,
        max: usize,
    },
    BadChannel {
        contact: String,
        /// As [`Channel::describe`] writes it: `email:lawyer@example`.
        channel: String,
        mistake: ChannelMistake,
    },
    /// A key that starts `age1` but is not an age recipient; `reason` is the age crate's
    /// (English) word for why.
    NotAgeRecipient {
        contact: String,
        key: String,
        reason: String,
    },
    /// A key that starts `ssh-ed25519 ` but is not one.
    NotSshKey {
        contact: String,
        key: String,
    },
    /// A key of neither kind.
    UnknownKeyKind {
        contact: String,
        key: String,
    },
    UnknownTimeZone {
        contact: String,
        zone: String,
    },
    /// A contact's language that posbon does not write.
    UnknownLang(crate::lang::UnknownLang),
}

impl From<crate::lang::UnknownLang> for ContactError {
    fn from(e: crate::lang::UnknownLang) -> Self {
        ContactError::UnknownLang(e)
    }
}

/// Why `key` cannot seal bundles for `contact`, if it cannot: `release::bundle` judges; the
/// form of the key tells which mistake to name.
fn key_mistake(contact: &str, key: &str) -> Option<ContactError> {
    crate::release::bundle::parse_recipient(key).err()?;
    let (contact, key) = (contact.to_string(), key.trim().to_string());
    Some(if key.starts_with("age1") {
        let reason = key
            .parse::<age::x25519::Recipient>()
            .err()
            .unwrap_or_default()
            .to_string();
        ContactError::NotAgeRecipient {
            contact,
            key,
            reason,
        }
    } else if key.starts_with("ssh-ed25519 ") {
        ContactError::NotSshKey { contact, key }
    } else {
        ContactError::UnknownKeyKind { contact, key }
    })
}

pub const MAX_CONTACTS: usize = 50;
pub const MAX_CHANNELS: usize = 8;
/// Keeps an alert within one Telegram message (4,096 characters).
pub const MAX_INSTRUCTIONS: usize = 2_000;

impl Directory {
    pub fn validate(&self) -> Result<(), ContactError> {
        if self.contacts.len() > MAX_CONTACTS {
            return Err(ContactError::TooManyContacts { max: MAX_CONTACTS });
        }
        if self.instructions.chars().count() > MAX_INSTRUCTIONS {
            return Err(ContactError::InstructionsTooLong {
                max: MAX_INSTRUCTIONS,
            });
        }
        if self
            .instructions
            .chars()
            .any(|c| c.is_control() && c != '\n')
            || crate::lang::has_invisible(&self.instructions)
        {
            return Err(ContactError::InstructionsHidden);
        }
        // These lines delimit a signed alert; inside one they would make it unverifiable.
        if self
            .instructions
            .lines()
            .any(|l| l.contains("POSBON ALERT") || l.contains("POSBON SIGNATURE"))
        {
            return Err(ContactError::InstructionsMarkers);
        }
        let mut names = std::collections::HashSet::new();
        for contact in &self.contacts {
            let name = contact.name.trim();
            if name.is_empty()
                || name.chars().count() > 100
                || contact.role.chars().count() > 100
                || contact
                    .name
                    .chars()
                    .chain(contact.role.chars())
                    .any(char::is_control)
                || crate::lang::has_invisible(&contact.name)
                || crate::lang::has_invisible(&contact.role)
            {
                return Err(ContactError::BadName {
                    name: contact.name.clone(),
                });
            }
            if !names.insert(name.to_lowercase()) {
                return Err(ContactError::SameName { name: name.into() });
            }
            if contact.tiers.is_empty() || contact.tiers.iter().any(|t| *t > 9) {
                return Err(ContactError::BadTiers {
                    contact: name.into(),
                });
            }
            if contact.tiers.contains(&0) && contact.tiers.len() > 1 {
                return Err(ContactError::TierZeroWithOthers {
                    contact: name.into(),
                });
            }
            if contact.channels.is_empty() || contact.channels.len() > MAX_CHANNELS {
                return Err(ContactError::ChannelCount {
                    contact: name.into(),
                    max: MAX_CHANNELS,
                });
            }
            for channel in &contact.channels {
                if let Some(mistake) = channel.mistake() {
                    return Err(ContactError::BadChannel {
                        contact: name.into(),
                        channel: channel.describe(),
                        mistake,
                    });
                }
            }
            if let Some(mistake) = contact
                .age_recipients
                .iter()
                .find_map(|key| key_mistake(name, key))
            {
                return Err(mistake);
            }
            if let Some(tz) = &contact.tz
                && jiff::tz::TimeZone::get(tz).is_err()
            {
                return Err(ContactError::UnknownTimeZone {
                    contact: name.into(),
                    zone: tz.clone(),
                });
            }
        }
        Ok(())
    }

    pub fn find(&self, name: &str) -> Option<&Contact> {
        let wanted = name.trim().to_lowercase();
        self.contacts
            .iter()
            .find(|c| c.name.trim().to_lowercase() == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(channels: Vec<Channel>) -> Contact {
        Contact {
            name: "Dilnoza".into(),
            role: "lawyer".into(),
            lang: Lang::Tg,
            tiers: vec![2],
            channels,
            tz: Some("Asia/Dushanbe".into()),
            age_recipients: vec![],
            email_attach: false,
        }
    }

    #[test]
    fn every_channel_kind_is_checked() {
        let good = [
            Channel::Email("d@example.org".into()),
            Channel::Webhook("https://hooks.example.org/x".into()),
            Channel::Telegram("-100123".into()),
            Channel::Telegram("@nansmit_duty".into()),
            Channel::Telegram("123456789".into()),
            Channel::Telegram("-4001".into()),
            Channel::Signal("+992900000000".into()),
            Channel::Ntfy("https://ntfy.sh/posbon-x".into()),
            Channel::Ntfy("https://example.org/ntfy/Posbon_x-1".into()),
            Channel::Ntfy(format!("https://ntfy.sh/{}", "a".repeat(64))),
            Channel::Matrix("!abc:matrix.org".into()),
            Channel::Matrix("!Wnb1yfD1-O2hBZ4CUg1RaD8dzUlSo0CnBI3ocBPvbLg".into()),
        ];
        for channel in good {
            let dir = Directory {
                contacts: vec![contact(vec![channel.clone()])],
                instructions: String::new(),
            };
            dir.validate()
                .unwrap_or_else(|e| panic!("{channel:?}: {e}"));
        }
        let bad = [
            Channel::Email("not an address".into()),
            Channel::Webhook("ftp://x/y".into()),
            Channel::Webhook("file:///etc/passwd".into()),
            Channel::Telegram("12a".into()),
            Channel::Telegram("0".into()),
            Channel::Telegram("-0123".into()),
            Channel::Telegram("@abc".into()),
            Channel::Telegram("@1channel".into()),
            Channel::Telegram("+123456".into()),
            Channel::Signal("992900".into()),
            Channel::Ntfy("https://ntfy.sh/".into()),
            Channel::Ntfy("https://ntfy.sh/my.topic".into()),
            Channel::Ntfy("https://ntfy.sh/мой".into()),
            Channel::Ntfy("https://ntfy.sh/topic?x=1".into()),
            Channel::Ntfy(format!("https://ntfy.sh/{}", "a".repeat(65))),
            Channel::Matrix("#alias:server".into()),
            Channel::Matrix("!short".into()),
            Channel::Matrix("!Wnb1yfD1+O2hBZ4CUg1RaD8dzUlSo0CnBI3ocBPvbLg".into()),
            Channel::Email("a@b.org\r\nBcc: x@y.org".into()),
        ];
        for channel in bad {
            let dir = Directory {
                contacts: vec![contact(vec![channel.clone()])],
                instructions: String::new(),
            };
            assert!(dir.validate().is_err(), "{channel:?} was accepted");
        }
    }

    #[test]
    fn telegram_chats_are_told_apart_by_their_form() {
        assert_eq!(telegram_chat("123456789"), Ok(TelegramChat::Person));
        assert_eq!(telegram_chat("-4001"), Ok(TelegramChat::Group));
        assert_eq!(
            telegram_chat("-1001234567890"),
            Ok(TelegramChat::ChannelOrSupergroup)
        );
        assert_eq!(telegram_chat("@nansmit_duty"), Ok(TelegramChat::Username));
        assert!(telegram_chat("-100").is_ok_and(|c| c == TelegramChat::Group));
        assert!(telegram_chat("12345678901234567890123").is_err());
    }

    #[test]
    fn a_lawyers_key_is_refused_for_what_it_looks_like() {
        let mut dir = Directory {
            contacts: vec![contact(vec![Channel::Email("d@example.org".into())])],
            instructions: String::new(),
        };
        let good = age::x25519::Identity::generate().to_public().to_string();
        dir.contacts[0].age_recipients = vec![format!(" {good} ")];
        dir.validate().unwrap();
        let refused = |key: &str| {
            let mut dir = dir.clone();
            dir.contacts[0].age_recipients = vec![key.to_string()];
            dir.validate().unwrap_err()
        };
        let truncated = &good[..good.len() - 3];
        assert!(matches!(
            refused(truncated),
            ContactError::NotAgeRecipient { key, reason, .. } if key == truncated && !reason.is_empty()
        ));
        assert!(matches!(
            refused("ssh-ed25519 AAAA"),
            ContactError::NotSshKey { .. }
        ));
        assert!(matches!(
            refused("ssh-rsa AAAAB3Nza"),
            ContactError::UnknownKeyKind { .. }
        ));
    }

    #[test]
    fn directories_are_bounded_and_unambiguous() {
        let one = contact(vec![Channel::Email("d@example.org".into())]);
        let mut dir = Directory {
            contacts: vec![one.clone(), one.clone()],
            instructions: String::new(),
        };
        assert_eq!(
            dir.validate(),
            Err(ContactError::SameName {
                name: "Dilnoza".into()
            })
        );
        dir.contacts.pop();
        dir.contacts[0].tiers = vec![0, 1];
        assert!(dir.validate().is_err());
        dir.contacts[0].tiers = vec![10];
        assert!(dir.validate().is_err());
        dir.contacts[0].tiers = vec![1, 2];
        dir.instructions = "x".repeat(MAX_INSTRUCTIONS + 1);
        assert!(dir.validate().is_err());
        dir.instructions = "ok\n-----BEGIN POSBON SIGNATURE-----".into();
        assert!(dir.validate().is_err());
        dir.instructions = "call\u{200B} me".into();
        assert!(dir.validate().is_err());
        dir.instructions = "Call Dilnoza first.\nCase 12/2026.".into();
        dir.validate().unwrap();
        assert_eq!(dir.find("dilnoza").unwrap().name, "Dilnoza");
    }
}
