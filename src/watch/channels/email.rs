//! E-mail through the operator's SMTP relay (`lettre`).

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncTransport, Message};

use super::{Delivery, SendError, Sender, SetupError};

impl Sender {
    pub(super) async fn email(
        &self,
        delivery: &Delivery,
        to: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let (Some(transport), Some(smtp)) = (&self.smtp, &self.config.smtp) else {
            return Err(SendError::new(
                "this watcher has no SMTP relay configured (--smtp)",
            ));
        };
        // Attachments only for contacts who asked for them (a mail provider keeps them for
        // ever), within a total budget that common relays accept; a bundle that does not
        // fit, cannot be read, or is no longer the version the signed alert names, is left
        // to its download link in the text.
        let mut attachments = Vec::new();
        let mut budget = MAX_ATTACHMENT;
        for bundle in &delivery.bundles {
            if !bundle.attach
                || bundle.size > budget
                || !bundle.id.chars().all(|c| c.is_ascii_hexdigit())
            {
                continue;
            }
            let path = self
                .config
                .bundle_dir
                .join(&delivery.subject)
                .join(format!("{}.age", bundle.id));
            let bytes = match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
                Ok(Ok(bytes)) => bytes,
                _ => {
                    tracing::warn!(delivery = %delivery.key, "a bundle file cannot be read; sending its link only");
                    continue;
                }
            };
            // Pinned: a retry attaches exactly what the alert names, or nothing.
            let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes));
            if digest != bundle.sha256 {
                tracing::warn!(delivery = %delivery.key, "a bundle file is not the version the alert names; sending its link only");
                continue;
            }
            budget -= bundle.size;
            let file_name: String = bundle
                .name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            attachments.push((format!("{file_name}.age"), bytes));
        }
        let message = |with: &[(String, Vec<u8>)]| -> Result<Message, SendError> {
            let builder =
                Message::builder()
                    .from(smtp.from.parse().map_err(|_| {
                        SendError::new("the configured sender address is not valid")
                    })?)
                    .to(to
                        .parse()
                        .map_err(|_| SendError::new("the contact's address is not valid"))?)
                    .subject(delivery.title.clone())
                    .message_id(Some(message_id(
                        &self.message_id_key,
                        &delivery.key,
                        &smtp.from,
                    )))
                    .raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str("X-Posbon-Alert-Id"),
                        delivery.alert_id.clone(),
                    ));
            if with.is_empty() {
                // As a MIME part, so the mail carries `MIME-Version: 1.0` (RFC 2045): without
                // it a reader may ignore the charset and show the Cyrillic as garbage.
                builder.singlepart(
                    lettre::message::SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text.to_string()),
                )
            } else {
                let mut parts = lettre::message::MultiPart::mixed().singlepart(
                    lettre::message::SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text.to_string()),
                );
                for (name, bytes) in with {
                    parts = parts.singlepart(lettre::message::Attachment::new(name.clone()).body(
                        bytes.clone(),
                        ContentType::parse("application/octet-stream").expect("a valid type"),
                    ));
                }
                builder.multipart(parts)
            }
            .map_err(|e| SendError::new(format!("the e-mail: {e}")))
        };
        match transport.send(message(&attachments)?).await {
            Ok(_) => Ok(()),
            // A relay that refuses the message for good (too large, say) still gets the
            // alert, with the links, rather than nothing forever.
            Err(e) if e.is_permanent() && !attachments.is_empty() => {
                tracing::warn!(delivery = %delivery.key, "the relay refused the attachments; sending the alert with links only");
                transport
                    .send(message(&[])?)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError::new(format!("SMTP: {e}")))
            }
            Err(e) => Err(SendError::new(format!("SMTP: {e}"))),
        }
    }
}

/// Refuses an SMTP URL that would send the relay password in the clear: plain `smtp://`
/// (no TLS) and `smtp://...?tls=opportunistic` (which falls back to none if the server, or
/// someone on the path, does not offer STARTTLS).
pub fn check_smtp_url(url: &str, with_credentials: bool) -> Result<(), SetupError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| SetupError::SmtpUrl(e.to_string()))?;
    let encrypted = match parsed.scheme() {
        "smtps" => true,
        "smtp" => parsed
            .query_pairs()
            .any(|(k, v)| k == "tls" && v == "required"),
        other => {
            return Err(SetupError::SmtpUrl(format!(
                "{other}:// is neither smtp:// nor smtps://"
            )));
        }
    };
    if with_credentials && !encrypted {
        return Err(SetupError::CredentialsInClear);
    }
    Ok(())
}

/// The Message-ID of an e-mail delivery: an HMAC of the delivery key under this watcher's
/// own key. Mail providers keep one message per Message-ID, so an id that another watcher
/// (or anyone) could compute would let a dishonest watcher send first under it and have
/// the honest watchers' alerts dropped as duplicates. The same on every retry, so a relay
/// that accepted a message whose answer was lost does not show it twice.
pub fn message_id(key: &[u8], delivery_key: &str, from: &str) -> String {
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        format!("posbon message-id\0{delivery_key}").as_bytes(),
    );
    // The sender's domain, as RFC 5322 suggests for the right-hand side.
    let domain = from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.domain().to_string())
        .unwrap_or_else(|_| "posbon.invalid".into());
    format!("<{}@{domain}>", hex::encode(&tag.as_ref()[..16]))
}

/// Bundles are attached to an e-mail up to this total (about 9.5 MB once encoded, under the
/// 10 MB limit many relays keep); the rest only get their download link.
pub const MAX_ATTACHMENT: u64 = 7 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_per_watcher_and_unguessable_without_its_key() {
        let from = "posbon watcher <alerts@watcher.example.org>";
        let one = message_id(b"key one", "abc.0", from);
        assert_eq!(
            one,
            message_id(b"key one", "abc.0", from),
            "stable on retries"
        );
        assert_ne!(one, message_id(b"key two", "abc.0", from), "per watcher");
        assert_ne!(one, message_id(b"key one", "abc.1", from), "per delivery");
        assert!(!one.contains("abc"), "{one}");
        assert!(
            one.starts_with('<') && one.ends_with("@watcher.example.org>"),
            "{one}"
        );
    }

    #[test]
    fn smtp_passwords_go_only_over_encrypted_connections() {
        assert!(check_smtp_url("smtp://127.0.0.1:25", false).is_ok());
        assert!(check_smtp_url("smtps://mail.example.org:465", true).is_ok());
        assert!(check_smtp_url("smtp://mail.example.org:587?tls=required", true).is_ok());
        for clear in [
            "smtp://mail.example.org:587",
            "smtp://mail.example.org:587?tls=opportunistic",
        ] {
            assert!(matches!(
                check_smtp_url(clear, true),
                Err(SetupError::CredentialsInClear)
            ));
        }
    }
}
