//! A phone as the page makes one, in Rust: an ECDSA P-256 key and a PIN key, enrolled with a
//! link, then signed check-ins. Lets tests capture, replay and forge requests the way an
//! attacker on the path would.
#![allow(dead_code)]

use posbon::protocol::b64;
use posbon::watch::phone::{checkin_bytes, enrol_bytes, verifier};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use super::watcher::Daemon;

pub const PIN: &str = "285071";
pub const DURESS: &str = "930462";

pub fn post(daemon: &Daemon, path: &str, body: &Value) -> (u16, Value) {
    post_to(&daemon.url, path, body)
}

/// Posts to the watcher at `url` (one of several, or one that is down: then panics).
pub fn post_to(url: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{url}{path}"))
        .json(body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap())
}

/// The (watcher, token) pairs of a phone link from `watch enrol-phone`: the page's own
/// watcher from `URL/p#enrol=TOKEN`, each other from `&URL=TOKEN` (percent-encoded).
pub fn link_tokens(link: &str) -> Vec<(String, String)> {
    let (page, fragment) = link.split_once('#').expect("a fragment");
    let served = page.strip_suffix("/p").expect("the page is URL/p");
    fragment
        .split('&')
        .map(|part| {
            let (key, token) = part.split_once('=').unwrap();
            let url = if key == "enrol" {
                served.to_string()
            } else {
                percent_decode(key)
            };
            (url, token.to_string())
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

pub struct TestPhone {
    pub key: EcdsaKeyPair,
    pub pin_key: [u8; 32],
    pub id: String,
    pub subject: String,
    pub counter: u64,
}

impl TestPhone {
    pub fn new() -> TestPhone {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let mut pin_key = [0u8; 32];
        ring::rand::SecureRandom::fill(&rng, &mut pin_key).unwrap();
        TestPhone {
            key,
            pin_key,
            id: String::new(),
            subject: String::new(),
            counter: 0,
        }
    }

    pub fn public_key(&self) -> String {
        b64(self.key.public_key().as_ref())
    }

    pub fn sign(&self, message: &[u8]) -> String {
        let rng = ring::rand::SystemRandom::new();
        b64(self.key.sign(&rng, message).unwrap().as_ref())
    }

    /// The enrolment request the page sends.
    pub fn enrol_request(&self, token: &str, pin: &str, duress: &str) -> Value {
        let public = self.public_key();
        json!({
            "token": token,
            "pin_key": b64(&self.pin_key),
            "public_key": public,
            "proof": self.sign(&enrol_bytes(token, &public)),
            "pin": pin,
            "duress_pin": duress,
        })
    }

    /// Enrols with PIN and DURESS; panics unless accepted.
    pub fn enrol(daemon: &Daemon, token: &str) -> TestPhone {
        Self::enrol_at(&daemon.url, token)
    }

    /// Enrols with the watcher at `url`, as the page does with each of several.
    pub fn enrol_at(url: &str, token: &str) -> TestPhone {
        let mut phone = TestPhone::new();
        let (status, body) = post_to(
            url,
            "/v1/phone/enrol",
            &phone.enrol_request(token, PIN, DURESS),
        );
        assert_eq!(status, 200, "{body}");
        phone.id = body["device_id"].as_str().unwrap().to_string();
        phone.subject = body["subject"].as_str().unwrap().to_string();
        phone
    }

    /// A signed check-in with `pin`, at the local time, with the next counter.
    pub fn checkin_request(&mut self, pin: &str) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        self.counter = (self.counter + 1).max(now as u64);
        self.request_at(pin, now, self.counter)
    }

    pub fn request_at(&self, pin: &str, ts_ms: i64, counter: u64) -> Value {
        let pin_proof = b64(&verifier(&self.pin_key, "pin", pin));
        let duress_proof = b64(&verifier(&self.pin_key, "duress", pin));
        let message = checkin_bytes(
            &self.subject,
            &self.id,
            ts_ms,
            counter,
            &pin_proof,
            &duress_proof,
        );
        json!({
            "device_id": self.id,
            "ts_ms": ts_ms,
            "counter": counter,
            "pin_proof": pin_proof,
            "duress_proof": duress_proof,
            "sig": self.sign(&message),
        })
    }

    pub fn checkin(&mut self, daemon: &Daemon, pin: &str) -> (u16, Value) {
        self.checkin_at(&daemon.url, pin)
    }

    pub fn checkin_at(&mut self, url: &str, pin: &str) -> (u16, Value) {
        let request = self.checkin_request(pin);
        post_to(url, "/v1/phone/checkin", &request)
    }
}
