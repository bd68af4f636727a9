//! One phone page for every watcher (issue 15), against real daemons on loopback: one link
//! (and a spare served by another watcher) sets the phone up with each, with a key pair and
//! a PIN key per watcher; one check-in reaches each; the duress PIN alarms each; a watcher
//! that is down leaves the others working. Run as an adversary would: tokens and requests
//! of one watcher tried at another, forged origins, credentials, hostile bodies. The page
//! itself, in Chromium, is `tests/watch_browser.rs`.

mod common;

use common::phone::{DURESS, PIN, TestPhone, link_tokens, post_to};
use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;
use posbon::protocol::b64;
use posbon::watch::phone::{checkin_bytes, verifier};
use serde_json::json;

/// A vault enrolled with `n` watchers, with a plan.
fn with_watchers(n: usize) -> (TestVault, Vec<Daemon>) {
    let v = TestVault::new();
    let daemons: Vec<Daemon> = (0..n)
        .map(|i| Daemon::start(&v.path(&format!("watcher{i}"))))
        .collect();
    for daemon in &daemons {
        let code = invite(&daemon.data, "Nilufar");
        v.ok(&["enrol", &daemon.url, &code], "");
    }
    v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
    (v, daemons)
}

/// The links `watch enrol-phone` prints, one a line.
fn phone_links(v: &TestVault) -> Vec<String> {
    let out = v.run(&["watch", "enrol-phone"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

/// A phone set up from `link` with every watcher it names, as the page does: one key pair
/// and PIN key each.
fn enrol_all(link: &str) -> Vec<(String, TestPhone)> {
    link_tokens(link)
        .into_iter()
        .map(|(url, token)| {
            let phone = TestPhone::enrol_at(&url, &token);
            (url, phone)
        })
        .collect()
}

#[test]
fn one_link_sets_the_phone_up_with_every_watcher_and_one_checkin_reaches_each() {
    let (v, daemons) = with_watchers(3);
    let urls: Vec<String> = daemons.iter().map(|d| d.url.clone()).collect();
    let links = phone_links(&v);
    assert_eq!(links.len(), 2, "the link and a spare: {links:?}");
    let (main, spare) = (link_tokens(&links[0]), link_tokens(&links[1]));
    assert!(links[0].starts_with(&format!("{}/p#enrol=", urls[0])));
    assert!(
        links[1].starts_with(&format!("{}/p#enrol=", urls[1])),
        "the spare is served by another watcher: {}",
        links[1]
    );
    let named = |tokens: &[(String, String)]| {
        let mut named: Vec<String> = tokens.iter().map(|(u, _)| u.clone()).collect();
        named.sort();
        named
    };
    let mut sorted = urls.clone();
    sorted.sort();
    assert_eq!(named(&main), sorted);
    assert_eq!(named(&spare), sorted);
    // Every token is its own: the spare's are not the link's.
    let all: std::collections::HashSet<&String> =
        main.iter().chain(&spare).map(|(_, t)| t).collect();
    assert_eq!(all.len(), 6);

    let mut phones = enrol_all(&links[0]);
    // One key pair per watcher: no two watchers see the same key or device id.
    let keys: std::collections::HashSet<String> =
        phones.iter().map(|(_, p)| p.public_key()).collect();
    let ids: std::collections::HashSet<String> = phones.iter().map(|(_, p)| p.id.clone()).collect();
    assert_eq!((keys.len(), ids.len()), (3, 3));
    // The spare sets up the same phone again (another origin, other keys).
    let mut spare_phones = enrol_all(&links[1]);

    for (url, phone) in phones.iter_mut().chain(spare_phones.iter_mut()) {
        let (status, body) = phone.checkin_at(url, PIN);
        assert_eq!(status, 200, "{url}: {body}");
    }
    let listed = v.ok(&["phone", "list"], "");
    for (_, phone) in &phones {
        assert!(listed.contains(&phone.id), "{listed}");
    }

    // The duress PIN: the same answer from each, and each raises the silent alarm.
    for (url, phone) in phones.iter_mut() {
        let (status, body) = phone.checkin_at(url, DURESS);
        assert_eq!(status, 200, "{url}: {body}");
        assert_eq!(
            body.as_object().unwrap().keys().collect::<Vec<_>>(),
            vec!["deadline_ms", "name"]
        );
    }
    for daemon in daemons {
        let data = daemon.data.clone();
        assert!(daemon.stop());
        let labels = action_labels(&actions(&data));
        assert_eq!(
            labels,
            vec!["phone-enrolled", "phone-enrolled", "duress"],
            "each watcher: two phones (link and spare), one silent alarm"
        );
    }
}

#[test]
fn what_belongs_to_one_watcher_is_worth_nothing_at_another() {
    let (v, daemons) = with_watchers(2);
    let (a, b) = (&daemons[0], &daemons[1]);
    let links = phone_links(&v);
    let tokens = link_tokens(&links[0]);
    let token_for = |url: &str| tokens.iter().find(|(u, _)| u == url).unwrap().1.clone();
    // A's token at B, and B's at A: refused, and neither is used up by the attempt.
    for (at, token) in [(&b.url, token_for(&a.url)), (&a.url, token_for(&b.url))] {
        let (status, body) = post_to(
            at,
            "/v1/phone/enrol",
            &TestPhone::new().enrol_request(&token, PIN, DURESS),
        );
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("bad_invite")),
            "{body}"
        );
    }
    let mut phones = enrol_all(&links[0]);
    // Each watcher's answer is printed as it comes: compared as a set of lines.
    let status = || {
        let mut lines: Vec<String> = v.ok(&["status"], "").lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let before = status();
    assert_eq!(phones[0].0, a.url);

    // A captured check-in for A, replayed at B; the same with B's device id; a request for
    // B's device signed with A's key (and A's PIN key in the proofs).
    let captured = phones[0].1.checkin_request(PIN);
    let (pa, pb) = (&phones[0].1, &phones[1].1);
    let mut renamed = captured.clone();
    renamed["device_id"] = json!(pb.id);
    let now = posbon::vault::now();
    let proof = |label| b64(&verifier(&pa.pin_key, label, PIN));
    let message = checkin_bytes(
        &pb.subject,
        &pb.id,
        now,
        now as u64 * 1000,
        &proof("pin"),
        &proof("duress"),
    );
    let with_a_keys = json!({
        "device_id": pb.id,
        "ts_ms": now,
        "counter": now as u64 * 1000,
        "pin_proof": proof("pin"),
        "duress_proof": proof("duress"),
        "sig": pa.sign(&message),
    });
    for request in [&captured, &renamed, &with_a_keys] {
        let (status, body) = post_to(&b.url, "/v1/phone/checkin", request);
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unknown_device")),
            "{request} / {body}"
        );
    }
    // The subjects differ too: a watcher's subject id is its own.
    assert_ne!(pa.subject, pb.subject);
    assert_eq!(status(), before, "nothing changed anywhere");
    // The captured request still works once at A (it was never sent there), and only once.
    assert_eq!(post_to(&a.url, "/v1/phone/checkin", &captured).0, 200);
    assert_eq!(post_to(&a.url, "/v1/phone/checkin", &captured).0, 401);
    // The phone's own requests go on working at both.
    for (url, phone) in phones.iter_mut() {
        assert_eq!(phone.checkin_at(url, PIN).0, 200, "{url}");
    }
}

#[test]
fn with_a_watcher_down_the_others_still_take_the_checkin_and_the_spare_page_opens() {
    let (v, mut daemons) = with_watchers(3);
    let links = phone_links(&v);
    let mut phones = enrol_all(&links[0]);
    let first = daemons.remove(0);
    let down = first.url.clone();
    assert!(first.stop());
    // The page of the first link no longer opens; the spare's does, from another watcher.
    assert!(reqwest::blocking::get(format!("{down}/p")).is_err());
    let spare_page = links[1].split('#').next().unwrap();
    let page = reqwest::blocking::get(spare_page).unwrap();
    assert_eq!(page.status().as_u16(), 200);
    for (url, phone) in phones.iter_mut() {
        if *url == down {
            continue;
        }
        assert_eq!(phone.checkin_at(url, PIN).0, 200, "{url}");
    }
    // The laptop says which watcher did not answer; the others took the check-in.
    let out = v.run(&["checkin"], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&down), "{}", stderr(&out));

    // A phone link made now sets the phone up with the watchers that answer, says which
    // did not, and fails (the journalist must not think the phone is set up with it).
    let out = v.run(&["watch", "enrol-phone"], "");
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains(&down) && said.contains("will not be set up"),
        "{said}"
    );
    let printed = stdout(&out);
    let made: Vec<&str> = printed.lines().collect();
    assert_eq!(made.len(), 2, "still a link and a spare: {made:?}");
    for link in made {
        let named: Vec<String> = link_tokens(link).into_iter().map(|(u, _)| u).collect();
        assert_eq!(named.len(), 2, "{link}");
        assert!(!named.contains(&down), "{link}");
    }
}

#[test]
fn a_watcher_enrolled_later_is_added_to_the_pages_the_phone_already_has() {
    let (v, mut daemons) = with_watchers(2);
    let links = phone_links(&v);
    let mut phones = enrol_all(&links[0]);
    // A third watcher, enrolled with after the phone was set up.
    let later = Daemon::start(&v.path("later"));
    let code = invite(&later.data, "Nilufar");
    v.ok(&["enrol", &later.url, &code], "");
    let out = v.run(&["watch", "enrol-phone", "--watcher", &later.url], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let added: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(
        added.len(),
        2,
        "for the link's page and the spare's: {added:?}"
    );
    for (link, served) in added.iter().zip([&daemons[0].url, &daemons[1].url]) {
        // Served by the pages the phone has; only the new watcher's token inside.
        assert!(link.starts_with(&format!("{served}/p#")), "{link}");
        let tokens = link_tokens(link);
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].0, later.url);
    }
    phones.extend(enrol_all(&added[0]));
    for (url, phone) in phones.iter_mut() {
        assert_eq!(phone.checkin_at(url, PIN).0, 200, "{url}");
    }
    daemons.push(later);
}

#[test]
fn under_the_duress_passphrase_the_one_link_sets_up_a_phone_that_alarms_every_watcher() {
    let (v, daemons) = with_watchers(2);
    let duress = v.set_duress("the duress words");
    let out = v.run_with_pass(&duress, &["watch", "enrol-phone"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let link = stdout(&out).lines().next().unwrap().to_string();
    let mut phones = enrol_all(&link);
    assert_eq!(phones.len(), 2);
    // The journalist's own check-in ends the episode the duress unlock began; then the
    // coercer's phone, with what would be the real PIN, works and alarms every watcher anew.
    v.ok(&["checkin"], "");
    for (url, phone) in phones.iter_mut() {
        assert_eq!(phone.checkin_at(url, PIN).0, 200, "{url}");
    }
    for daemon in daemons {
        let data = daemon.data.clone();
        assert!(daemon.stop());
        assert_eq!(
            action_labels(&actions(&data)),
            vec!["duress", "phone-enrolled", "duress"],
            "the duress unlock and link raised it; the phone raises it again"
        );
    }
}

/// Sends `method` to `path` at `url` with the given headers; (status, headers).
fn raw(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, reqwest::header::HeaderMap) {
    let mut request = reqwest::blocking::Client::new().request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{url}{path}"),
    );
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().unwrap();
    (response.status().as_u16(), response.headers().clone())
}

#[test]
fn only_the_phone_routes_answer_other_origins_and_never_with_credentials() {
    let (v, daemons) = with_watchers(2);
    let (a, b) = (&daemons[0], &daemons[1]);
    let page_origin = a.url.as_str();
    let preflight = |path: &str, origin: &str, asked: &str| {
        raw(
            &b.url,
            "OPTIONS",
            path,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", asked),
            ],
            Vec::new(),
        )
    };
    // The page's origin (watcher A) may post JSON to B's phone routes.
    for path in ["/v1/phone/checkin", "/v1/phone/enrol"] {
        let (status, headers) = preflight(path, page_origin, "content-type");
        assert_eq!(status, 204, "{path}");
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(headers["access-control-allow-methods"], "POST");
        assert_eq!(headers["access-control-allow-headers"], "content-type");
        assert!(!headers.contains_key("access-control-allow-credentials"));
        // Asking for more (an Authorization header, the signed-request header) gets no more.
        let (_, headers) = preflight(path, "https://evil.example", "authorization");
        assert_eq!(headers["access-control-allow-headers"], "content-type");
        assert!(!headers.contains_key("access-control-allow-credentials"));
    }
    // Nothing else answers another origin: not the signed requests, enrolment, the page,
    // downloads or acknowledgements.
    for (method, path) in [
        ("OPTIONS", "/v1/request"),
        ("POST", "/v1/request"),
        ("OPTIONS", "/v1/enrol"),
        ("POST", "/v1/enrol"),
        ("OPTIONS", "/v1/bundle"),
        ("GET", "/p"),
        ("GET", "/health"),
        ("GET", "/a/0123"),
        ("GET", "/b/0123"),
    ] {
        let (_, headers) = raw(
            &b.url,
            method,
            path,
            &[("origin", page_origin), ("cookie", "session=x")],
            b"{}".to_vec(),
        );
        assert!(
            !headers.contains_key("access-control-allow-origin")
                && !headers.contains_key("access-control-allow-credentials"),
            "{method} {path}: {headers:?}"
        );
        assert!(!headers.contains_key("set-cookie"), "{method} {path}");
    }

    // A check-in from a forged origin, with a cookie, is worth exactly what it is without:
    // the phone's signature decides. The answer may be read (no credentials), and says
    // nothing more than to anyone.
    let links = phone_links(&v);
    let mut phones = enrol_all(&links[0]);
    let (url_b, phone_b) = &mut phones[1];
    let mut stranger = TestPhone::new();
    stranger.id = phone_b.id.clone();
    stranger.subject = phone_b.subject.clone();
    let forged = serde_json::to_vec(&stranger.checkin_request(PIN)).unwrap();
    let response = reqwest::blocking::Client::new()
        .post(format!("{url_b}/v1/phone/checkin"))
        .header("origin", "https://evil.example")
        .header("cookie", "session=x")
        .header("content-type", "application/json")
        .body(forged)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(
        response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("date")
    );
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-credentials")
    );
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["error"], "unknown_device");
    let (status, _) = phone_b.checkin_at(url_b, PIN);
    assert_eq!(status, 200);

    // The limits hold on the cross-origin routes: a body over the cap is refused unread,
    // and junk from one address is slowed down.
    let (status, headers) = raw(
        &b.url,
        "POST",
        "/v1/phone/checkin",
        &[
            ("origin", page_origin),
            ("content-type", "application/json"),
        ],
        vec![b' '; 200 * 1024],
    );
    assert_eq!(status, 413);
    assert_eq!(headers["access-control-allow-origin"], "*");
    let codes: Vec<u16> = (0..25)
        .map(|_| stranger.checkin_at(&b.url, "000000").0)
        .collect();
    assert_eq!(*codes.last().unwrap(), 429, "{codes:?}");

    // The page may talk to the other watchers, and to nothing but http(s); it loads nothing.
    let page = reqwest::blocking::get(format!("{}/p", a.url)).unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'none'",
        "connect-src 'self' https: http:;",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
}
