//! ntfy: a plain publish to the topic's own URL.

use super::{Delivery, SendError, Sender};

impl Sender {
    /// Publishes to ntfy as its docs describe the plain form: a POST to the topic's own URL
    /// (so a server under a sub-path works), the armored alert as the raw body, and the rest
    /// in headers. Not the JSON form: ntfy refuses a JSON body over twice its message limit
    /// (`413`, 8,192 bytes by default), which a long Tajik alert passes, while a raw body over
    /// the message limit becomes an attachment that keeps the alert whole and verifiable.
    pub(super) async fn ntfy(
        &self,
        delivery: &Delivery,
        topic_url: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let url = reqwest::Url::parse(topic_url)
            .map_err(|_| SendError::new("the ntfy URL is not valid"))?;
        self.check_outside(&url)?;
        let mut request = self
            .outside
            .post(url.clone())
            .header("content-type", "text/plain; charset=utf-8")
            .header("title", header_text(&delivery.title))
            .header("priority", "5")
            .header("tags", "rotating_light");
        if text.len() > NTFY_MESSAGE {
            // ntfy would make it `attachment.txt` anyway; a name tells the lawyer what it is.
            request = request.header(
                "x-filename",
                format!("posbon-alert-{}.txt", delivery.alert_id),
            );
        }
        // The operator's token goes to the operator's ntfy server only.
        let token = self.config.ntfy.as_ref().filter(|ntfy| {
            reqwest::Url::parse(&ntfy.base).is_ok_and(|base| base.origin() == url.origin())
        });
        if let Some(ntfy) = token {
            request = request.bearer_auth(ntfy.token.as_str());
        }
        self.expect_success(request.body(text.to_string()), true)
            .await
    }
}

/// ntfy's default `message-size-limit`: a longer body is published as an attachment.
pub const NTFY_MESSAGE: usize = 4_096;

/// A header value that may hold any text: ASCII as it is, anything else as an RFC 2047
/// encoded word, which ntfy decodes (HTTP headers carry no charset of their own).
fn header_text(text: &str) -> String {
    let one_line: String = text.chars().filter(|c| !c.is_control()).collect();
    if one_line.is_ascii() {
        one_line
    } else {
        use base64::Engine;
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(one_line.as_bytes())
        )
    }
}
