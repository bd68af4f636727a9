//! Fetching a released bundle through the download link an alert gives, for a face that
//! opens it next (the demo's lawyer; the local app). One POST to the watcher (a GET only
//! shows a page, so that link previews in a chat do not count as downloads), bounded in
//! size and time, over the route the caller chose (only through the proxy, when one is set),
//! so that no face needs an HTTP client of its own.

use std::io::Read;
use std::time::Duration;

use super::bundle::MAX_BUNDLE;
use crate::route::Route;

/// How long a download may take: a 32 MiB bundle over a slow link.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot download {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} refused the download (HTTP {status})")]
    Refused { url: String, status: u16 },
    #[error("{url} sent more than a bundle can hold")]
    TooLarge { url: String },
}

/// The sealed bundle behind a download link, as the watcher sent it, fetched over `route`.
pub fn bundle_from_link(route: &Route, url: &str) -> Result<Vec<u8>, FetchError> {
    let unreachable = |e: &dyn std::fmt::Display| FetchError::Unreachable {
        url: url.to_string(),
        reason: e.to_string(),
    };
    let client = route.http(route.patience(DOWNLOAD_TIMEOUT));
    let response = client.post(url).send().map_err(|e| unreachable(&e))?;
    if !response.status().is_success() {
        return Err(FetchError::Refused {
            url: url.to_string(),
            status: response.status().as_u16(),
        });
    }
    let mut bytes = Vec::new();
    response
        .take(MAX_BUNDLE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreachable(&e))?;
    if bytes.len() as u64 > MAX_BUNDLE {
        return Err(FetchError::TooLarge {
            url: url.to_string(),
        });
    }
    Ok(bytes)
}
