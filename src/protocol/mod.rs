//! The wire protocol between a journalist's client and a watcher: signed requests, signed
//! responses, enrolment. Shared by both sides; documented in `docs/protocol.md`.
//!
//! Every request after enrolment is signed with the journalist's Ed25519 device key over
//! `"posbon/v1/request\n" op "\n" subject "\n" ts_ms "\n" counter "\n" payload`, where the
//! payload is carried as an exact JSON string, so nothing needs canonicalising. The watcher
//! refuses a bad signature, a timestamp more than five minutes off, and a counter not greater
//! than the last one it accepted (a replay). Every response is signed with the watcher's key
//! over `"posbon/v1/response\n" request-signature "\n" body`, which binds it to one request.
//!
//! - `contacts`: who alerts go to (tiers, languages, channels) and the journalist's
//!   instructions: the list the journalist sends to each watcher.
//! - `contact_words`: why such a list is refused, in Tajik, Russian or English
//!   (`ftl/contacts.*.ftl`); its English is the error's `Display`.
//! - `refusal_words`: a watcher's refusal code as the journalist reads it
//!   (`ftl/refusals.*.ftl`).

pub mod contact_words;
pub mod contacts;
pub mod refusal_words;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

pub use crate::crypto::{
    b64, fingerprint, is_derived_fingerprint, is_whole_fingerprint, legacy_fingerprint,
};

/// How far a request's timestamp may be from the watcher's clock.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;
/// How long a watcher waits for the services' answers to test alerts (`contact test`): as
/// long as the slowest channel's attempt may take (a Signal gateway: a minute, see
/// `channels::SIGNAL_TIMEOUT`), plus a margin, and no longer, since a journalist's terminal
/// waits for it. The client waits [`TEST_CLIENT_LIMIT`], a little longer still.
pub const TEST_ANSWER_LIMIT: std::time::Duration = std::time::Duration::from_secs(65);
/// How long the journalist's client waits for a `test-alert` answer.
pub const TEST_CLIENT_LIMIT: std::time::Duration = std::time::Duration::from_secs(80);
/// The header carrying the watcher's signature of a response.
pub const SIGNATURE_HEADER: &str = "x-posbon-signature";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedRequest {
    pub subject: String,
    pub op: String,
    pub ts_ms: i64,
    pub counter: u64,
    /// The operation's arguments, as a JSON document in a string.
    pub payload: String,
    /// Base64 Ed25519 signature.
    pub sig: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    /// Base64 Ed25519 public keys: the device key, and the key whose check-ins mean duress.
    pub device_key: String,
    pub duress_key: String,
    /// Base64 signature by the device key over `"posbon/v1/enrol\n" code`.
    pub proof: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub subject: String,
    pub name: String,
    pub watcher_key: String,
    pub fingerprint: String,
}

/// The operations of a signed request.
pub mod ops {
    pub const CHECKIN: &str = "checkin";
    pub const PLAN: &str = "plan";
    pub const STATUS: &str = "status";
    pub const PAUSE: &str = "pause";
    pub const RESUME: &str = "resume";
    /// A one-time token for enrolling a phone (answered in `phone_token`).
    pub const PHONE_INVITE: &str = "phone-invite";
    /// Sent by every unlock of the vault, under every passphrase: raises the silent alarm
    /// when signed with the duress key, and changes nothing otherwise.
    pub const UNLOCK: &str = "unlock";
    /// Raise the silent alarm now (sent by posbon 0.1 and 0.2 clients when the vault was
    /// opened with the duress passphrase, signed with the duress key).
    pub const ALARM: &str = "alarm";
    /// Replace the contacts and instructions (payload: the whole directory).
    pub const CONTACTS: &str = "contacts";
    /// Send a marked test alert through each channel of one contact, or all (answered in
    /// `test_results`).
    pub const TEST_ALERT: &str = "test-alert";
    /// Store (or replace) a sealed release bundle: only through `POST /v1/bundle`, with the
    /// bundle as the body and the signed request in the `x-posbon-request` header.
    pub const BUNDLE_PUT: &str = "bundle-put";
    /// Remove a bundle (payload `{"id":".."}`).
    pub const BUNDLE_REMOVE: &str = "bundle-remove";
    /// End the pretend world that duress requests set up (real key only; under the duress
    /// key it looks accepted and changes nothing, like every other change).
    pub const END_PRETEND: &str = "end-pretend";
    /// The phones enrolled (answered in `phones`).
    pub const PHONE_LIST: &str = "phone-list";
    /// Revoke a phone (payload `{"id":".."}`); answered in `phones`, without it.
    pub const PHONE_REMOVE: &str = "phone-remove";
    /// Forget this journalist: the subject, its phones and its bundles (payload `{}`).
    /// Refused (`alerts_under_way`, `bundle_released`) while alerts of the current cycle
    /// went out and no check-in answered them, or while a released bundle's links work.
    /// Under the duress key it looks done (the same answer) and forgets nothing, and raises
    /// the silent alarm.
    pub const UNENROL: &str = "unenrol";
    /// What happened while the journalist was away (answered in `history`): check-ins and
    /// where from, steps fired, alerts and their delivery, acknowledgements, releases,
    /// downloads. Under the duress key, only what the pretend world shows: no duress event,
    /// no duress alert, no retraction (and the silent alarm, as for any duress request).
    pub const HISTORY: &str = "history";
    /// Take back a false duress alarm (payload `{}`): every contact the duress alerts not yet
    /// taken back reached is sent a signed retraction (answered in `retracted`). Under the
    /// duress key it answers alike, takes nothing back and raises the silent alarm again,
    /// even within a coercion episode already alerted.
    pub const DURESS_RETRACT: &str = "duress-retract";
}

/// One thing that happened, as `history` reports it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at_ms: i64,
    /// What happened: a request's operation (`checkin`, `plan`, `unlock`...),
    /// `phone-checkin`, `step` (a step of the plan fell due), `alert` (one delivery),
    /// `ack` (a contact took an alert on), `download` (a released bundle was downloaded),
    /// `retraction` (a duress alarm was taken back).
    pub what: String,
    /// Where a request came from: `laptop`, or `phone ID` (the first 8 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The duress key, the duress PIN, or a phone that only raises the alarm was used (only
    /// ever true in answers to the real key).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duress: bool,
    /// Part of the pretend world a coercion set up (only ever marked in answers to the real
    /// key).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pretend: bool,
    /// The step (`remind`, `tier1`, `release`, `duress`, `all-clear`, `retraction`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The kind of channel (`email`, `webhook`...), never its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// For an alert: `pending`, `delivered` or `given-up`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// When it was delivered (or given up on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_ms: Option<i64>,
    /// A bundle's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
}

/// The payload of `phone-remove`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PhoneRemove {
    pub id: String,
}

/// A phone as `phone-list` reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PhoneInfo {
    pub id: String,
    pub enrolled_ms: i64,
    #[serde(default)]
    pub last_checkin_ms: Option<i64>,
    /// It signs its check-ins; false for a phone set up before (it sends a fixed secret).
    pub signs: bool,
    /// Set up from a link made under duress, or removed under duress: each use of it raises
    /// the silent alarm. Never true in the decoy view.
    #[serde(default)]
    pub duress_only: bool,
}

/// The header carrying a signed request (base64 of its JSON) when the body is a bundle.
pub const REQUEST_HEADER: &str = "x-posbon-request";

/// The payload of `bundle-put`: what the body is, so that it is covered by the signature.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BundlePut {
    /// 32 hex digits, chosen by the client; the same id replaces.
    pub id: String,
    pub name: String,
    pub size: u64,
    /// SHA-256 of the body, hex.
    pub sha256: String,
    /// The contacts it is sealed for (by name): they receive it at the release step.
    pub recipients: Vec<String>,
    /// The journalist's version of this bundle, increasing per id. A watcher refuses one
    /// lower than it holds (`stale_version`: a stale client, or a replay of an old seal),
    /// and the release alert states it. 0 from clients before versions.
    #[serde(default)]
    pub version: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BundleRemove {
    pub id: String,
}

/// The payload of `test-alert`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestPayload {
    #[serde(default)]
    pub contact: Option<String>,
}

/// How one channel took a test alert.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestResult {
    pub contact: String,
    /// `email:lawyer@example.org`.
    pub channel: String,
    pub accepted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// From the phone page: enrol this phone with a token from `posbon watch enrol-phone`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneEnrolRequest {
    pub token: String,
    /// Base64 of the 32-byte PIN key the phone made and keeps (non-extractable) after this.
    pub pin_key: String,
    /// Base64 of the phone's ECDSA P-256 public key, uncompressed (65 bytes).
    pub public_key: String,
    /// Base64 of its signature (r || s) over `"posbon/v1/phone-enrol\n" token "\n" public_key`.
    pub proof: String,
    pub pin: String,
    pub duress_pin: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneEnrolResponse {
    pub device_id: String,
    pub name: String,
    /// The subject id, which the phone's check-ins sign.
    pub subject: String,
}

/// A check-in from a phone: signed (`sig`, with `ts_ms`, `counter` and the two PIN proofs),
/// or, from a phone set up before check-ins were signed, its `device_secret` and `pin`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhoneCheckinRequest {
    pub device_id: String,
    #[serde(default)]
    pub ts_ms: i64,
    #[serde(default)]
    pub counter: u64,
    /// Base64 HMAC-SHA256 under the PIN key of `"posbon/v1/pin\npin\n" PIN`.
    #[serde(default)]
    pub pin_proof: String,
    /// The same with `duress` in place of the second `pin`.
    #[serde(default)]
    pub duress_proof: String,
    /// Base64 ECDSA P-256 signature (r || s) over `phone::checkin_bytes`.
    #[serde(default)]
    pub sig: Option<String>,
    /// Old phones only.
    #[serde(default)]
    pub device_secret: Option<String>,
    #[serde(default)]
    pub pin: Option<String>,
}

/// The same for the real and the duress PIN.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PhoneCheckinResponse {
    pub name: String,
    pub deadline_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PausePayload {
    pub until_ms: i64,
}

/// What a watcher says about a subject (answer to check-in, plan, status, pause, resume).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatusResponse {
    pub name: String,
    pub plan: Option<String>,
    pub last_checkin_ms: Option<i64>,
    pub deadline_ms: Option<i64>,
    pub paused_until_ms: Option<i64>,
    /// Steps fired in the current cycle: (label, due, fired).
    pub fired: Vec<(String, i64, i64)>,
    /// Only in the answer to `phone-invite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_token: Option<String>,
    /// Only in the answer to `test-alert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_results: Option<Vec<TestResult>>,
    /// The release bundles this watcher holds for the subject (none in the duress view).
    #[serde(default)]
    pub bundles: Vec<HeldBundle>,
    /// When the duress key or duress PIN was last used; only in answers to the real key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duress_seen_ms: Option<i64>,
    /// What the coerced side is shown instead of the real plan; only in answers to the real
    /// key, while a pretend world exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretend: Option<PretendStatus>,
    /// Only in the answers to `phone-list` and `phone-remove`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<PhoneInfo>>,
    /// Only in the answer to `history`: oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    /// Only in the answer to `duress-retract`: whether a retraction goes out (to anyone).
    /// Not how many contacts it reaches: the duress key gets the same answer, and the decoy
    /// must not learn how many contacts there are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retracted: Option<bool>,
}

/// The pretend world as the real key is told of it: what the decoy, the phone and the
/// journalist's reminders show while it lasts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PretendStatus {
    /// When the first duress change made it.
    pub since_ms: Option<i64>,
    pub plan: Option<String>,
    pub deadline_ms: Option<i64>,
    pub paused_until_ms: Option<i64>,
}

/// A bundle a watcher holds, as it reports it: enough to tell a missing or stale copy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HeldBundle {
    pub id: String,
    pub sha256: String,
    /// The journalist's version of it (0 from clients before versions).
    #[serde(default)]
    pub version: u64,
    /// Released, and frozen until then (its download links work until then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_until_ms: Option<i64>,
}

/// A machine-readable refusal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    /// With 429: seconds to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_s: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the request's time is more than five minutes from the watcher's clock")]
    StaleTimestamp,
    #[error("the request was already seen (replay)")]
    Replay,
    #[error("malformed: {0}")]
    Malformed(String),
}

pub fn unb64(text: &str) -> Result<Vec<u8>, ProtocolError> {
    crate::crypto::unb64(text).ok_or_else(|| ProtocolError::Malformed("invalid base64".into()))
}

fn request_bytes(subject: &str, op: &str, ts_ms: i64, counter: u64, payload: &str) -> Vec<u8> {
    format!("posbon/v1/request\n{op}\n{subject}\n{ts_ms}\n{counter}\n{payload}").into_bytes()
}

pub fn enrol_bytes(code: &str) -> Vec<u8> {
    format!("posbon/v1/enrol\n{code}").into_bytes()
}

pub fn response_bytes(request_sig: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("posbon/v1/response\n{request_sig}\n").into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Builds and signs a request.
pub fn sign_request(
    key: &Ed25519KeyPair,
    subject: &str,
    op: &str,
    ts_ms: i64,
    counter: u64,
    payload: String,
) -> SignedRequest {
    let sig = key.sign(&request_bytes(subject, op, ts_ms, counter, &payload));
    SignedRequest {
        subject: subject.to_string(),
        op: op.to_string(),
        ts_ms,
        counter,
        payload,
        sig: b64(sig.as_ref()),
    }
}

/// Checks a signature by `public_key` (raw 32 bytes) over `message`.
pub fn verify(public_key: &[u8], message: &[u8], sig_b64: &str) -> Result<(), ProtocolError> {
    let sig = unb64(sig_b64)?;
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, &sig)
        .map_err(|_| ProtocolError::BadSignature)
}

/// Checks a request's signature, time and counter, in that order.
pub fn check_request(
    request: &SignedRequest,
    public_key: &[u8],
    last_counter: u64,
    now_ms: i64,
) -> Result<(), ProtocolError> {
    verify_request(request, public_key)?;
    check_freshness(request, last_counter, now_ms)
}

/// The signature part of [`check_request`] (the costly part, done outside any lock).
pub fn verify_request(request: &SignedRequest, public_key: &[u8]) -> Result<(), ProtocolError> {
    let message = request_bytes(
        &request.subject,
        &request.op,
        request.ts_ms,
        request.counter,
        &request.payload,
    );
    verify(public_key, &message, &request.sig)
}

/// The time and counter part of [`check_request`].
pub fn check_freshness(
    request: &SignedRequest,
    last_counter: u64,
    now_ms: i64,
) -> Result<(), ProtocolError> {
    if request.ts_ms.abs_diff(now_ms) > MAX_SKEW_MS as u64 {
        return Err(ProtocolError::StaleTimestamp);
    }
    if request.counter <= last_counter {
        return Err(ProtocolError::Replay);
    }
    Ok(())
}

pub fn public_key(key: &Ed25519KeyPair) -> Vec<u8> {
    key.public_key().as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Ed25519KeyPair {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let device = key();
        let request = sign_request(&device, "s1", ops::CHECKIN, 1_000, 7, "{}".into());
        let pk = public_key(&device);
        check_request(&request, &pk, 6, 1_000).unwrap();
        let mut forged = request.clone();
        forged.subject = "s2".into();
        assert_eq!(
            check_request(&forged, &pk, 6, 1_000),
            Err(ProtocolError::BadSignature)
        );
        let mut forged = request.clone();
        forged.payload = "{\"x\":1}".into();
        assert_eq!(
            check_request(&forged, &pk, 6, 1_000),
            Err(ProtocolError::BadSignature)
        );
        assert_eq!(
            check_request(&request, &public_key(&key()), 6, 1_000),
            Err(ProtocolError::BadSignature)
        );
        assert_eq!(
            check_request(&request, &pk, 7, 1_000),
            Err(ProtocolError::Replay)
        );
        assert_eq!(
            check_request(&request, &pk, 6, 1_000 + MAX_SKEW_MS + 1),
            Err(ProtocolError::StaleTimestamp)
        );
    }

    #[test]
    fn fingerprints_are_128_bits_of_sha256_and_stable() {
        let fp = fingerprint(&[1u8; 32]);
        // SHA-256 of 32 bytes of 0x01, from Python's hashlib: the first 16 bytes.
        assert_eq!(fp, "72cd-6e84-22c4-07fb-6d09-8690-f113-0b7d");
        // posbon 0.1's form is recognised only as derived from the same key.
        assert_eq!(legacy_fingerprint(&[1u8; 32]), "72cd-6e84-22c4-07fb");
        assert!(is_derived_fingerprint("72cd-6e84-22c4-07fb", &[1u8; 32]));
        assert!(is_derived_fingerprint(&fp, &[1u8; 32]));
        assert!(!is_derived_fingerprint("72cd-6e84-22c4-07fb", &[2u8; 32]));
        assert!(!is_derived_fingerprint("72cd-6e84-22c4", &[1u8; 32]));
        assert_ne!(fp, fingerprint(&[2u8; 32]));
    }
}
