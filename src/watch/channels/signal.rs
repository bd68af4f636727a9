//! Signal, through the operator's signal-cli REST gateway (`/v2/send`).

use std::time::Duration;

use super::{Delivery, SendError, Sender};

impl Sender {
    pub(super) async fn signal(
        &self,
        delivery: &Delivery,
        number: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let signal = self
            .config
            .signal
            .as_ref()
            .ok_or_else(|| SendError::new("this watcher has no Signal gateway configured"))?;
        // `normal` said outright: a gateway whose default the operator set to
        // `styled` would strip `*`, `~`, `||` and backticks from the text, and the
        // signature would no longer verify.
        let body = serde_json::json!({
            "message": format!("{}\n\n{text}", delivery.title),
            "number": signal.number,
            "recipients": [number],
            "text_mode": "normal",
        });
        self.expect_success(
            self.http
                .post(format!("{}/v2/send", signal.gateway.trim_end_matches('/')))
                .timeout(self.signal_timeout())
                .json(&body),
            true,
        )
        .await
    }

    /// The gateway's `/v2/send` answers only once signal-cli has sent (in its `normal` mode
    /// a JVM starts per request): often well past 20 s while it still delivers. Giving up
    /// sooner would send it again, and the contact would read the alert twice.
    pub fn signal_timeout(&self) -> Duration {
        self.config.timeout.max(SIGNAL_TIMEOUT)
    }
}

/// The least time a Signal gateway is given (see [`Sender::signal_timeout`]).
pub const SIGNAL_TIMEOUT: Duration = Duration::from_secs(60);
