//! A Matrix homeserver (client-server API): an `m.text` message into the contact's room,
//! joining it first when the account was only invited.

use super::{Delivery, SendError, Sender};

impl Sender {
    /// A homeserver URL with `segments` appended (each escaped as a path segment).
    fn matrix_url(&self, base: &str, segments: &[&str]) -> Result<reqwest::Url, SendError> {
        let mut url = reqwest::Url::parse(base)
            .map_err(|_| SendError::new("the Matrix homeserver URL is not valid"))?;
        url.path_segments_mut()
            .map_err(|_| SendError::new("the Matrix homeserver URL is not valid"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends an `m.text` message. A homeserver lets only a *joined* account post
    /// (`403 M_FORBIDDEN` while it is merely invited), and a contact can only invite it: so
    /// on `M_FORBIDDEN` the account joins (which works only for a room it is invited to, or
    /// a public one) and sends again. The delivery key is the transaction id, so a retry of
    /// an accepted message is recognised by the homeserver and not posted twice.
    pub(super) async fn matrix(
        &self,
        delivery: &Delivery,
        room: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let matrix = self
            .config
            .matrix
            .as_ref()
            .ok_or_else(|| SendError::new("this watcher has no Matrix account configured"))?;
        let url = self.matrix_url(
            &matrix.base,
            &[
                "_matrix",
                "client",
                "v3",
                "rooms",
                room,
                "send",
                "m.room.message",
                &delivery.key,
            ],
        )?;
        let body = serde_json::json!({
            "msgtype": "m.text",
            "body": format!("{}\n\n{text}", delivery.title),
        });
        let send = || {
            self.http
                .put(url.clone())
                .bearer_auth(matrix.token.as_str())
                .json(&body)
        };
        let answer = self.exchange(send()).await?;
        if (200..300).contains(&answer.status) {
            return Ok(());
        }
        let refused = self.refusal(&answer, true);
        let errcode = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|j| j["errcode"].as_str().map(str::to_string));
        if answer.status != 403 || errcode.as_deref() != Some("M_FORBIDDEN") {
            return Err(refused);
        }
        let join = self.matrix_url(&matrix.base, &["_matrix", "client", "v3", "join", room])?;
        let joined = self
            .exchange(
                self.http
                    .post(join)
                    .bearer_auth(matrix.token.as_str())
                    .json(&serde_json::json!({})),
            )
            .await?;
        if !(200..300).contains(&joined.status) {
            let why = self.refusal(&joined, true);
            return Err(SendError {
                reason: format!(
                    "{}; joining the room failed too ({}): the contact must invite this watcher's account",
                    refused.reason, why.reason
                ),
                ..refused
            });
        }
        tracing::info!(delivery = %delivery.key, "joined the contact's Matrix room");
        self.expect_success(send(), true).await
    }
}
