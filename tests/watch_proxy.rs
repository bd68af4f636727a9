//! The watcher behind a reverse proxy or an onion service, attacked as a stranger would:
//! junk through the proxy, a forged client-address header, and a flood of bad enrolment links
//! and codes from the journalist's own address. Each refusal is asserted, the genuine phone
//! and laptop still get through, and nothing changed (no check-in counted, no alarm raised).
//! Real daemon on loopback; every flood is a few hundred requests at most.

mod common;

use std::net::IpAddr;

use common::phone::TestPhone;
use common::receivers::free_port;
use common::watcher::{Daemon, action_labels, actions, invite};
use posbon::protocol::ops;
use posbon::switch::client::{self, ClientError, Link};
use ring::signature::Ed25519KeyPair;
use serde_json::Value;

const PIN: &str = "285071";
const DURESS: &str = "930462";
/// Unproven requests one address may make in the window (`ADDRESS_FAILURES` in `service`).
const ADDRESS_ALLOWANCE: usize = 20;

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// A check-in signed by a key no watcher knows, for a phone that does not exist.
fn stranger_checkin() -> Value {
    let mut stranger = TestPhone::new();
    stranger.id = "00".repeat(16);
    stranger.subject = "00".repeat(16);
    stranger.checkin_request("000000")
}

fn now_ms() -> i64 {
    posbon::vault::now()
}

struct Setup {
    daemon: Daemon,
    link: Link,
    device: Ed25519KeyPair,
    /// The journalist's phone, as the page makes it (enrolled by `enrol_phone`).
    phone: std::cell::RefCell<TestPhone>,
    _temp: tempfile::TempDir,
}

/// A watcher with `config` (TOML), one journalist enrolled from the laptop, with a plan.
fn setup(config: &str) -> Setup {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("watcher.toml");
    std::fs::write(&path, config).unwrap();
    let daemon = Daemon::start_with(
        &temp.path().join("watcher"),
        free_port(),
        &["--config", path.to_str().unwrap()],
    );
    let code = invite(&daemon.data, "Nilufar");
    let device = key();
    let link = client::enrol(&client::Route::Direct, &daemon.url, &code, &device, &key()).unwrap();
    let mut s = Setup {
        daemon,
        link,
        device,
        phone: std::cell::RefCell::new(TestPhone::new()),
        _temp: temp,
    };
    let plan = r#"{"schedule":{"kind":"every","every_ms":86400000},"grace_ms":3600000,"steps":[{"action":"release","after_ms":0}]}"#;
    s.call(ops::PLAN, plan);
    s
}

const BEHIND_A_PROXY: &str = r#"
[proxy]
trusted = ["127.0.0.1", "::1"]
header = "X-Forwarded-For"
"#;

impl Setup {
    fn call(&mut self, op: &str, payload: &str) -> posbon::protocol::StatusResponse {
        let (status, counter) = client::call(
            &client::Route::Direct,
            &self.link,
            &self.device,
            op,
            payload.into(),
            now_ms(),
        )
        .unwrap();
        self.link.last_counter = counter;
        status
    }

    fn phone_link(&mut self) -> String {
        self.call(ops::PHONE_INVITE, "{}").phone_token.unwrap()
    }

    /// A POST from the local address `from`, with `forwarded` as its X-Forwarded-For.
    fn post(&self, from: &str, forwarded: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        let client = reqwest::blocking::Client::builder()
            .local_address(from.parse::<IpAddr>().unwrap())
            .build()
            .unwrap();
        let mut request = client
            .post(format!("{}{path}", self.daemon.url))
            .json(&body);
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap())
    }

    /// A check-in for a phone that does not exist (an unproven request).
    fn junk_checkin(&self, from: &str, forwarded: Option<&str>) -> (u16, Value) {
        self.post(from, forwarded, "/v1/phone/checkin", stranger_checkin())
    }

    fn enrol_phone(&self, from: &str, forwarded: Option<&str>, token: &str) -> (u16, Value) {
        let request = self.phone.borrow().enrol_request(token, PIN, DURESS);
        let (status, body) = self.post(from, forwarded, "/v1/phone/enrol", request);
        if status == 200 {
            let mut phone = self.phone.borrow_mut();
            phone.id = body["device_id"].as_str().unwrap().to_string();
            phone.subject = body["subject"].as_str().unwrap().to_string();
        }
        (status, body)
    }

    fn phone_checkin(&self, from: &str, forwarded: Option<&str>, device: &str) -> (u16, Value) {
        assert_eq!(device, self.phone.borrow().id);
        let request = self.phone.borrow_mut().checkin_request(PIN);
        self.post(from, forwarded, "/v1/phone/checkin", request)
    }

    /// Stops the daemon; returns the queued actions' labels (alarms, steps).
    fn stop(self) -> Vec<String> {
        let data = self.daemon.data.clone();
        assert!(self.daemon.stop());
        action_labels(&actions(&data))
    }
}

/// Sends junk until the address is told to wait; returns how many were answered 401 first.
fn flood_until_refused(mut junk: impl FnMut() -> (u16, Value)) -> usize {
    for unrefused in 0..ADDRESS_ALLOWANCE + 5 {
        let (status, body) = junk();
        if status == 429 {
            assert_eq!(body["error"], "too_many_attempts", "{body}");
            assert!(body["wait_s"].as_u64().unwrap() > 0, "{body}");
            return unrefused;
        }
        assert_eq!(status, 401, "{body}");
    }
    panic!("junk was never refused");
}

#[test]
fn junk_through_a_trusted_proxy_does_not_lock_out_a_genuine_phone_from_another_address() {
    let mut s = setup(BEHIND_A_PROXY);
    let before = s.call(ops::STATUS, "{}");
    // Strangers behind the proxy, each from its own address, each until refused.
    for n in 1..=8 {
        let stranger = format!("198.51.100.{n}");
        let unrefused = flood_until_refused(|| s.junk_checkin("127.0.0.1", Some(&stranger)));
        assert_eq!(
            unrefused, ADDRESS_ALLOWANCE,
            "counted per forwarded address"
        );
    }
    // And the proxy's own address (a client the proxy could not name).
    flood_until_refused(|| s.junk_checkin("127.0.0.1", None));

    // The journalist's phone, behind the same proxy: an unproven request from its address
    // is not refused for the strangers' sake (it gets the honest answer) ...
    let journalist = "203.0.113.7";
    let (status, body) = s.junk_checkin("127.0.0.1", Some(journalist));
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unknown_device"))
    );
    // ... and the phone enrols and checks in.
    let token = s.phone_link();
    let (status, body) = s.enrol_phone("127.0.0.1", Some(journalist), &token);
    assert_eq!(status, 200, "{body}");
    let device = body["device_id"].as_str().unwrap().to_string();

    let middle = s.call(ops::STATUS, "{}");
    assert_eq!(
        middle.last_checkin_ms, before.last_checkin_ms,
        "the junk counted no check-in"
    );
    assert_eq!(middle.deadline_ms, before.deadline_ms);

    let (status, body) = s.phone_checkin("127.0.0.1", Some(journalist), &device);
    assert_eq!(status, 200, "{body}");
    // Even from an address that is being refused: a phone with its key is never
    // limited by address.
    let (status, body) = s.phone_checkin("127.0.0.1", Some("198.51.100.1"), &device);
    assert_eq!(status, 200, "{body}");
    assert!(s.call(ops::STATUS, "{}").last_checkin_ms > before.last_checkin_ms);
    assert_eq!(
        s.stop(),
        vec!["phone-enrolled"],
        "no alarm, no step: the junk changed nothing (tier 0 heard of the phone)"
    );
}

#[test]
fn a_forged_forwarded_header_from_an_untrusted_peer_is_ignored() {
    let mut s = setup(BEHIND_A_PROXY);
    let before = s.call(ops::STATUS, "{}");
    // 127.0.0.2 is not the proxy: it names a new "client" on every request, to get a fresh
    // allowance each time. The header is ignored and the peer is refused all the same.
    let mut n = 0;
    let unrefused = flood_until_refused(|| {
        n += 1;
        s.junk_checkin("127.0.0.2", Some(&format!("192.0.2.{n}")))
    });
    assert_eq!(unrefused, ADDRESS_ALLOWANCE);
    // Naming the proxy itself, or an address already refused, changes nothing either.
    let (status, _) = s.junk_checkin("127.0.0.2", Some("127.0.0.1"));
    assert_eq!(status, 429);
    // The refused peer did not use up the allowance of the address it forged: through the
    // real proxy, 192.0.2.1 is a client like any other.
    let (status, body) = s.junk_checkin("127.0.0.1", Some("192.0.2.1"));
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unknown_device"))
    );
    // A malformed header from the proxy falls back to the proxy's own address, not to any
    // address it names: three here, and the rest of the proxy's allowance below.
    for bad in ["not-an-address", "192.0.2.9, junk", "999.0.0.1"] {
        let (status, body) = s.junk_checkin("127.0.0.1", Some(bad));
        assert_eq!(status, 401, "{bad}: {body}");
    }
    let unrefused = flood_until_refused(|| s.junk_checkin("127.0.0.1", Some("garbage")));
    assert_eq!(unrefused, ADDRESS_ALLOWANCE - 3, "counted as the proxy");
    let (status, _) = s.junk_checkin("127.0.0.1", None);
    assert_eq!(status, 429);
    // A well-formed client behind the proxy is still its own client.
    let (status, body) = s.junk_checkin("127.0.0.1", Some("192.0.2.77"));
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unknown_device"))
    );

    assert_eq!(
        s.call(ops::STATUS, "{}").last_checkin_ms,
        before.last_checkin_ms
    );
    assert!(s.stop().is_empty(), "nothing changed");
}

#[test]
fn a_valid_phone_link_enrols_despite_a_flood_of_bad_links_from_the_same_address() {
    // The onion-service case: a trusted local proxy that names no client, so every request,
    // the journalist's included, comes from 127.0.0.1.
    let mut s = setup(BEHIND_A_PROXY);
    let before = s.call(ops::STATUS, "{}");
    let token = s.phone_link();
    let subject_part = &token[..token.len() - 32];
    // Bad links: random, malformed, expired-looking, and ones naming the right subject
    // with a wrong random part (guessing at the journalist's link).
    let mut n = 0u32;
    let unrefused = flood_until_refused(|| {
        n += 1;
        let bad = match n % 3 {
            0 => format!("{subject_part}{:032x}", n),
            1 => format!("{:064x}", n),
            _ => "zz".repeat(n as usize % 7),
        };
        let (status, body) = s.enrol_phone("127.0.0.1", None, &bad);
        // A bad link is 403 bad_invite until the address is refused.
        if status == 403 {
            assert_eq!(body["error"], "bad_invite", "{body}");
            (401, body)
        } else {
            (status, body)
        }
    });
    assert_eq!(unrefused, ADDRESS_ALLOWANCE);
    // Junk phone check-ins from the same address, refused too.
    let (status, _) = s.junk_checkin("127.0.0.1", None);
    assert_eq!(status, 429);

    // The journalist's phone, from the same refused address, with the valid link.
    let (status, body) = s.enrol_phone("127.0.0.1", None, &token);
    assert_eq!(status, 200, "{body}");
    let device = body["device_id"].as_str().unwrap().to_string();
    // The link was used once; it is not a second chance for anyone.
    let (status, _) = s.enrol_phone("127.0.0.1", None, &token);
    assert_eq!(status, 429, "a used link is unproven again");
    assert_eq!(
        s.call(ops::STATUS, "{}").last_checkin_ms,
        before.last_checkin_ms,
        "the flood counted no check-in"
    );
    let (status, body) = s.phone_checkin("127.0.0.1", None, &device);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        s.stop(),
        vec!["phone-enrolled"],
        "no alarm from the flood (tier 0 heard of the phone)"
    );
}

#[test]
fn a_valid_laptop_invite_enrols_despite_a_flood_of_bad_codes_from_the_same_address() {
    let s = setup(BEHIND_A_PROXY);
    let code = invite(&s.daemon.data, "Farrukh");
    // Typos and guesses from the same address (127.0.0.1, the proxy's), well past the
    // allowance of unproven phone requests.
    for n in 0..ADDRESS_ALLOWANCE * 3 {
        let bad = format!("{:05x}-{:05x}-{:05x}-{:05x}", n, n, n, n);
        let result = client::enrol(&client::Route::Direct, &s.daemon.url, &bad, &key(), &key());
        assert!(
            matches!(&result, Err(ClientError::Refused { code, .. }) if code == "bad_invite"),
            "{result:?}"
        );
    }
    flood_until_refused(|| s.junk_checkin("127.0.0.1", None));
    // The genuine code still enrols: invites are limited by their own single use.
    let device = key();
    let link = client::enrol(
        &client::Route::Direct,
        &s.daemon.url,
        &code,
        &device,
        &key(),
    )
    .unwrap();
    let again = client::enrol(&client::Route::Direct, &s.daemon.url, &code, &key(), &key());
    assert!(
        matches!(&again, Err(ClientError::Refused { code, .. }) if code == "bad_invite"),
        "{again:?}"
    );
    let (status, _) = client::call(
        &client::Route::Direct,
        &link,
        &device,
        ops::CHECKIN,
        "{}".into(),
        now_ms(),
    )
    .unwrap();
    assert_eq!(status.name, "Farrukh");
    assert!(status.last_checkin_ms.is_some());
    assert!(s.stop().is_empty());
}

#[test]
fn a_proxy_config_that_cannot_be_read_is_refused_with_its_reason() {
    use posbon::watch::config::check;
    check(BEHIND_A_PROXY).unwrap();
    check("[proxy]\ntrusted = [\"10.0.0.0/8\", \"fd00::/8\"]\nheader = \"X-Real-IP\"\n").unwrap();
    for (config, reason) in [
        ("[proxy]\ntrusted = [\"localhost\"]\n", "not an address"),
        ("[proxy]\ntrusted = [\"10.0.0.0/33\"]\n", "not an address"),
        ("[proxy]\nheader = \"X Real IP\"\n", "not a header name"),
        ("[proxy]\ntrusts = [\"127.0.0.1\"]\n", "unknown field"),
    ] {
        let error = check(config).unwrap_err().to_string();
        assert!(error.contains(reason), "{config}: {error}");
    }
}

/// Whether the watcher has closed this connection, after giving it `wait` to do so.
fn closed_by_server(stream: &mut std::net::TcpStream, wait: std::time::Duration) -> bool {
    use std::io::Read;
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1024];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn a_trusted_proxys_connections_are_not_capped_as_one_client() {
    let mut s = setup(&format!(
        "{BEHIND_A_PROXY}\n[connections]\nper_address = 2\n"
    ));
    let to: std::net::SocketAddr = s
        .daemon
        .url
        .strip_prefix("http://")
        .unwrap()
        .parse()
        .unwrap();
    let runtime = common::watcher::runtime();
    let short = std::time::Duration::from_millis(300);
    // A stranger (127.0.0.2) gets its 2; the third is closed at once.
    let mut stranger: Vec<_> = (0..3)
        .map(|_| common::watcher::connect_from(&runtime, 2, to))
        .collect();
    assert!(closed_by_server(
        &mut stranger[2],
        std::time::Duration::from_secs(2)
    ));
    assert!(!closed_by_server(&mut stranger[0], short));
    // The proxy (127.0.0.1) holds 6 idle connections, for 6 clients behind it: none closed.
    let mut proxy: Vec<_> = (0..6)
        .map(|_| common::watcher::connect_from(&runtime, 1, to))
        .collect();
    for stream in &mut proxy {
        assert!(!closed_by_server(stream, short));
    }
    // And a check-in through it (a 7th connection) is answered.
    let before = s.call(ops::STATUS, "{}");
    let after = s.call(ops::CHECKIN, "{}");
    assert!(after.last_checkin_ms > before.last_checkin_ms);
    drop((stranger, proxy));
    assert!(s.stop().is_empty());
}
