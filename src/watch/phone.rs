//! Check-ins from a phone: an enrolled device secret plus a PIN, or the duress PIN, which
//! answers exactly like the real one. Pure logic (verifiers, the back-off policy); the service
//! stores and the HTTP layer serves.
//!
//! The watcher never stores a PIN or the device secret: only SHA-256 of the secret and, per
//! PIN, HMAC-SHA256 keyed with the secret. A seized watcher therefore cannot test PINs offline
//! (that needs the 256-bit secret, which only the phone holds).
//!
//! Guessing is slowed per device (exponential back-off after three wrong PINs, at most an hour)
//! and per source address (for requests without a valid device secret). Only a holder of the
//! device secret (the phone itself) can trigger the per-device back-off, so an attacker
//! elsewhere cannot lock the journalist's own phone out; and requests with a valid device
//! secret never count against an address, so a shared mobile-network address cannot either.

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
    /// Set up from a link made under duress: both of its PINs raise the silent alarm.
    #[serde(default)]
    pub duress_only: bool,
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

/// 4 to 12 digits.
pub fn valid_pin(pin: &str) -> bool {
    (4..=12).contains(&pin.len()) && pin.chars().all(|c| c.is_ascii_digit())
}

impl Phone {
    pub fn new(id: String, secret: &[u8], pin: &str, duress_pin: &str, now_ms: i64) -> Self {
        Phone {
            id,
            secret_hash: secret_hash(secret),
            pin_verifier: verifier(secret, "pin", pin),
            duress_verifier: verifier(secret, "duress", duress_pin),
            failures: 0,
            locked_until_ms: 0,
            enrolled_ms: now_ms,
            duress_only: false,
        }
    }

    pub fn secret_matches(&self, secret: &[u8]) -> bool {
        constant_time_eq(&secret_hash(secret), &self.secret_hash)
    }

    /// Compares the PIN with both verifiers, always both, in constant time.
    pub fn check_pin(&self, secret: &[u8], pin: &str) -> PinCheck {
        let real = constant_time_eq(&verifier(secret, "pin", pin), &self.pin_verifier);
        let duress = constant_time_eq(&verifier(secret, "duress", pin), &self.duress_verifier);
        match (real, duress) {
            (true, _) if self.duress_only => PinCheck::Duress,
            (true, _) => PinCheck::Real,
            (false, true) => PinCheck::Duress,
            _ => PinCheck::Wrong,
        }
    }

    /// Records a wrong PIN and returns until when the device must wait.
    pub fn record_failure(&mut self, now_ms: i64) -> i64 {
        self.failures = self.failures.saturating_add(1);
        self.locked_until_ms = now_ms + lockout_ms(self.failures);
        self.locked_until_ms
    }

    pub fn record_success(&mut self) {
        self.failures = 0;
        self.locked_until_ms = 0;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_and_the_duress_pin_are_told_apart_and_others_are_wrong() {
        let secret = [7u8; 32];
        let phone = Phone::new("p".into(), &secret, "2468", "1357", 0);
        assert_eq!(phone.check_pin(&secret, "2468"), PinCheck::Real);
        assert_eq!(phone.check_pin(&secret, "1357"), PinCheck::Duress);
        assert_eq!(phone.check_pin(&secret, "0000"), PinCheck::Wrong);
        assert_eq!(phone.check_pin(&[8u8; 32], "2468"), PinCheck::Wrong);
        assert!(phone.secret_matches(&secret) && !phone.secret_matches(&[8u8; 32]));
    }

    #[test]
    fn back_off_grows_exponentially_and_stops_at_an_hour() {
        assert_eq!((0..3).map(lockout_ms).collect::<Vec<_>>(), vec![0, 0, 0]);
        assert_eq!(lockout_ms(3), 1_000);
        assert_eq!(lockout_ms(6), 8_000);
        assert_eq!(lockout_ms(40), 3_600_000);
    }

    #[test]
    fn pins_are_four_to_twelve_digits() {
        assert!(valid_pin("0000") && valid_pin("123456789012"));
        assert!(!valid_pin("123") && !valid_pin("12a4") && !valid_pin("1234567890123"));
    }
}
