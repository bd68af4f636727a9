//! How a client reaches a watcher (the journalist's requests, a lawyer's download of a released
//! bundle): straight, or only ever through a SOCKS5 proxy such as Tor, which resolves the watcher's name itself (so `.onion` addresses work
//! and the local resolver never hears the watcher's name).
//!
//! A route is chosen once per command and every request of that command takes it: there is
//! no fallback from the proxy to a direct connection. A proxy that does not answer is an
//! error that names it (`switch::client::ClientError::ProxyDown`).

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// What the journalist's requests travel over. (No `Default`: every caller says which.)
#[derive(Debug, Clone)]
pub enum Route {
    /// Straight to the watcher (what posbon does unless a proxy is set).
    Direct,
    /// Only through this proxy.
    Socks(Box<SocksProxy>),
}

/// A checked `socks5h://` proxy.
#[derive(Clone)]
pub struct SocksProxy {
    /// The URL as given, canonical (`socks5h://[user:pass@]host:port`).
    url: String,
    /// `host:port`, for messages and for asking whether the proxy answers.
    address: String,
    proxy: reqwest::Proxy,
}

impl std::fmt::Debug for SocksProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SocksProxy({self})")
    }
}

/// Without the user name and password (Tor takes them to keep circuits apart; another proxy
/// may take a real password), so that messages can show it.
impl std::fmt::Display for SocksProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "socks5h://{}", self.address)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    #[error("{0:?} is not a proxy URL like socks5h://127.0.0.1:9050")]
    NotAUrl(String),
    #[error(
        "socks5:// resolves the watcher's name on this computer, which tells the local network \
         whom you talk to (and cannot reach .onion addresses): use socks5h://{0} instead, so \
         that the proxy resolves names"
    )]
    LocalDns(String),
    #[error(
        "only SOCKS5 proxies that resolve names are supported, as socks5h://HOST:PORT \
         (Tor: socks5h://127.0.0.1:9050), not {0}://"
    )]
    Scheme(String),
    #[error("give the proxy's port, as in socks5h://127.0.0.1:9050")]
    NoPort,
    #[error("a proxy URL is socks5h://HOST:PORT with nothing after the port")]
    Trailing,
}

impl SocksProxy {
    /// Checks a proxy URL: `socks5h://HOST:PORT`, optionally with `user:password@`.
    /// `socks5://` is refused: it would resolve the watcher's name locally.
    pub fn parse(text: &str) -> Result<Self, RouteError> {
        let text = text.trim();
        let url = reqwest::Url::parse(text)
            .map_err(|_| RouteError::NotAUrl(text.chars().take(80).collect()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| RouteError::NotAUrl(text.chars().take(80).collect()))?;
        let port = url.port().ok_or(RouteError::NoPort)?;
        let address = format!("{host}:{port}");
        match url.scheme() {
            "socks5h" => {}
            "socks5" => return Err(RouteError::LocalDns(address)),
            other => return Err(RouteError::Scheme(other.to_string())),
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(RouteError::Trailing);
        }
        let auth = match (url.username(), url.password()) {
            ("", None) => String::new(),
            (user, None) => format!("{user}@"),
            (user, Some(password)) => format!("{user}:{password}@"),
        };
        let url = format!("socks5h://{auth}{address}");
        let proxy =
            reqwest::Proxy::all(url.as_str()).map_err(|_| RouteError::NotAUrl(address.clone()))?;
        Ok(SocksProxy {
            url,
            address,
            proxy,
        })
    }

    /// The URL to keep (in the vault, or handed to the background sender of unlock notices).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether something accepts connections at the proxy's address (asked after a request
    /// failed, to tell "the proxy is down" from "the watcher is unreachable through it").
    /// Only the proxy's own name is resolved here, never a watcher's.
    fn answers(&self) -> bool {
        let Ok(addresses) = self.address.to_socket_addrs() else {
            return false;
        };
        addresses
            .into_iter()
            .any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(3)).is_ok())
    }
}

/// Tor builds a circuit (and, for an onion service, a rendezvous) before the first byte:
/// requests through a proxy wait at least this long.
const PROXY_PATIENCE: Duration = Duration::from_secs(60);

impl Route {
    /// The route for a proxy URL kept earlier, or straight without one.
    pub fn from_proxy(url: Option<&str>) -> Result<Self, RouteError> {
        Ok(match url {
            Some(url) => Route::Socks(Box::new(SocksProxy::parse(url)?)),
            None => Route::Direct,
        })
    }

    /// The proxy's URL, if requests go through one.
    pub fn proxy_url(&self) -> Option<&str> {
        match self {
            Route::Direct => None,
            Route::Socks(proxy) => Some(proxy.url()),
        }
    }

    /// How long a request that would wait `timeout` straight to the watcher waits on this
    /// route (at least [`PROXY_PATIENCE`] through a proxy).
    pub(crate) fn patience(&self, timeout: Duration) -> Duration {
        match self {
            Route::Direct => timeout,
            Route::Socks(_) => timeout.max(PROXY_PATIENCE),
        }
    }

    /// An HTTP client that takes this route and no other, giving up after `timeout`.
    pub(crate) fn http(&self, timeout: Duration) -> reqwest::blocking::Client {
        let builder = reqwest::blocking::Client::builder().timeout(timeout);
        let builder = match self {
            // As before proxies were known here: the environment's HTTP proxy variables, if
            // any, are followed.
            Route::Direct => builder,
            // Set explicitly, this proxy replaces the environment's and takes every request,
            // loopback included: reqwest has no fallback to a direct connection.
            Route::Socks(socks) => builder.proxy(socks.proxy.clone()),
        };
        builder
            .build()
            .expect("an HTTP client with default TLS roots builds")
    }

    /// The proxy, when it is set and nothing answers at its address.
    pub(crate) fn down(&self) -> Option<&SocksProxy> {
        match self {
            Route::Socks(proxy) if !proxy.answers() => Some(proxy),
            _ => None,
        }
    }

    /// Whether this route can reach `url` without telling the local network its name: an
    /// `.onion` address can only be reached through the proxy (a direct attempt would ask the
    /// local resolver for it).
    pub(crate) fn can_reach(&self, url: &str) -> bool {
        match self {
            Route::Socks(_) => true,
            Route::Direct => !reqwest::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                .is_some_and(|host| host.trim_end_matches('.').ends_with(".onion")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tor_proxy_url_is_taken_as_it_is() {
        let proxy = SocksProxy::parse(" socks5h://127.0.0.1:9050 ").unwrap();
        assert_eq!(proxy.url(), "socks5h://127.0.0.1:9050");
        assert_eq!(proxy.to_string(), "socks5h://127.0.0.1:9050");
        let proxy = SocksProxy::parse("socks5h://localhost:9150/").unwrap();
        assert_eq!(proxy.url(), "socks5h://localhost:9150");
    }

    #[test]
    fn a_user_and_password_are_kept_but_never_shown() {
        let proxy = SocksProxy::parse("socks5h://posbon:circuit-1@127.0.0.1:9050").unwrap();
        assert_eq!(proxy.url(), "socks5h://posbon:circuit-1@127.0.0.1:9050");
        assert_eq!(proxy.to_string(), "socks5h://127.0.0.1:9050");
        assert!(!format!("{proxy:?}").contains("circuit-1"));
    }

    #[test]
    fn local_name_resolution_is_refused() {
        assert_eq!(
            SocksProxy::parse("socks5://127.0.0.1:9050").unwrap_err(),
            RouteError::LocalDns("127.0.0.1:9050".into())
        );
        let said = SocksProxy::parse("socks5://127.0.0.1:9050")
            .unwrap_err()
            .to_string();
        assert!(said.contains("socks5h://127.0.0.1:9050"), "{said}");
    }

    #[test]
    fn other_kinds_of_proxy_and_sloppy_urls_are_refused() {
        for (text, error) in [
            ("http://127.0.0.1:8080", RouteError::Scheme("http".into())),
            (
                "socks4a://127.0.0.1:9050",
                RouteError::Scheme("socks4a".into()),
            ),
            ("socks5h://127.0.0.1", RouteError::NoPort),
            ("socks5h://127.0.0.1:9050/x", RouteError::Trailing),
            ("socks5h://127.0.0.1:9050?a=b", RouteError::Trailing),
        ] {
            assert_eq!(SocksProxy::parse(text).unwrap_err(), error, "{text}");
        }
        for text in ["tor please", "127.0.0.1:9050", "socks5h://:9050"] {
            assert!(
                matches!(SocksProxy::parse(text), Err(RouteError::NotAUrl(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn an_onion_address_is_never_tried_without_the_proxy() {
        let onion = "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion";
        assert!(!Route::Direct.can_reach(onion));
        assert!(!Route::Direct.can_reach("http://Watcher.ONION./"));
        assert!(Route::Direct.can_reach("https://watcher.example.org"));
        let tor = Route::from_proxy(Some("socks5h://127.0.0.1:9050")).unwrap();
        assert!(tor.can_reach(onion));
        assert_eq!(tor.proxy_url(), Some("socks5h://127.0.0.1:9050"));
        assert_eq!(Route::from_proxy(None).unwrap().proxy_url(), None);
    }
}
