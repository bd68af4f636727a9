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
    let response = reqwest::blocking::Client::new()
        .post(format!("{}{path}", daemon.url))
        .json(body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap())
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
        let mut phone = TestPhone::new();
        let (status, body) = post(
            daemon,
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
        let request = self.checkin_request(pin);
        post(daemon, "/v1/phone/checkin", &request)
    }
}
