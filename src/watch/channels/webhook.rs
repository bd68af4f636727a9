//! Webhooks: the alert as JSON, with an HMAC of the body under the watcher's webhook key.

use super::{Delivery, SendError, Sender};

impl Sender {
    pub(super) async fn webhook(&self, delivery: &Delivery, url: &str) -> Result<(), SendError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| SendError::new("the webhook URL is not valid"))?;
        self.check_outside(&parsed)?;
        let alert = delivery
            .alert
            .json()
            .map_err(|e| SendError::new(format!("the stored alert cannot be read: {e}")))?;
        let mut json =
            serde_json::to_value(alert).map_err(|e| SendError::new(format!("the alert: {e}")))?;
        json["ack_url"] = delivery
            .ack_url
            .clone()
            .map_or(serde_json::Value::Null, serde_json::Value::String);
        json["delivery"] = serde_json::Value::String(delivery.key.clone());
        json["bundles"] = serde_json::to_value(&delivery.bundles).unwrap_or_default();
        let body =
            serde_json::to_vec(&json).map_err(|e| SendError::new(format!("the alert: {e}")))?;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.config.webhook_key);
        let tag = ring::hmac::sign(&key, &body);
        self.expect_success(
            self.outside
                .post(parsed)
                .header("content-type", "application/json")
                .header(WEBHOOK_HMAC_HEADER, format!("sha256={}", hex::encode(tag)))
                .header("x-posbon-alert-id", &delivery.alert_id)
                .body(body),
            false,
        )
        .await
    }
}

/// The header carrying `sha256=HEX`, the HMAC-SHA256 of a webhook's body under the watcher's
/// webhook key.
pub const WEBHOOK_HMAC_HEADER: &str = "x-posbon-hmac";

/// Checks a webhook's HMAC header (for receivers written in Rust, and the tests).
pub fn webhook_hmac_matches(key: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_tag) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(tag) = hex::decode(hex_tag) else {
        return false;
    };
    ring::hmac::verify(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        body,
        &tag,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_hmacs_check_the_body_and_the_key() {
        let key = b"k";
        let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), b"body");
        let header = format!("sha256={}", hex::encode(tag));
        assert!(webhook_hmac_matches(key, b"body", &header));
        assert!(!webhook_hmac_matches(key, b"bodY", &header));
        assert!(!webhook_hmac_matches(b"other", b"body", &header));
        assert!(!webhook_hmac_matches(key, b"body", "md5=00"));
    }
}
