//! Whose request is this: the client's address behind a reverse proxy the operator trusts.
//!
//! Behind nginx, Caddy or a load balancer every connection comes from the proxy, so the
//! watcher would count every client as one: a stranger's junk would use up the allowance of
//! the journalist's phone. The operator names the proxies (`[proxy] trusted`) and the header
//! they write the client's address into (`[proxy] header`). Only on a connection from a named
//! proxy is the header read; from anyone else it is ignored, because anyone can send it.
//!
//! The header is read from the right. A proxy appends the address it saw to what the client
//! sent (`X-Forwarded-For: forged, 198.51.100.7`), so the entries left of the last proxy's are
//! whatever the client chose. The rightmost entry that is not itself a trusted proxy is the
//! client; an entry that is not an address, before that one is found, means the header cannot
//! be trusted, and the connection's own address is used: junk then shares the proxy's
//! allowance, never another client's.
//!
//! An onion service gives no client address at all (Tor connects from 127.0.0.1 and sends no
//! header), so there every client is the same one. What a journalist needs does not depend on
//! the address: a phone with its device secret is limited per device, and an enrolment with a
//! valid link per link (see `service`), so only requests that prove nothing share that limit.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, StatusCode};

/// The header proxies most often write the client's address into.
pub const DEFAULT_HEADER: &str = "x-forwarded-for";
/// A header with more entries than this is not read (a proxy chain is a few hops): its
/// length is the client's choice.
const MAX_ENTRIES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "[proxy] trusted: {0:?} is not an address or a network (such as 127.0.0.1 or 10.0.0.0/8)"
    )]
    BadNetwork(String),
    #[error("[proxy] header: {0:?} is not a header name")]
    BadHeader(String),
}

/// An address or a network in CIDR form (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 proxy seen through an IPv6 socket (::ffff:a.b.c.d) is still that proxy.
        match (self.base, ip.to_canonical()) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => mask_eq(
                u32::from(base).into(),
                u32::from(ip).into(),
                32,
                self.prefix,
            ),
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                mask_eq(u128::from(base), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn mask_eq(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    let shift = u32::from(bits - prefix);
    shift >= 128 || (a >> shift) == (b >> shift)
}

impl FromStr for Network {
    type Err = ProxyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ProxyError::BadNetwork(text.to_string());
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let base: IpAddr = address.parse().map_err(|_| bad())?;
        let base = base.to_canonical();
        let bits = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(bad)?,
            None => bits,
        };
        Ok(Network { base, prefix })
    }
}

/// The proxies the operator trusts, and the header they name the client in.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<Network>,
    header: HeaderName,
}

impl Default for TrustedProxies {
    /// None: every connection's own address is its client's.
    fn default() -> Self {
        TrustedProxies {
            networks: Vec::new(),
            header: HeaderName::from_static(DEFAULT_HEADER),
        }
    }
}

impl TrustedProxies {
    /// From the config's `[proxy]` table: `trusted` addresses or networks, and the header
    /// (`X-Forwarded-For` if not given; `X-Real-IP` is read the same way).
    pub fn new(trusted: &[String], header: Option<&str>) -> Result<Self, ProxyError> {
        let networks = trusted
            .iter()
            .map(|t| t.parse())
            .collect::<Result<Vec<Network>, _>>()?;
        let header = match header {
            Some(name) => HeaderName::from_str(name.trim())
                .map_err(|_| ProxyError::BadHeader(name.to_string()))?,
            None => HeaderName::from_static(DEFAULT_HEADER),
        };
        Ok(TrustedProxies { networks, header })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether a connection from `peer` comes from a trusted proxy.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(peer))
    }

    /// The client behind a request that came over a connection from `peer`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut entries = Vec::new();
        for value in headers.get_all(&self.header) {
            let Ok(value) = value.to_str() else {
                return peer;
            };
            entries.extend(value.split(',').map(str::trim));
            if entries.len() > MAX_ENTRIES {
                return peer;
            }
        }
        let mut client = peer;
        for entry in entries.iter().rev() {
            match parse_entry(entry) {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return ip.to_canonical(),
                None => return peer,
            }
        }
        client
    }
}

/// One entry: an address, maybe with a port (`198.51.100.7:4711`, `[2001:db8::1]:4711`), as
/// some proxies write them.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The address a request is counted by: its client's, as the listener worked it out (from a
/// trusted proxy's header, or the connection's own address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(client) = parts.extensions.get::<ClientAddress>() {
            return Ok(*client);
        }
        // Served without our listener (`axum::serve`, as the demo does): no proxy to trust.
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientAddress(peer.ip()))
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(trusted: &[&str], header: Option<&str>) -> TrustedProxies {
        let trusted: Vec<String> = trusted.iter().map(|t| t.to_string()).collect();
        TrustedProxies::new(&trusted, header).unwrap()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(HeaderName::from_str(name).unwrap(), value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let p = proxies(&["127.0.0.1"], None);
        let forged = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(p.client(ip("192.0.2.1"), &forged), ip("192.0.2.1"));
        let none = proxies(&[], None);
        assert_eq!(none.client(ip("127.0.0.1"), &forged), ip("127.0.0.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_entry_is_the_client() {
        let p = proxies(&["127.0.0.1", "10.0.0.0/8"], None);
        let peer = ip("127.0.0.1");
        let h = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(p.client(peer, &h), ip("203.0.113.9"));
        // What the client sent comes first; the proxy appended the address it saw.
        let h = headers("x-forwarded-for", &["192.0.2.66, 203.0.113.9"]);
        assert_eq!(p.client(peer, &h), ip("203.0.113.9"));
        // Two proxies: the inner one (10.1.2.3) is skipped.
        let h = headers("x-forwarded-for", &["192.0.2.66", "203.0.113.9, 10.1.2.3"]);
        assert_eq!(p.client(peer, &h), ip("203.0.113.9"));
        // Ports, and IPv4 written as IPv6.
        let h = headers("x-forwarded-for", &["[2001:db8::7]:4711"]);
        assert_eq!(p.client(peer, &h), ip("2001:db8::7"));
        let h = headers("x-forwarded-for", &["203.0.113.9:4711"]);
        assert_eq!(p.client(peer, &h), ip("203.0.113.9"));
        let h = headers("x-forwarded-for", &["::ffff:203.0.113.9"]);
        assert_eq!(p.client(peer, &h), ip("203.0.113.9"));
    }

    #[test]
    fn a_malformed_or_missing_header_falls_back_to_the_peer() {
        let p = proxies(&["127.0.0.1"], None);
        let peer = ip("127.0.0.1");
        for bad in [
            "",
            "unknown",
            "203.0.113.9, junk",
            "203.0.113.9;",
            "999.1.1.1",
        ] {
            let h = headers("x-forwarded-for", &[bad]);
            assert_eq!(p.client(peer, &h), peer, "{bad:?}");
        }
        assert_eq!(p.client(peer, &HeaderMap::new()), peer, "Tor sends none");
        // Junk left of a good entry is never reached.
        let h = headers("x-forwarded-for", &["junk, 203.0.113.9"]);
        assert_eq!(p.client(peer, &h), ip("203.0.113.9"));
        // Not text.
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff203.0.113.9").unwrap(),
        );
        assert_eq!(p.client(peer, &h), peer);
        // Too long a chain to be a proxy's.
        let long = vec!["203.0.113.9"; MAX_ENTRIES + 1].join(",");
        let h = headers("x-forwarded-for", &[&long]);
        assert_eq!(p.client(peer, &h), peer);
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let p = proxies(&["::1"], Some("X-Real-IP"));
        let peer = ip("::1");
        let xff = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(p.client(peer, &xff), peer);
        let real = headers("x-real-ip", &["203.0.113.9"]);
        assert_eq!(p.client(peer, &real), ip("203.0.113.9"));
    }

    #[test]
    fn networks_match_by_prefix_and_bad_ones_are_refused() {
        let n: Network = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(ip("10.200.3.4")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.0.0.1")));
        let n: Network = "fd00::/8".parse().unwrap();
        assert!(n.contains(ip("fd12::1")) && !n.contains(ip("fe80::1")));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("192.0.2.1")) && !all.contains(ip("::1")));
        let one: Network = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        for bad in ["localhost", "10.0.0.0/33", "::/129", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
        assert!(TrustedProxies::new(&[], Some("bad header")).is_err());
    }
}
