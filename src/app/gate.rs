//! Who may talk to the local app, decided without I/O: the one-time launch token exchanged
//! for a session cookie, the Host and Origin headers (no DNS rebinding, no cross-site
//! requests), the per-session form token, and the headers every answer carries.
//!
//! The app listens on loopback, but any web page the journalist opens can make the browser
//! send requests there, and any local process can connect. So nothing is answered without the
//! session cookie, which only the browser that opened the launch link holds; a page from
//! another site can neither read answers (no CORS, a strict Host) nor post forms (Origin,
//! `Sec-Fetch-Site`, SameSite=Strict and the form token, each enough alone).

use std::net::SocketAddr;
use std::sync::Mutex;

use crate::crypto;
use crate::secret::constant_time_eq;

/// The session cookie's name.
pub const COOKIE: &str = "posbon_session";

/// Headers on every answer: nothing cached (the pages hold plaintext), nothing framed,
/// nothing loaded or run from anywhere (the pages have no script at all), no referrer.
pub const HEADERS: [(&str, &str); 8] = [
    ("cache-control", "no-store, max-age=0"),
    ("pragma", "no-cache"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    // Not no-referrer: under it the browser posts forms with `Origin: null`, which the
    // origin check must refuse. same-origin sends a referrer to this app alone.
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// What a request is refused for, before any handler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The Host header is not this app's address (DNS rebinding, or another server's name).
    WrongHost,
    /// No session: the launch link was not opened in this browser.
    NoSession,
    /// The launch link was used already (or is not this app's).
    LinkUsed,
    /// A form posted from another origin, or without the form token; or any request the
    /// browser says another site (another port on this computer included) made.
    CrossSite,
}

/// The secrets of one run of the app: made from the OS generator at start, never written.
pub struct Gate {
    /// The address the app is bound to: its link and the only Host it answers to.
    addr: SocketAddr,
    /// Taken by the first browser that opens the launch link; `None` afterwards.
    launch: Mutex<Option<String>>,
    session: String,
    form_token: String,
}

impl Gate {
    pub fn new(addr: SocketAddr) -> Self {
        Gate {
            addr,
            launch: Mutex::new(Some(hex::encode(crypto::random_array::<32>()))),
            session: hex::encode(crypto::random_array::<32>()),
            form_token: hex::encode(crypto::random_array::<32>()),
        }
    }

    /// The address to open once: it carries the launch token.
    pub fn launch_url(&self) -> String {
        let token = self.launch.lock().unwrap_or_else(|p| p.into_inner());
        // SocketAddr prints an IPv6 address in brackets, as a URL wants it.
        format!(
            "http://{}/?token={}",
            self.addr,
            token.as_deref().unwrap_or("")
        )
    }

    /// The token every form carries back (in its action's query), proving it was served here.
    pub fn form_token(&self) -> &str {
        &self.form_token
    }

    /// Whether `host` (the Host header) names this app: the address it is bound to, or
    /// localhost, at its port. Any other name, even one that resolves to loopback, is a
    /// rebinding attempt.
    pub fn host_ok(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return false };
        [
            self.addr.to_string(),
            format!("localhost:{}", self.addr.port()),
        ]
        .iter()
        .any(|ours| host.eq_ignore_ascii_case(ours))
    }

    /// Whether the browser says the request came from another site: a page elsewhere, or on
    /// another port of this computer (`same-site`), which can make the browser load the app's
    /// pages with its cookie even though it cannot read them. Such a request is refused
    /// whatever it asks, so that no page here is even fetched (pages that show something once
    /// would lose it). A link opened from outside the browser or typed is `none`.
    pub fn fetched_from_elsewhere(&self, fetch_site: Option<&str>) -> bool {
        fetch_site.is_some_and(|site| site != "same-origin" && site != "none")
    }

    /// Exchanges the launch token for the session cookie, once: the cookie's value, or why not.
    pub fn exchange(&self, token: &str) -> Result<String, Refused> {
        let mut launch = self.launch.lock().unwrap_or_else(|p| p.into_inner());
        match launch.as_deref() {
            Some(expected) if constant_time_eq(expected.as_bytes(), token.as_bytes()) => {
                *launch = None;
                Ok(format!(
                    "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
                    self.session
                ))
            }
            _ => Err(Refused::LinkUsed),
        }
    }

    /// Whether the Cookie header carries this run's session.
    pub fn session_ok(&self, cookie_header: Option<&str>) -> bool {
        cookie_header
            .into_iter()
            .flat_map(|header| header.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| {
                name == COOKIE && constant_time_eq(value.as_bytes(), self.session.as_bytes())
            })
    }

    /// Whether a state-changing request comes from this app's own pages: its Origin is this
    /// app, the browser does not call it cross-site, and it carries the form token.
    pub fn form_ok(
        &self,
        origin: Option<&str>,
        fetch_site: Option<&str>,
        form_token: Option<&str>,
    ) -> bool {
        let origin_ok = origin.is_some_and(|origin| {
            origin
                .strip_prefix("http://")
                .is_some_and(|host| self.host_ok(Some(host)))
        });
        let site_ok = fetch_site.is_none_or(|site| site == "same-origin");
        let token_ok = form_token
            .is_some_and(|token| constant_time_eq(token.as_bytes(), self.form_token.as_bytes()));
        origin_ok && site_ok && token_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_of(gate: &Gate) -> String {
        gate.launch_url()
            .split("token=")
            .nth(1)
            .unwrap()
            .to_string()
    }

    fn at(text: &str) -> Gate {
        Gate::new(text.parse().unwrap())
    }

    #[test]
    fn the_launch_token_opens_one_session_once() {
        let gate = at("127.0.0.1:4000");
        let token = token_of(&gate);
        assert_eq!(gate.exchange("0000"), Err(Refused::LinkUsed));
        let cookie = gate.exchange(&token).unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert_eq!(gate.exchange(&token), Err(Refused::LinkUsed), "used once");
        let value = cookie.split(';').next().unwrap();
        assert!(gate.session_ok(Some(&format!("other=1; {value}"))));
        assert!(!gate.session_ok(Some(&format!("{COOKIE}=00"))));
        assert!(!gate.session_ok(None));
    }

    #[test]
    fn only_this_apps_host_and_origin_with_the_form_token_pass() {
        let gate = at("127.0.0.1:4000");
        assert!(gate.host_ok(Some("127.0.0.1:4000")));
        assert!(gate.host_ok(Some("LOCALHOST:4000")));
        for wrong in ["evil.example:4000", "127.0.0.1:4001", "127.0.0.1", ""] {
            assert!(!gate.host_ok(Some(wrong)), "{wrong}");
        }
        assert!(!gate.host_ok(None));
        let token = gate.form_token().to_string();
        let ours = Some("http://127.0.0.1:4000");
        assert!(gate.form_ok(ours, Some("same-origin"), Some(&token)));
        assert!(gate.form_ok(ours, None, Some(&token)));
        assert!(!gate.form_ok(ours, Some("cross-site"), Some(&token)));
        assert!(!gate.form_ok(ours, Some("same-site"), Some(&token)));
        assert!(!gate.form_ok(Some("http://evil.example"), None, Some(&token)));
        assert!(!gate.form_ok(Some("null"), None, Some(&token)));
        assert!(
            !gate.form_ok(None, None, Some(&token)),
            "no Origin, no post"
        );
        assert!(!gate.form_ok(ours, None, None));
        assert!(!gate.form_ok(ours, None, Some("00")));
    }

    #[test]
    fn on_ipv6_loopback_the_link_and_the_host_are_the_bound_address() {
        let gate = at("[::1]:4000");
        assert!(gate.launch_url().starts_with("http://[::1]:4000/?token="));
        assert!(gate.host_ok(Some("[::1]:4000")));
        assert!(gate.host_ok(Some("localhost:4000")));
        assert!(!gate.host_ok(Some("127.0.0.1:4000")), "not bound there");
        assert!(!gate.host_ok(Some("[::1]:4001")));
        let token = gate.form_token().to_string();
        assert!(gate.form_ok(Some("http://[::1]:4000"), None, Some(&token)));
    }

    #[test]
    fn only_this_sites_own_pages_and_outside_links_may_fetch_anything() {
        let gate = at("127.0.0.1:4000");
        assert!(
            !gate.fetched_from_elsewhere(None),
            "old browsers send nothing"
        );
        assert!(!gate.fetched_from_elsewhere(Some("same-origin")));
        assert!(!gate.fetched_from_elsewhere(Some("none")));
        assert!(
            gate.fetched_from_elsewhere(Some("same-site")),
            "another port"
        );
        assert!(gate.fetched_from_elsewhere(Some("cross-site")));
    }

    #[test]
    fn every_run_has_its_own_secrets() {
        let (a, b) = (at("127.0.0.1:1"), at("127.0.0.1:1"));
        assert_ne!(token_of(&a), token_of(&b));
        assert_ne!(a.form_token(), b.form_token());
        assert_eq!(token_of(&a).len(), 64);
    }
}
