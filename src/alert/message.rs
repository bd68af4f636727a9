//! The signed alert. Its *text form* is what people read and what the watcher signs:
//!
//! ```text
//! POSBON ALERT v1
//! id: 3f0c9a1e5b7d2486
//! step: tier1
//! subject: Rustam Nazarov
//! issued: 2026-11-25T06:00:00Z
//! lang: ru
//! watcher: 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d
//! key: <the watcher's Ed25519 public key, base64>
//! title: <the localised title>
//!
//! <the localised body>
//! -----BEGIN POSBON SIGNATURE-----
//! <Ed25519 signature, base64>
//! -----END POSBON SIGNATURE-----
//! ```
//!
//! The signature covers `"posbon/v1/alert\n"` followed by everything from `POSBON ALERT v1` to
//! the end of the body, with line ends as `\n` and trailing white space at the very end
//! removed: what a mail or chat client may do to a message on the way changes nothing, while
//! any change to a word does. The JSON form (webhooks) carries the same text and signature.
//! Verification takes either form, or an e-mail as received (MIME, any transfer encoding).

use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};

use crate::lang::{Lang, has_invisible};
use crate::protocol;

const MAGIC: &str = "POSBON ALERT v1";
const BEGIN: &str = "-----BEGIN POSBON SIGNATURE-----";
const END: &str = "-----END POSBON SIGNATURE-----";
const CONTEXT: &str = "posbon/v1/alert\n";

/// The facts of an alert that the header carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub id: String,
    /// `remind`, `tier1`..`tier9`, `release`, `duress`, `all-clear`, `ack`, `test`.
    pub step: String,
    pub subject: String,
    pub issued_ms: i64,
    pub lang: Lang,
    pub watcher_key: String,
    pub title: String,
}

/// A signed alert, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAlert {
    /// The signed text (header and body).
    pub text: String,
    /// Base64 Ed25519 signature.
    pub signature: String,
}

/// The JSON a webhook receives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertJson {
    pub v: u32,
    pub id: String,
    pub subject: String,
    pub step: String,
    pub lang: String,
    pub title: String,
    pub issued_ms: i64,
    pub watcher_key: String,
    pub fingerprint: String,
    /// The signed text form.
    pub text: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no posbon alert was found in the input")]
    NotFound,
    #[error("the alert is damaged: {0}")]
    Malformed(String),
    #[error(
        "the alert was signed by watcher {found}, not by {expected}: it did not come from the watcher you named"
    )]
    WrongWatcher { expected: String, found: String },
    #[error("the signature does not match: the alert was altered or forged")]
    BadSignature,
    #[error("the JSON fields do not match the signed text ({0}): the alert was altered")]
    Mismatch(&'static str),
    #[error(
        "the message holds more than one alert (a quoted or forged copy?): verify the original message, as received"
    )]
    SeveralAlerts,
    #[error(
        "the message holds invisible characters that can hide or disguise text: it was altered, or verify the original as received"
    )]
    InvisibleCharacters,
    #[error(
        "the e-mail has {0}, which posbon never sends: what a mail program shows may not be the signed alert"
    )]
    UnexpectedParts(String),
}

/// A genuine alert, and what else the message held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub header: Header,
    /// The signed text: the only part of the message that is authenticated.
    pub text: String,
    /// The message had other text around the alert (a forwarding note, a footer, or an
    /// addition by whoever passed it on): none of it is authenticated.
    pub text_outside: bool,
}

/// One-line header values: a value with a line break would let a name forge a header line.
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_string()
}

fn signed_bytes(text: &str) -> Vec<u8> {
    let mut bytes = CONTEXT.as_bytes().to_vec();
    bytes.extend_from_slice(normalise(text).as_bytes());
    bytes
}

fn utc_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// An alert id: the first 16 bytes of SHA-256 over its parts, in hex. The same parts (the
/// journalist's device key, the missed deadline, the step) give the same id on every watcher
/// and every retry, so that recipients can drop duplicates.
pub fn alert_id(parts: &[&[u8]]) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"posbon/v1/alert-id");
    for part in parts {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    hex::encode(&context.finish().as_ref()[..16])
}

impl SignedAlert {
    /// Writes the text form of `header` and `body` and signs it with the watcher's key.
    pub fn sign(header: &Header, body: &str, key: &Ed25519KeyPair) -> Self {
        let text = normalise(&format!(
            "{MAGIC}\nid: {}\nstep: {}\nsubject: {}\nissued: {}\nlang: {}\nwatcher: {}\nkey: {}\ntitle: {}\n\n{}",
            one_line(&header.id),
            one_line(&header.step),
            one_line(&header.subject),
            utc_text(header.issued_ms),
            header.lang.code(),
            protocol::fingerprint(&protocol::unb64(&header.watcher_key).unwrap_or_default()),
            one_line(&header.watcher_key),
            one_line(&header.title),
            body.replace("\r\n", "\n"),
        ));
        let signature = protocol::b64(key.sign(&signed_bytes(&text)).as_ref());
        SignedAlert { text, signature }
    }

    /// Signs a text form as it stands: a stored alert whose links were filled in when it
    /// was sent (the header and body were written by [`SignedAlert::sign`]). Ed25519 is
    /// deterministic, so the same text always gets the same signature.
    pub fn sign_text(text: &str, key: &Ed25519KeyPair) -> Self {
        let text = normalise(text);
        let signature = protocol::b64(key.sign(&signed_bytes(&text)).as_ref());
        SignedAlert { text, signature }
    }

    /// The text form with its signature block, as sent by e-mail and chat.
    pub fn armored(&self) -> String {
        format!("{}\n\n{BEGIN}\n{}\n{END}\n", self.text, self.signature)
    }

    pub fn header(&self) -> Result<Header, VerifyError> {
        parse_header(&self.text)
    }

    /// The JSON form (webhooks). Fails only for a stored alert this version cannot read,
    /// which a watcher then reports as a failing delivery rather than dying on it.
    pub fn json(&self) -> Result<AlertJson, VerifyError> {
        let header = self.header()?;
        Ok(AlertJson {
            v: 1,
            fingerprint: protocol::fingerprint(
                &protocol::unb64(&header.watcher_key).unwrap_or_default(),
            ),
            id: header.id,
            subject: header.subject,
            step: header.step,
            lang: header.lang.code().into(),
            title: header.title,
            issued_ms: header.issued_ms,
            watcher_key: header.watcher_key,
            text: self.text.clone(),
            signature: self.signature.clone(),
        })
    }
}

fn parse_header(text: &str) -> Result<Header, VerifyError> {
    let text = normalise(text);
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err(VerifyError::NotFound);
    }
    let mut fields = std::collections::HashMap::new();
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(": ")
            .ok_or_else(|| VerifyError::Malformed(format!("the header line {line:?}")))?;
        if fields.insert(name.to_string(), value.to_string()).is_some() {
            return Err(VerifyError::Malformed(format!("{name} appears twice")));
        }
    }
    let mut take = |name: &str| {
        fields
            .remove(name)
            .ok_or_else(|| VerifyError::Malformed(format!("no {name} in the header")))
    };
    let issued = take("issued")?;
    let issued_ms = issued
        .parse::<jiff::Timestamp>()
        .map_err(|_| VerifyError::Malformed(format!("the time {issued:?}")))?
        .as_millisecond();
    let lang = Lang::parse(&take("lang")?).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let header = Header {
        id: take("id")?,
        step: take("step")?,
        subject: take("subject")?,
        issued_ms,
        lang,
        watcher_key: take("key")?,
        title: take("title")?,
    };
    let fingerprint = take("watcher")?;
    let key = protocol::unb64(&header.watcher_key)
        .map_err(|_| VerifyError::Malformed("the watcher key".into()))?;
    // Alerts signed before fingerprints grew to 128 bits carry the 64-bit form; either is
    // only derived from the key, and trust comes from matching the key (`matches_watcher`).
    if key.len() != 32 || !protocol::is_derived_fingerprint(&fingerprint, &key) {
        return Err(VerifyError::Malformed(
            "the watcher line does not match the key".into(),
        ));
    }
    Ok(header)
}

/// Finds the one armored alert in `text` (a message body, pasted text); also says whether
/// anything but white space stands around it.
/// The alert in `text`, also when it was forwarded as a quotation (`> ` before each line, as
/// mail programs quote): a genuine alert forwarded that way is still genuine.
fn unarmor(text: &str) -> Result<(SignedAlert, bool), VerifyError> {
    match unarmor_plain(text) {
        Err(VerifyError::NotFound) if text.contains(MAGIC) => unarmor_plain(&unquote(text)),
        other => other,
    }
}

/// `text` with the quotation marks of a reply or forward (`>`, `> >`, `>>`) taken off the
/// start of each line.
fn unquote(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut rest = line;
            while let Some(inner) = rest.strip_prefix('>') {
                rest = inner.strip_prefix(' ').unwrap_or(inner);
            }
            rest
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn unarmor_plain(text: &str) -> Result<(SignedAlert, bool), VerifyError> {
    let text = text.replace("\r\n", "\n");
    if has_invisible(&text) {
        return Err(VerifyError::InvisibleCharacters);
    }
    // One alert per message: with two, a reader could be shown one and we could check the
    // other.
    if text.matches(MAGIC).count() > 1 || text.matches(BEGIN).count() > 1 {
        return Err(VerifyError::SeveralAlerts);
    }
    let start = text
        .match_indices(MAGIC)
        .map(|(i, _)| i)
        .find(|i| *i == 0 || text.as_bytes()[i - 1] == b'\n')
        .ok_or(VerifyError::NotFound)?;
    let rest = &text[start..];
    let begin = rest
        .find(&format!("\n{BEGIN}\n"))
        .ok_or_else(|| VerifyError::Malformed("the signature block is missing".into()))?;
    let after = &rest[begin + BEGIN.len() + 2..];
    let end = after
        .find(END)
        .ok_or_else(|| VerifyError::Malformed("the signature block is not closed".into()))?;
    let signature: String = after[..end].split_whitespace().collect();
    let text_outside =
        !text[..start].trim().is_empty() || !after[end + END.len()..].trim().is_empty();
    Ok((
        SignedAlert {
            text: normalise(&rest[..begin]),
            signature,
        },
        text_outside,
    ))
}

/// Whether `text` can name a watcher at all: a fingerprint (32 hex digits; dashes,
/// spaces and any other separators a phone or word processor puts in are ignored, as
/// [`matches_watcher`] ignores them) or a whole Ed25519 public key in base64. Anything else
/// is a typing mistake, not a forgery, and is told apart from one.
pub fn names_a_watcher(text: &str) -> bool {
    let text = text.trim();
    protocol::is_whole_fingerprint(text) || protocol::unb64(text).is_ok_and(|key| key.len() == 32)
}

/// How a watcher is named to [`verify`]: its fingerprint or its whole public key.
pub fn matches_watcher(expected: &str, watcher_key: &str) -> bool {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')
            .collect::<String>()
            .to_lowercase()
    };
    let key = protocol::unb64(watcher_key).unwrap_or_default();
    let expected_clean = clean(expected);
    expected_clean == clean(&protocol::fingerprint(&key)) || expected.trim() == watcher_key.trim()
}

/// Checks an alert as received (JSON, an e-mail, or text holding the armored alert) against
/// the watcher named by `watcher` (fingerprint or public key).
pub fn verify(input: &[u8], watcher: &str) -> Result<Verified, VerifyError> {
    let text = String::from_utf8_lossy(input);
    let trimmed = text.trim_start();
    let (alert, json, text_outside) = if trimmed.starts_with('{') {
        let json: AlertJson = serde_json::from_str(trimmed)
            .map_err(|e| VerifyError::Malformed(format!("the JSON: {e}")))?;
        if has_invisible(&json.text) {
            return Err(VerifyError::InvisibleCharacters);
        }
        (
            SignedAlert {
                text: json.text.clone(),
                signature: json.signature.clone(),
            },
            Some(json),
            false,
        )
    } else if looks_like_email(trimmed) {
        let message = mail_parser::MessageParser::default()
            .parse(input)
            .ok_or_else(|| VerifyError::Malformed("the e-mail cannot be read".into()))?;
        check_parts(&message)?;
        let body = message
            .body_text(0)
            .ok_or_else(|| VerifyError::Malformed("the e-mail has no text part".into()))?;
        let (alert, outside) = unarmor(&body)?;
        (alert, None, outside)
    } else {
        let (alert, outside) = unarmor(&text)?;
        (alert, None, outside)
    };
    let header = parse_header(&alert.text)?;
    if !matches_watcher(watcher, &header.watcher_key) {
        return Err(VerifyError::WrongWatcher {
            expected: watcher.trim().to_string(),
            found: protocol::fingerprint(&protocol::unb64(&header.watcher_key).unwrap_or_default()),
        });
    }
    let key = protocol::unb64(&header.watcher_key)
        .map_err(|_| VerifyError::Malformed("the watcher key".into()))?;
    protocol::verify(&key, &signed_bytes(&alert.text), &alert.signature)
        .map_err(|_| VerifyError::BadSignature)?;
    if let Some(json) = json {
        // The signed text is what counts; fields beside it must not say anything else.
        let key = protocol::unb64(&header.watcher_key).unwrap_or_default();
        let checks: [(&'static str, bool); 8] = [
            ("id", json.id == header.id),
            ("subject", json.subject == header.subject),
            ("step", json.step == header.step),
            ("lang", json.lang == header.lang.code()),
            ("issued_ms", json.issued_ms == header.issued_ms),
            ("title", json.title == header.title),
            ("watcher_key", json.watcher_key == header.watcher_key),
            (
                "fingerprint",
                protocol::is_derived_fingerprint(&json.fingerprint, &key),
            ),
        ];
        if let Some((field, _)) = checks.iter().find(|(_, ok)| !ok) {
            return Err(VerifyError::Mismatch(field));
        }
    }
    Ok(Verified {
        header,
        text: alert.text,
        text_outside,
    })
}

/// posbon sends one plain-text part (and, with a release, attachments): an HTML part or a
/// second text part would be what a mail program shows instead of the signed one.
fn check_parts(message: &mail_parser::Message) -> Result<(), VerifyError> {
    use mail_parser::MimeHeaders;
    let mut texts = 0;
    for part in &message.parts {
        let content_type = part.content_type();
        let is_attachment = part
            .content_disposition()
            .is_some_and(|d| d.is_attachment());
        match content_type.map(|c| (c.ctype(), c.subtype().unwrap_or(""))) {
            Some(("text", "html")) => {
                return Err(VerifyError::UnexpectedParts("an HTML part".into()));
            }
            Some(("text", _)) | None if !is_attachment => texts += 1,
            _ => {}
        }
    }
    if texts > 1 {
        return Err(VerifyError::UnexpectedParts(format!("{texts} text parts")));
    }
    Ok(())
}

fn looks_like_email(text: &str) -> bool {
    let head: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).collect();
    !text.starts_with(MAGIC)
        && head.iter().any(|l| {
            let lower = l.to_ascii_lowercase();
            lower.starts_with("from:")
                || lower.starts_with("content-type:")
                || lower.starts_with("mime-version:")
                || lower.starts_with("received:")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Ed25519KeyPair {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    fn alert(key: &Ed25519KeyPair) -> SignedAlert {
        let header = Header {
            id: alert_id(&[b"device", b"1", b"tier1"]),
            step: "tier1".into(),
            subject: "Рустам Назаров".into(),
            issued_ms: 1_764_000_000_000,
            lang: Lang::Ru,
            watcher_key: protocol::b64(&protocol::public_key(key)),
            title: "posbon ТРЕВОГА".into(),
        };
        SignedAlert::sign(&header, "Рустам не отметился.\nПозвоните адвокату.", key)
    }

    fn fingerprint(key: &Ed25519KeyPair) -> String {
        protocol::fingerprint(&protocol::public_key(key))
    }

    #[test]
    fn every_form_verifies_and_names_its_facts() {
        let key = key();
        let signed = alert(&key);
        let fp = fingerprint(&key);
        let armored = signed.armored();
        let verified = verify(armored.as_bytes(), &fp).unwrap();
        let header = &verified.header;
        assert!(!verified.text_outside);
        assert_eq!(header.subject, "Рустам Назаров");
        assert_eq!(header.step, "tier1");
        // As a chat client or a mail body may pass it on: CRLF, quoted, with text around.
        let mangled = format!(
            "Fwd:\r\n\r\n{}\r\n\r\n-- \r\nsent from my phone",
            armored.replace('\n', "\r\n")
        );
        assert!(verify(mangled.as_bytes(), &fp).unwrap().text_outside);
        // Forwarded as a quotation, once or twice, as mail programs do.
        for prefix in ["> ", ">> ", "> > "] {
            let quoted: String = armored.lines().map(|l| format!("{prefix}{l}\n")).collect();
            let forwarded = format!("Dilnoza wrote:\n{quoted}\nPlease check this.");
            let verified = verify(forwarded.as_bytes(), &fp).unwrap();
            assert!(verified.text_outside, "{prefix:?}");
        }
        // Quoting does not make a tampered alert genuine.
        let tampered: String = armored
            .replace("Позвоните адвокату", "Ничего не делайте")
            .lines()
            .map(|l| format!("> {l}\n"))
            .collect();
        assert!(verify(tampered.as_bytes(), &fp).is_err());
        let json = serde_json::to_vec(&signed.json().unwrap()).unwrap();
        verify(&json, &fp).unwrap();
        // The whole public key names the watcher as well as its fingerprint.
        verify(
            armored.as_bytes(),
            &protocol::b64(&protocol::public_key(&key)),
        )
        .unwrap();
    }

    #[test]
    fn an_alert_signed_with_the_64_bit_watcher_line_still_verifies() {
        // As posbon 0.1 signed them: lawyers keep such alerts, and a watcher run by another
        // organisation may not be upgraded yet.
        let key = key();
        let public = protocol::public_key(&key);
        let new_line = format!("watcher: {}", fingerprint(&key));
        let old_line = format!("watcher: {}", protocol::legacy_fingerprint(&public));
        let resign = |text: String| SignedAlert {
            signature: protocol::b64(key.sign(&signed_bytes(&text)).as_ref()),
            text,
        };
        let current = alert(&key);
        assert!(current.text.contains(&new_line));
        let old = resign(current.text.replacen(&new_line, &old_line, 1));
        // Named by the whole fingerprint or the key, as lawyers are told to now.
        verify(old.armored().as_bytes(), &fingerprint(&key)).unwrap();
        verify(old.armored().as_bytes(), &protocol::b64(&public)).unwrap();
        let mut json = old.json().unwrap();
        verify(&serde_json::to_vec(&json).unwrap(), &fingerprint(&key)).unwrap();
        json.fingerprint = protocol::legacy_fingerprint(&public);
        verify(&serde_json::to_vec(&json).unwrap(), &fingerprint(&key)).unwrap();
        // But never by the short form itself, and a line of another key is refused.
        assert!(!names_a_watcher(&protocol::legacy_fingerprint(&public)));
        let stranger = protocol::legacy_fingerprint(&[9u8; 32]);
        let lying = resign(
            current
                .text
                .replacen(&new_line, &format!("watcher: {stranger}"), 1),
        );
        assert!(matches!(
            verify(lying.armored().as_bytes(), &fingerprint(&key)),
            Err(VerifyError::Malformed(_))
        ));
        assert!(
            lying.json().is_err(),
            "an unreadable stored alert is an error, not a panic"
        );
    }

    #[test]
    fn any_change_is_refused() {
        let key = key();
        let signed = alert(&key);
        let fp = fingerprint(&key);
        let armored = signed.armored();
        for (from, to) in [
            ("Позвоните", "Не звоните"),
            ("step: tier1", "step: tier2"),
            ("Назаров", "Назарову"),
            ("\nПозвоните", "\n\nПозвоните"),
        ] {
            let altered = armored.replacen(from, to, 1);
            assert_ne!(altered, armored);
            assert_eq!(
                verify(altered.as_bytes(), &fp),
                Err(VerifyError::BadSignature),
                "{from} -> {to}"
            );
        }
        let mut json = signed.json().unwrap();
        json.subject = "Someone else".into();
        assert_eq!(
            verify(&serde_json::to_vec(&json).unwrap(), &fp),
            Err(VerifyError::Mismatch("subject"))
        );
        // Signed by another watcher: refused even though its own signature is fine.
        let other = key_and_alert();
        assert!(matches!(
            verify(other.armored().as_bytes(), &fp),
            Err(VerifyError::WrongWatcher { .. })
        ));
        assert_eq!(verify(b"hello", &fp), Err(VerifyError::NotFound));
        let cut = &armored[..armored.len() - 40];
        assert!(verify(cut.as_bytes(), &fp).is_err());
    }

    fn key_and_alert() -> SignedAlert {
        alert(&key())
    }

    #[test]
    fn a_name_cannot_forge_a_header_line() {
        let key = key();
        let header = Header {
            id: "x".into(),
            step: "test".into(),
            subject: "A\nstep: release".into(),
            issued_ms: 0,
            lang: Lang::En,
            watcher_key: protocol::b64(&protocol::public_key(&key)),
            title: "t".into(),
        };
        let signed = SignedAlert::sign(&header, "body", &key);
        let parsed = verify(signed.armored().as_bytes(), &fingerprint(&key)).unwrap();
        assert_eq!(parsed.header.step, "test");
        assert_eq!(parsed.header.subject, "A step: release");
    }

    #[test]
    fn what_a_reader_could_be_shown_instead_is_refused_or_flagged() {
        let key = key();
        let signed = alert(&key);
        let fp = fingerprint(&key);
        let armored = signed.armored();
        // Text added after the signature: genuine, but flagged, so the CLI warns.
        let added = format!("{armored}\nCORRECTION: call +992 111 11 11 instead.\n");
        assert!(verify(added.as_bytes(), &fp).unwrap().text_outside);
        // A forged copy above the genuine one, hidden from line-start matching by an
        // invisible character.
        let forged = armored.replace("Позвоните адвокату", "Позвоните по номеру +992 111");
        let two = format!("\u{200B}{forged}\n{armored}");
        assert_eq!(
            verify(two.as_bytes(), &fp),
            Err(VerifyError::InvisibleCharacters)
        );
        let two = format!("{forged}\n{armored}");
        assert_eq!(verify(two.as_bytes(), &fp), Err(VerifyError::SeveralAlerts));
        // An e-mail with an HTML part beside the signed text, or two text parts.
        let html = format!(
            "From: w@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{armored}\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Call +992 111</p>\r\n--b--\r\n"
        );
        assert!(matches!(
            verify(html.as_bytes(), &fp),
            Err(VerifyError::UnexpectedParts(_))
        ));
        let mixed = html
            .replace("text/html", "text/plain")
            .replace("multipart/alternative", "multipart/mixed");
        assert!(matches!(
            verify(mixed.as_bytes(), &fp),
            Err(VerifyError::UnexpectedParts(_))
        ));
        // JSON fields beside the text must all agree with it.
        for field in ["title", "fingerprint", "watcher_key"] {
            let mut json = serde_json::to_value(signed.json().unwrap()).unwrap();
            json[field] = "changed".into();
            assert_eq!(
                verify(json.to_string().as_bytes(), &fp),
                Err(VerifyError::Mismatch(match field {
                    "title" => "title",
                    "fingerprint" => "fingerprint",
                    _ => "watcher_key",
                })),
                "{field}"
            );
        }
    }

    #[test]
    fn a_fingerprint_is_recognised_however_it_was_pasted() {
        for typed in [
            "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d",
            "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
            " 1A2B 3C4D 5E6F 7A8B 9C0D 1E2F 3A4B 5C6D ",
            "1a2b\u{2013}3c4d\u{2013}5e6f\u{2013}7a8b\u{2013}9c0d\u{2013}1e2f\u{2013}3a4b\u{2013}5c6d",
            "1a2b\u{a0}3c4d\u{a0}5e6f\u{a0}7a8b\u{a0}9c0d\u{a0}1e2f\u{a0}3a4b\u{a0}5c6d",
        ] {
            assert!(names_a_watcher(typed), "{typed:?}");
        }
        let key = protocol::b64(&[7u8; 32]);
        assert!(names_a_watcher(&key));
        for typo in [
            "nonsense",
            // Shortened: half of one is not a weaker match, it is a mistake.
            "1a2b-3c4d-5e6f-7a8b",
            "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6g",
            "",
        ] {
            assert!(!names_a_watcher(typo), "{typo:?}");
        }
    }

    #[test]
    fn ids_depend_on_every_part_and_on_the_boundaries() {
        assert_eq!(alert_id(&[b"a", b"b"]), alert_id(&[b"a", b"b"]));
        assert_ne!(alert_id(&[b"a", b"b"]), alert_id(&[b"ab", b""]));
        assert_eq!(alert_id(&[b"a"]).len(), 32);
    }
}
