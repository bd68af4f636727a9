//! A Matrix homeserver (client-server API): an `m.text` message into the contact's room,
//! joining it first when, and only when, the account holds an invitation to it.

use super::{Delivery, SendError, Sender, TokenApi};

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
    /// on `M_FORBIDDEN` the account joins and sends again, but only a room it holds an
    /// invitation to (see [`Sender::matrix_invited`]). It never joins a room on its own: a
    /// public room is joinable by anyone, so "join on `M_FORBIDDEN`" alone would let a
    /// contact list (the journalist's, or a coercer's holding their keys) make the
    /// watcher's account walk into any public room and post a subject's alerts there. The
    /// delivery key is the transaction id, so a retry of an accepted message is recognised
    /// by the homeserver and not posted twice.
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
        let uninvited = |why: &str| SendError {
            reason: format!(
                "{}; {why}: the contact must invite this watcher's account (it joins only \
                 rooms it is invited to)",
                refused.reason
            ),
            ..refused.clone()
        };
        if !self.matrix_invited(matrix, room).await? {
            return Err(uninvited("no invitation to the room"));
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
            return Err(uninvited(&format!(
                "joining the room failed too ({})",
                why.reason
            )));
        }
        tracing::info!(delivery = %delivery.key, "joined the contact's Matrix room (invited)");
        self.expect_success(send(), true).await
    }

    /// Whether the account holds a pending invitation to `room`. Asked first of the room
    /// summary (`GET /_matrix/client/v1/room_summary/{room}`, Matrix 1.15), which names the
    /// account's own membership in one small answer; a homeserver without it (`M_UNRECOGNIZED`)
    /// is asked for its `/sync` instead, whose `rooms.invite` lists every pending invitation
    /// (homeservers do not filter invitations by room, so that answer may be read up to
    /// [`SYNC_LIMIT`]).
    async fn matrix_invited(&self, matrix: &TokenApi, room: &str) -> Result<bool, SendError> {
        let summary = self.matrix_url(
            &matrix.base,
            &["_matrix", "client", "v1", "room_summary", room],
        )?;
        let answer = self
            .exchange(self.http.get(summary).bearer_auth(matrix.token.as_str()))
            .await?;
        let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        if (200..300).contains(&answer.status) {
            return Ok(json["membership"] == "invite");
        }
        if json["errcode"] == "M_NOT_FOUND" || json["errcode"] == "M_FORBIDDEN" {
            // Neither a member nor invited, and not a room anyone may look into.
            return Ok(false);
        }
        let none = serde_json::json!({"types": []});
        let filter = serde_json::json!({
            "presence": none,
            "account_data": none,
            "room": {
                "rooms": [room],
                "include_leave": false,
                "timeline": {"limit": 1, "types": []},
                "state": none,
                "ephemeral": none,
                "account_data": none,
            },
        });
        let mut url = self.matrix_url(&matrix.base, &["_matrix", "client", "v3", "sync"])?;
        url.query_pairs_mut()
            .append_pair("timeout", "0")
            .append_pair("filter", &filter.to_string());
        let answer = self
            .exchange_up_to(
                self.http.get(url).bearer_auth(matrix.token.as_str()),
                SYNC_LIMIT,
            )
            .await?;
        if !(200..300).contains(&answer.status) {
            let why = self.refusal(&answer, true);
            return Err(SendError {
                reason: format!("reading the account's invitations failed: {}", why.reason),
                ..why
            });
        }
        let sync: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|_| {
            SendError::new(
                "the homeserver's list of invitations could not be read (too many pending \
                 invitations? decline the ones no contact sent)",
            )
        })?;
        Ok(sync["rooms"]["invite"].get(room).is_some())
    }
}

/// How much of a `/sync` answer is read: room for some thousand pending invitations.
const SYNC_LIMIT: usize = 4 * 1024 * 1024;
