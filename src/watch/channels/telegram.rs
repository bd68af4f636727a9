//! Telegram's Bot API: `sendMessage`, or `sendDocument` for an alert too long for one
//! message; a group that became a supergroup is followed to its new id, which is kept
//! ([`ChatMoves`]) so later alerts go straight there.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::{Delivery, SendError, Sender};

/// Telegram chats that moved: a group that became a supergroup has a new id, and its old id
/// is refused (`400` with `migrate_to_chat_id`) for ever after. Learned from Telegram's own
/// answers only (never from a journalist or a contact), so kept for the whole watcher: a chat
/// id means the same chat to this bot whoever names it. Kept in `DATA/telegram-moves.json`
/// (old id → new id), so later alerts, and alerts after a restart, go straight to the new
/// id. The journalist's signed contact list still names the old id: the watcher cannot
/// change it, and says so in the log and in `watch outbox`.
pub struct ChatMoves {
    file: Option<PathBuf>,
    moved: Mutex<BTreeMap<String, String>>,
}

impl ChatMoves {
    /// The moves kept in `file` (none if it is absent; an unreadable file is reported and
    /// read as none: the old ids are then followed again, one refusal each).
    pub fn load(file: Option<PathBuf>) -> ChatMoves {
        let moved = file
            .as_ref()
            .and_then(|f| match std::fs::read(f) {
                Ok(bytes) => serde_json::from_slice(&bytes)
                    .inspect_err(|_| {
                        tracing::warn!(file = %f.display(), "the Telegram chat moves could not be read")
                    })
                    .ok(),
                Err(_) => None,
            })
            .unwrap_or_default();
        ChatMoves {
            file,
            moved: Mutex::new(moved),
        }
    }

    /// Where `chat` is now (following a chain of moves, a few at most).
    pub fn current(&self, chat: &str) -> String {
        let moved = self.moved.lock().unwrap_or_else(|p| p.into_inner());
        let mut chat = chat.to_string();
        for _ in 0..4 {
            match moved.get(&chat) {
                Some(new) if *new != chat => chat = new.clone(),
                _ => break,
            }
        }
        chat
    }

    /// Every move known, old id → new id.
    pub fn all(&self) -> BTreeMap<String, String> {
        self.moved.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Keeps `old` → `new`, and writes the file (a new file renamed over the old, synced)
    /// off the async threads. Not kept on disk if that fails: only one more refusal each.
    async fn learn(&self, old: &str, new: &str) {
        let all = {
            let mut moved = self.moved.lock().unwrap_or_else(|p| p.into_inner());
            moved.insert(old.to_string(), new.to_string());
            moved.clone()
        };
        let Some(file) = self.file.clone() else {
            return;
        };
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            let temp = file.with_extension("json.new");
            let mut out = std::fs::File::create(&temp)?;
            out.write_all(&serde_json::to_vec_pretty(&all).unwrap_or_default())?;
            out.sync_all()?;
            std::fs::rename(&temp, &file)
        })
        .await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::warn!("the Telegram chat move could not be written to disk");
        }
    }
}

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

    /// Sends to a Telegram chat, or to where it moved. A group that became a supergroup
    /// answers `400` with `parameters.migrate_to_chat_id`, and would fail forever under its
    /// old id: the alert goes to the new id at once, the move is kept ([`ChatMoves`]), and
    /// the operator is told to have the contact updated.
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
        let mut chat = self.telegram_moves.current(chat);
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
                    self.telegram_moves.learn(&chat, &new.to_string()).await;
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
