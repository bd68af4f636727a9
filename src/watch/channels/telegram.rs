//! Telegram's Bot API: `sendMessage`, or `sendDocument` for an alert too long for one
//! message; a group that became a supergroup is followed to its new id.

use super::{Delivery, SendError, Sender};

impl Sender {
    /// One Telegram request (`sendMessage`, or `sendDocument` for an alert too long for a
    /// message) to `chat`.
    fn telegram_request(
        &self,
        base: &str,
        delivery: &Delivery,
        chat: &str,
        text: &str,
    ) -> Result<reqwest::RequestBuilder, SendError> {
        let message = format!("{}\n\n{text}", delivery.title);
        if fits_telegram_message(&message) {
            // `link_preview_options`, not the deprecated `disable_web_page_preview`: a
            // preview would fetch the acknowledgement link's page from Telegram's servers.
            return Ok(self
                .http
                .post(format!("{base}/sendMessage"))
                .json(&serde_json::json!({
                    "chat_id": chat,
                    "text": message,
                    "link_preview_options": {"is_disabled": true},
                })));
        }
        // Longer than a message may be (long instructions, several bundles): the whole
        // alert goes as a text file, which the lawyer saves and verifies as it is; the
        // caption is the title. Cutting it into several messages would break the signature.
        let file = reqwest::multipart::Part::bytes(text.as_bytes().to_vec())
            .file_name(format!("posbon-alert-{}.txt", delivery.alert_id))
            .mime_str("text/plain; charset=utf-8")
            .map_err(|_| SendError::new("the alert file could not be made"))?;
        let form = reqwest::multipart::Form::new()
            .text("chat_id", chat.to_string())
            .text("caption", cut_utf16(&delivery.title, TELEGRAM_CAPTION))
            .part("document", file);
        Ok(self
            .http
            .post(format!("{base}/sendDocument"))
            .multipart(form))
    }

    /// Sends to a Telegram chat. A group that became a supergroup answers `400` with
    /// `parameters.migrate_to_chat_id`, and would fail forever under its old id: the alert
    /// goes to the new id at once, and the operator is told to have the contact updated.
    pub(super) async fn telegram(
        &self,
        delivery: &Delivery,
        chat: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let api = self
            .config
            .telegram
            .as_ref()
            .ok_or_else(|| SendError::new("this watcher has no Telegram bot configured"))?;
        let base = format!(
            "{}/bot{}",
            api.base.trim_end_matches('/'),
            api.token.as_str()
        );
        let mut chat = chat.to_string();
        for _ in 0..2 {
            let answer = self
                .exchange(self.telegram_request(&base, delivery, &chat, text)?)
                .await?;
            let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
            if (200..300).contains(&answer.status) && json["ok"] == true {
                return Ok(());
            }
            match json["parameters"]["migrate_to_chat_id"].as_i64() {
                Some(new) if new.to_string() != chat => {
                    tracing::warn!(
                        delivery = %delivery.key,
                        "the contact's Telegram group became a supergroup; sending to its new id \
                         (ask the journalist to update the contact: posbon contact list shows it)"
                    );
                    chat = new.to_string();
                }
                _ => return Err(self.refusal(&answer, true)),
            }
        }
        Err(SendError::new(
            "Telegram moved the chat twice in one attempt",
        ))
    }
}

/// Telegram refuses a message over 4,096 UTF-16 code units (and a caption over 1,024).
const TELEGRAM_MESSAGE: usize = 4_096;
const TELEGRAM_CAPTION: usize = 1_024;

/// The longest start of `text` within `max` UTF-16 code units (what Telegram counts), never
/// splitting a character.
fn cut_utf16(text: &str, max: usize) -> String {
    let mut units = 0;
    text.chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= max
        })
        .collect()
}

/// Whether `text` can go as one Telegram message.
pub(super) fn fits_telegram_message(text: &str) -> bool {
    text.encode_utf16().count() <= TELEGRAM_MESSAGE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_counts_utf16_units_as_telegram_does() {
        assert!(fits_telegram_message(&"ж".repeat(4_096)));
        assert!(!fits_telegram_message(&"ж".repeat(4_097)));
        // Outside the basic plane a character is two units.
        assert!(fits_telegram_message(&"🕊".repeat(2_048)));
        assert!(!fits_telegram_message(&"🕊".repeat(2_049)));
    }

    #[test]
    fn captions_are_cut_by_utf16_units_as_telegram_counts() {
        assert_eq!(cut_utf16(&"ж".repeat(2_000), 1_024).chars().count(), 1_024);
        let doves = cut_utf16(&"🕊".repeat(1_000), 1_024);
        assert_eq!(doves.chars().count(), 512);
        assert_eq!(doves.encode_utf16().count(), 1_024);
        // Never half a character.
        assert_eq!(cut_utf16("a🕊", 2), "a");
    }
}
