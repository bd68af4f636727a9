//! Check-ins from a phone: a signature by the phone's own key plus a PIN, or the duress PIN,
//! which answers exactly like the real one. Pure logic (verifiers, signatures, the back-off
//! policy); the service stores and the HTTP layer serves.
//!
//! A phone is a revocable device. At enrolment the page makes an ECDSA P-256 key pair that
//! cannot be exported (WebCrypto, `extractable: false`, kept in IndexedDB) and a 256-bit PIN
//! key, which it imports the same way; it sends the public key, the PIN key (this once) and
//! both PINs. Each check-in then signs (subject, device, time, counter, PIN proofs) with the
//! key pair: nothing sent can be replayed (the counter only grows, the time is within five
//! minutes) or reused to sign another, so whoever captures a request (a TLS-terminating proxy,
//! the operator) cannot check in. The PIN is still checked here, with the back-off below:
//! the page sends, for the PIN typed, HMAC-SHA256 under the PIN key with the label `pin` and
//! with the label `duress`, and the watcher compares them with the verifiers it stored, the
//! same two values for either PIN typed.
//!
//! One page serves every watcher of a journalist (`switch::phones`): it makes a key pair and
//! a PIN key for each watcher, so each watcher sees its own phone, and nothing one watcher
//! stores or receives (verifiers, signatures, the device id) counts at another. Only the two
//! phone routes answer other origins (CORS, in `http`), for the page served by another
//! watcher.
//!
//! The watcher never stores a PIN or the PIN key: only SHA-256 of the key and, per PIN,
//! HMAC-SHA256 keyed with it. A seized watcher therefore cannot test PINs offline (that needs
//! the 256-bit key, which only the phone holds). Phones set up before check-ins were signed
//! (posbon 0.2) send that key, as a "device secret", with every check-in; they keep working
//! as they did and are listed as such, so that the journalist can enrol them again.
//!
//! Guessing is slowed per device (exponential back-off after three wrong PINs, at most an hour)
//! and per source address (for requests without a valid device secret). Only a holder of the
//! device secret (the phone itself) can trigger the per-device back-off, so an attacker
//! elsewhere cannot lock the journalist's own phone out; and requests with a valid device
//! secret never count against an address, so a shared mobile-network address cannot either.
//!
//! No right PIN lowers the count of wrong ones: a coercer who was given the duress PIN could
//! otherwise type it between two guesses and never wait (the whole 4-digit space in seconds),
//! and the real PIN must not either, or the two would differ in what they store. Wrong PINs
//! are forgiven slowly instead, one per [`DECAY_MS`] without a wrong one, and the
//! [`ALARM_AT`]th wrong PIN still counted raises the silent alarm, once per run of guesses.
//!
//! The numbers. Whoever holds the phone gets 3 guesses at once, then waits 1 s, 2 s, ... up to
//! an hour: 15 guesses in the first 68 minutes, then one an hour, so at most about 38 on the
//! first day and 24 a day after (forgiveness never helps them: it needs 6 hours without a
//! guess, and a guess an hour is faster). Against 6 digits less the refused ones (about
//! 913,000 left) that is over 50 years for even odds; against an old 4-digit PIN, about 200
//! days. The alarm goes out at the 5th guess, minutes in. Guessing slowly enough to escape
//! the alarm means one guess per 6 hours, 4 a day. A journalist who mistypes twice waits not
//! at all, and the two are forgotten 12 hours later; a third mistake in a row costs 1 second.

use serde::{Deserialize, Serialize};

use crate::secret::constant_time_eq;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Phone {
    pub id: String,
    pub secret_hash: Vec<u8>,
    pub pin_verifier: Vec<u8>,
    pub duress_verifier: Vec<u8>,
    #[serde(default)]
    pub failures: u32,
    #[serde(default)]
    pub locked_until_ms: i64,
    pub enrolled_ms: i64,
    /// When the count of wrong PINs last went up or was last forgiven one: forgiveness counts
    /// from here. 0 on phones stored before it was kept (see [`Phone::forgive`]).
    #[serde(default)]
    pub decay_from_ms: i64,
    /// This run of wrong PINs has raised its silent alarm; cleared once all are forgiven.
    #[serde(default)]
    pub alarmed: bool,
    /// Set up from a link made under duress (or removed under duress): both of its PINs
    /// raise the silent alarm.
    #[serde(default)]
    pub duress_only: bool,
    /// The phone's ECDSA P-256 public key (uncompressed point, 65 bytes). `None` on phones
    /// set up before check-ins were signed: those send their secret instead.
    #[serde(default)]
    pub public_key: Option<Vec<u8>>,
    /// The highest counter of a signed check-in accepted; anything not above it is a replay.
    #[serde(default)]
    pub counter: u64,
    /// When a PIN (either) was last accepted from it, for `posbon phone list`.
    #[serde(default)]
    pub last_checkin_ms: Option<i64>,
    /// Removed under duress: the decoy view no longer lists it and the phone looks removed
    /// (answered like a revoked phone), but it stays enrolled and each use raises the alarm.
    #[serde(default)]
    pub hidden: bool,
}

/// What a PIN turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCheck {
    Real,
    Duress,
    Wrong,
}

pub fn secret_hash(secret: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, secret)
        .as_ref()
        .to_vec()
}

pub fn verifier(secret: &[u8], label: &str, pin: &str) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    ring::hmac::sign(&key, format!("posbon/v1/pin\n{label}\n{pin}").as_bytes())
        .as_ref()
        .to_vec()
}

/// One wrong PIN is forgiven per this long without a wrong PIN (numbers in the module docs).
pub const DECAY_MS: i64 = 6 * 3_600_000;
/// The wrong PIN, counted and not yet forgiven, that raises the silent alarm.
pub const ALARM_AT: u32 = 5;
/// New PINs are at least this long; phones set up with 4 digits before keep working.
pub const MIN_PIN: usize = 6;
const MAX_PIN: usize = 12;

/// Why a pair of PINs for a new phone is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("the PIN and the duress PIN must be 6 to 12 digits, the same length, and different")]
    Format,
    #[error(
        "this PIN is among the first a coercer tries (a repeated, sequential, common or date-like code); choose another"
    )]
    Weak,
}

/// Checks the PIN and duress PIN chosen for a new phone. The same length, so that the
/// length typed (seen over a shoulder, or counted on a screen) does not tell them apart.
pub fn check_new_pins(pin: &str, duress_pin: &str) -> Result<(), PinError> {
    let digits =
        |p: &str| (MIN_PIN..=MAX_PIN).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(pin) || !digits(duress_pin) || pin.len() != duress_pin.len() || pin == duress_pin {
        return Err(PinError::Format);
    }
    if weak_pin(pin) || weak_pin(duress_pin) {
        return Err(PinError::Weak);
    }
    Ok(())
}

/// Codes people pick most and a coercer tries first (from published PIN studies), beyond
/// what the rules in [`weak_pin`] catch.
const COMMON: &[&str] = &[
    "112233", "123321", "147258", "147852", "159357", "159753", "789456", "123654", "111222",
    "102030", "100200", "998877", "11223344", "12344321",
];

/// A PIN a coercer tries first: one digit stepping by a constant (000000, 123456, 654321,
/// 135791), a shorter block repeated (123123, 121212), a common code, or a date (DDMMYY,
/// MMDDYY, YYMMDD; with 8 digits DDMMYYYY, MMDDYYYY, YYYYMMDD), since the coercer holds the
/// journalist's papers and their family's birthdays. Refuses about 9% of 6-digit codes.
pub fn weak_pin(pin: &str) -> bool {
    let d: Vec<i32> = pin
        .bytes()
        .map(|b| i32::from(b) - i32::from(b'0'))
        .collect();
    if d.len() < 2 {
        return true;
    }
    let step = (d[1] - d[0]).rem_euclid(10);
    let progression = d.windows(2).all(|w| (w[1] - w[0]).rem_euclid(10) == step);
    let repeated = (1..d.len())
        .any(|p| d.len().is_multiple_of(p) && d.iter().zip(&d[p..]).all(|(a, b)| a == b));
    progression || repeated || COMMON.contains(&pin) || date_like(&d)
}

fn date_like(d: &[i32]) -> bool {
    let n = |r: std::ops::Range<usize>| d[r].iter().fold(0, |acc, x| acc * 10 + x);
    let day_month = |day: i32, month: i32| (1..=31).contains(&day) && (1..=12).contains(&month);
    let year = |y: i32| (1900..=2099).contains(&y);
    match d.len() {
        6 => {
            day_month(n(0..2), n(2..4))
                || day_month(n(2..4), n(0..2))
                || day_month(n(4..6), n(2..4))
        }
        8 => {
            (day_month(n(0..2), n(2..4)) && year(n(4..8)))
                || (day_month(n(2..4), n(0..2)) && year(n(4..8)))
                || (year(n(0..4)) && day_month(n(6..8), n(4..6)))
        }
        _ => false,
    }
}

/// Why a phone's signature is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("the phone's public key is not an uncompressed P-256 point")]
    BadKey,
    #[error("the phone's signature does not verify")]
    BadSignature,
}

/// Bytes a phone signs to prove, at enrolment, that it holds the key it registers.
pub fn enrol_bytes(token: &str, public_key_b64: &str) -> Vec<u8> {
    format!("posbon/v1/phone-enrol\n{}\n{public_key_b64}", token.trim()).into_bytes()
}

/// Bytes a phone signs for one check-in. The subject and device bind it to this phone of
/// this journalist; the time and counter make it usable once; the proofs carry the PIN.
pub fn checkin_bytes(
    subject: &str,
    device_id: &str,
    ts_ms: i64,
    counter: u64,
    pin_proof: &str,
    duress_proof: &str,
) -> Vec<u8> {
    format!(
        "posbon/v1/phone-checkin\n{subject}\n{device_id}\n{ts_ms}\n{counter}\n{pin_proof}\n{duress_proof}"
    )
    .into_bytes()
}

/// Checks the phone's key: an uncompressed P-256 point (what WebCrypto exports as `raw`).
pub fn check_public_key(key: &[u8]) -> Result<(), DeviceError> {
    // ring parses the point only when it verifies; the shape is checked first so that a key
    // of the wrong kind is refused as such at enrolment, not as a bad signature.
    if key.len() != 65 || key[0] != 4 {
        return Err(DeviceError::BadKey);
    }
    Ok(())
}

/// Verifies an ECDSA P-256 / SHA-256 signature in the fixed (r || s) form WebCrypto makes.
pub fn verify_signature(public_key: &[u8], message: &[u8], sig: &[u8]) -> Result<(), DeviceError> {
    check_public_key(public_key)?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public_key)
        .verify(message, sig)
        .map_err(|_| DeviceError::BadSignature)
}

/// Verifies `sig` against a key no phone has: the work a refusal of a phone that exists
/// costs, spent on one that does not (see `Watcher::phone_checkin`). Always fails.
pub fn verify_absent(sig: &[u8]) {
    static ABSENT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let key = ABSENT.get_or_init(|| {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .ok()
            .and_then(|pkcs8| {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .ok()
            })
            .map(|pair| pair.public_key().as_ref().to_vec())
            .unwrap_or_else(|| vec![0; 65])
    });
    let _ = verify_signature(key, b"posbon/v1/phone-checkin\n", sig);
}

impl Phone {
    /// A phone just enrolled; `pin_key` is the phone's PIN key (the device secret of old
    /// phones), `public_key` its signing key (`None` only for phones made before).
    pub fn new(
        id: String,
        pin_key: &[u8],
        pin: &str,
        duress_pin: &str,
        now_ms: i64,
        public_key: Option<Vec<u8>>,
    ) -> Self {
        Phone {
            id,
            secret_hash: secret_hash(pin_key),
            pin_verifier: verifier(pin_key, "pin", pin),
            duress_verifier: verifier(pin_key, "duress", duress_pin),
            failures: 0,
            locked_until_ms: 0,
            enrolled_ms: now_ms,
            decay_from_ms: now_ms,
            alarmed: false,
            duress_only: false,
            public_key,
            counter: 0,
            last_checkin_ms: None,
            hidden: false,
        }
    }

    pub fn secret_matches(&self, secret: &[u8]) -> bool {
        constant_time_eq(&secret_hash(secret), &self.secret_hash)
    }

    /// Compares the PIN with both verifiers, always both, in constant time.
    pub fn check_pin(&self, secret: &[u8], pin: &str) -> PinCheck {
        self.check_proofs(
            &verifier(secret, "pin", pin),
            &verifier(secret, "duress", pin),
        )
    }

    /// Compares the proofs a signed check-in carries (HMACs of the PIN typed, made on the
    /// phone with its PIN key) with both verifiers, always both, in constant time.
    pub fn check_proofs(&self, pin_proof: &[u8], duress_proof: &[u8]) -> PinCheck {
        let real = constant_time_eq(pin_proof, &self.pin_verifier);
        let duress = constant_time_eq(duress_proof, &self.duress_verifier);
        match (real, duress) {
            (true, _) if self.duress_only => PinCheck::Duress,
            (true, _) => PinCheck::Real,
            (false, true) => PinCheck::Duress,
            _ => PinCheck::Wrong,
        }
    }

    /// Forgives one wrong PIN per [`DECAY_MS`] since the count last changed. Called before
    /// every PIN is looked at. A run of guesses ends when all are forgiven: the next run may
    /// raise the alarm again.
    pub fn forgive(&mut self, now_ms: i64) {
        if self.decay_from_ms == 0 {
            // Stored before forgiveness was counted: start from the end of the last wait,
            // which is never before the last wrong PIN, so nothing is forgiven early.
            self.decay_from_ms = self.locked_until_ms.max(self.enrolled_ms);
        }
        let periods = (now_ms - self.decay_from_ms).max(0) / DECAY_MS;
        if periods > 0 {
            let forgiven = u32::try_from(periods).unwrap_or(u32::MAX);
            self.failures = self.failures.saturating_sub(forgiven);
            // Partial progress towards the next one is kept.
            self.decay_from_ms += periods * DECAY_MS;
        }
        if self.failures == 0 {
            self.alarmed = false;
        }
    }

    /// Records a wrong PIN. Returns until when the device must wait, and whether this one
    /// raises the silent alarm (the [`ALARM_AT`]th counted, once per run).
    pub fn record_failure(&mut self, now_ms: i64) -> (i64, bool) {
        self.failures = self.failures.saturating_add(1);
        self.decay_from_ms = now_ms;
        self.locked_until_ms = now_ms + lockout_ms(self.failures);
        let alarm = self.failures >= ALARM_AT && !self.alarmed;
        self.alarmed |= alarm;
        (self.locked_until_ms, alarm)
    }
}

/// No wait for the first three wrong PINs, then 1 s, 2 s, 4 s, ... up to an hour.
pub fn lockout_ms(failures: u32) -> i64 {
    if failures < 3 {
        return 0;
    }
    let exponent = (failures - 3).min(12);
    (1_000i64 << exponent).min(3_600_000)
}

/// Hex digits of a phone link's own random part (16 bytes).
const LINK_RANDOM_HEX: usize = 32;

/// A phone enrolment link's token: the subject's id, then 16 random bytes. The id lets the
/// watcher find the one subject whose link it may be with one lookup, so a valid link is
/// recognised before any limit on unproven requests applies (a flood of junk from the
/// journalist's address, a proxy's or Tor's, cannot lock it out). The id is no secret from
/// whoever holds the link: the link itself enrols a phone.
pub fn link_token(subject_id: &str) -> String {
    format!(
        "{subject_id}{}",
        hex::encode(crate::crypto::random_array::<16>())
    )
}

/// The subject a link's token names, if it has the shape [`link_token`] makes.
pub fn link_subject(token: &str) -> Option<&str> {
    let token = token.trim();
    let id_len = token.len().checked_sub(LINK_RANDOM_HEX)?;
    (id_len > 0 && token.bytes().all(|b| b.is_ascii_hexdigit())).then(|| &token[..id_len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_and_the_duress_pin_are_told_apart_and_others_are_wrong() {
        let secret = [7u8; 32];
        let phone = Phone::new("p".into(), &secret, "2468", "1357", 0, None);
        assert_eq!(phone.check_pin(&secret, "2468"), PinCheck::Real);
        assert_eq!(phone.check_pin(&secret, "1357"), PinCheck::Duress);
        assert_eq!(phone.check_pin(&secret, "0000"), PinCheck::Wrong);
        assert_eq!(phone.check_pin(&[8u8; 32], "2468"), PinCheck::Wrong);
        assert!(phone.secret_matches(&secret) && !phone.secret_matches(&[8u8; 32]));
    }

    #[test]
    fn a_signed_check_in_verifies_only_for_its_own_bytes_and_key() {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let make = || {
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                .unwrap()
        };
        let (key, other) = (make(), make());
        let public = key.public_key().as_ref().to_vec();
        let message = checkin_bytes("s", "d", 1, 2, "p", "q");
        let sig = key.sign(&rng, &message).unwrap();
        assert_eq!(verify_signature(&public, &message, sig.as_ref()), Ok(()));
        let moved = checkin_bytes("s", "d", 1, 3, "p", "q");
        assert_eq!(
            verify_signature(&public, &moved, sig.as_ref()),
            Err(DeviceError::BadSignature)
        );
        let theirs = other.public_key().as_ref().to_vec();
        assert_eq!(
            verify_signature(&theirs, &message, sig.as_ref()),
            Err(DeviceError::BadSignature)
        );
        assert_eq!(
            verify_signature(&public[1..], &message, sig.as_ref()),
            Err(DeviceError::BadKey)
        );
        // The proofs of a typed PIN are what the verifiers hold.
        let phone = Phone::new("p".into(), &[7u8; 32], "285071", "930462", 0, Some(public));
        let proofs = |pin| {
            (
                verifier(&[7u8; 32], "pin", pin),
                verifier(&[7u8; 32], "duress", pin),
            )
        };
        let (p, d) = proofs("285071");
        assert_eq!(phone.check_proofs(&p, &d), PinCheck::Real);
        let (p, d) = proofs("930462");
        assert_eq!(phone.check_proofs(&p, &d), PinCheck::Duress);
        let (p, d) = proofs("285072");
        assert_eq!(phone.check_proofs(&p, &d), PinCheck::Wrong);
    }

    #[test]
    fn a_phone_stored_before_check_ins_were_signed_loads_as_an_old_phone() {
        // A phone as posbon 0.2 stored it: no key, no counter.
        let stored = r#"{"id":"p","secret_hash":[1],"pin_verifier":[2],"duress_verifier":[3],
            "failures":0,"locked_until_ms":0,"enrolled_ms":5}"#;
        let phone: Phone = serde_json::from_str(stored).unwrap();
        assert_eq!(
            (
                phone.public_key,
                phone.counter,
                phone.hidden,
                phone.last_checkin_ms
            ),
            (None, 0, false, None)
        );
    }

    #[test]
    fn back_off_grows_exponentially_and_stops_at_an_hour() {
        assert_eq!((0..3).map(lockout_ms).collect::<Vec<_>>(), vec![0, 0, 0]);
        assert_eq!(lockout_ms(3), 1_000);
        assert_eq!(lockout_ms(6), 8_000);
        assert_eq!(lockout_ms(40), 3_600_000);
    }

    const HOUR: i64 = 3_600_000;

    fn phone() -> Phone {
        Phone::new("p".into(), &[7u8; 32], "2468", "1357", 0, None)
    }

    #[test]
    fn no_right_pin_lowers_the_count_only_time_without_wrong_pins_does() {
        let mut p = phone();
        let mut clock = 0;
        for _ in 0..4 {
            clock += 1_000;
            p.forgive(clock);
            p.record_failure(clock);
        }
        assert_eq!(p.failures, 4);
        // Nothing here but forgive() is called on a right PIN: the count stays.
        p.forgive(clock + DECAY_MS - 1);
        assert_eq!(p.failures, 4, "not one forgiven before 6 hours");
        p.forgive(clock + DECAY_MS);
        assert_eq!(p.failures, 3);
        // Partial progress is kept: 1.5 periods more forgive one, 2 periods two.
        p.forgive(clock + DECAY_MS + DECAY_MS * 3 / 2);
        assert_eq!(p.failures, 2);
        p.forgive(clock + 3 * DECAY_MS);
        assert_eq!(p.failures, 1);
        p.forgive(clock + 100 * DECAY_MS);
        assert_eq!(p.failures, 0);
    }

    #[test]
    fn a_wrong_pin_restarts_the_forgiveness_clock() {
        let mut p = phone();
        p.record_failure(0);
        p.record_failure(DECAY_MS - HOUR);
        p.forgive(DECAY_MS + HOUR);
        assert_eq!(
            p.failures, 2,
            "6 hours since the count last went up have not passed"
        );
        p.forgive(2 * DECAY_MS - HOUR);
        assert_eq!(p.failures, 1);
    }

    #[test]
    fn a_journalist_who_mistypes_twice_waits_not_at_all_and_is_forgiven_in_twelve_hours() {
        let mut p = phone();
        assert_eq!(p.record_failure(HOUR), (HOUR, false));
        assert_eq!(p.record_failure(HOUR + 5_000), (HOUR + 5_000, false));
        p.forgive(HOUR + 5_000 + 2 * DECAY_MS);
        assert_eq!(p.failures, 0);
        // Twice a day, every day, never builds up.
        let mut clock = 0;
        for _ in 0..30 {
            clock += 24 * HOUR;
            for _ in 0..2 {
                p.forgive(clock);
                p.record_failure(clock);
            }
        }
        assert!(p.failures <= 2, "{}", p.failures);
        assert!(!p.alarmed);
    }

    #[test]
    fn the_fifth_wrong_pin_raises_the_alarm_once_per_run_of_guesses() {
        let mut p = phone();
        let alarms: Vec<bool> = (0..20)
            .map(|i| {
                p.forgive(i * HOUR);
                p.record_failure(i * HOUR).1
            })
            .collect();
        assert_eq!(alarms.iter().position(|a| *a), Some(4));
        assert_eq!(alarms.iter().filter(|a| **a).count(), 1);
        // All forgiven (20 x 6 hours of quiet): the next run alarms again.
        let quiet = 20 * HOUR + 20 * DECAY_MS;
        p.forgive(quiet);
        assert_eq!((p.failures, p.alarmed), (0, false));
        let again: Vec<bool> = (1..=5).map(|i| p.record_failure(quiet + i).1).collect();
        assert_eq!(again, vec![false, false, false, false, true]);
    }

    #[test]
    fn an_attacker_holding_the_phone_makes_at_most_about_38_guesses_the_first_day_and_24_after() {
        // Guesses as soon as allowed, for 10 days, and counts them.
        let mut p = phone();
        let (mut clock, mut per_day) = (0i64, vec![0u32; 10]);
        while clock < 10 * 24 * HOUR {
            p.forgive(clock);
            per_day[(clock / (24 * HOUR)) as usize] += 1;
            clock = p.record_failure(clock).0.max(clock + 1);
        }
        assert!(per_day[0] <= 38, "{per_day:?}");
        assert!(per_day[1..].iter().all(|n| *n <= 25), "{per_day:?}");
        // Waiting for forgiveness instead is slower: one guess per 6 hours, 4 a day.
        let mut slow = phone();
        for i in 0..40 {
            slow.forgive(i * DECAY_MS);
            assert!(
                !slow.record_failure(i * DECAY_MS).1,
                "guessing that slowly raises no alarm"
            );
        }
    }

    #[test]
    fn a_phone_stored_before_forgiveness_was_counted_forgives_nothing_early() {
        let mut p = phone();
        p.failures = 9;
        p.locked_until_ms = 50 * HOUR;
        p.decay_from_ms = 0;
        p.forgive(50 * HOUR + DECAY_MS - 1);
        assert_eq!(p.failures, 9);
        p.forgive(50 * HOUR + DECAY_MS);
        assert_eq!(p.failures, 8);
    }

    #[test]
    fn new_pins_are_six_to_twelve_digits_of_one_length_and_two_different_codes() {
        assert_eq!(check_new_pins("285071", "930462"), Ok(()));
        assert_eq!(check_new_pins("285071946203", "930462817354"), Ok(()));
        for (pin, duress) in [
            ("2468", "1357"),
            ("28507", "93046"),
            ("285071", "2850719"),
            ("285071", "285071"),
            ("28507a", "930462"),
            ("2850719462031", "9304628173541"),
        ] {
            assert_eq!(
                check_new_pins(pin, duress),
                Err(PinError::Format),
                "{pin} {duress}"
            );
        }
    }

    #[test]
    fn pins_a_coercer_tries_first_are_refused() {
        for weak in [
            "123456",
            "000000",
            "111111",
            "123123",
            "654321",
            "135791",
            "890123",
            "121212",
            "112233",
            "159753",
            "010190",
            "311299",
            "123101",
            "25121987",
            "19870521",
            "999999999999",
        ] {
            assert!(weak_pin(weak), "{weak}");
            let other = &"930462817354"[..weak.len()];
            assert_eq!(check_new_pins(weak, other), Err(PinError::Weak), "{weak}");
            assert_eq!(check_new_pins(other, weak), Err(PinError::Weak), "{weak}");
        }
        for fine in ["285071", "930462", "739405", "28507194", "285071946203"] {
            assert!(!weak_pin(fine), "{fine}");
        }
    }

    #[test]
    fn a_link_names_its_subject_and_junk_names_none() {
        let id = "0123456789abcdef0123456789abcdef";
        let token = link_token(id);
        assert_eq!(token.len(), 64);
        assert_eq!(link_subject(&token), Some(id));
        assert_ne!(link_token(id), token, "random after the id");
        for junk in [
            "",
            "abc",
            &"0".repeat(32),
            "zz0123456789abcdef0123456789abcdef0123",
        ] {
            assert_eq!(link_subject(junk), None, "{junk}");
        }
    }

    #[test]
    fn the_rules_refuse_a_small_share_of_six_digit_pins() {
        let weak = (0..1_000_000)
            .filter(|n| weak_pin(&format!("{n:06}")))
            .count();
        // About 87,000 (9%): enough left that the numbers in the module docs hold.
        assert!((50_000..100_000).contains(&weak), "{weak}");
    }
}
