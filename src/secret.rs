//! The one home of secret-holding types: passphrases, keys and plaintext buffers.
//!
//! Every type here zeroizes its memory on drop, prints as `[redacted]` in `Debug`, has no
//! `Display`, `Clone` or `Serialize`, and asks the OS to keep its pages out of swap (`mlock`).
//! [`harden_process`] switches off core dumps, so a crash does not write secrets to disk.

pub mod strength;

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// Locks the pages holding `bytes` into RAM so they are never written to swap.
///
/// Best effort: an unprivileged process has a small `RLIMIT_MEMLOCK`, and failing to lock is
/// not a reason to refuse work. Pages are deliberately never unlocked: `munlock` is not
/// reference-counted, so unlocking one secret could unlock a neighbour on the same page.
fn lock_in_ram(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    #[cfg(unix)]
    // SAFETY: mlock only reads the address range, which is a live borrowed slice.
    unsafe {
        libc::mlock(bytes.as_ptr().cast(), bytes.len());
    }
}

/// Switches off core dumps and ptrace attachment by other users for this process, and makes
/// every file it creates private to the user (umask 077).
///
/// Called first thing by the CLI, before any secret is read.
pub fn harden_process() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls with valid arguments; failure leaves the process as it was.
    unsafe {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    #[cfg(unix)]
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// A 256-bit symmetric key (vault key, key-encryption key, attachment key).
pub struct Key32(Box<[u8; 32]>);

impl Key32 {
    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let key = Key32(Box::new(bytes));
        bytes.zeroize();
        lock_in_ram(key.0.as_slice());
        key
    }

    /// Copies a key out of a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut array: [u8; 32] = bytes.try_into().ok()?;
        let key = Self::from_bytes(array);
        array.zeroize();
        Some(key)
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lets a key be written in place: one locked buffer reused for many short-lived keys
    /// (the per-record keys of a listing) instead of a locked allocation for each.
    pub(crate) fn expose_mut(&mut self) -> &mut [u8; 32] {
        &mut self.0
    }
}

impl Drop for Key32 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key32([redacted])")
    }
}

/// A passphrase (or PIN) as typed by the journalist. Compared only in constant time.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: String) -> Self {
        let text = Zeroizing::new(text);
        lock_in_ram(text.as_bytes());
        Passphrase(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time equality, so that comparing a typed confirmation leaks no timing.
    pub fn matches(&self, other: &Passphrase) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

/// Plaintext bytes (a decrypted record, a serialized record about to be sealed).
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        let bytes = Zeroizing::new(bytes);
        lock_in_ram(&bytes);
        SecretBytes(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([redacted; {} bytes])", self.0.len())
    }
}

/// Compares two byte strings without an early exit, so the time taken says nothing about
/// where they differ. Lengths are not secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut difference = 0u8;
    for (x, y) in a.iter().zip(b) {
        difference |= x ^ y;
    }
    // black_box keeps the optimiser from turning the fold back into an early exit.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secret_bytes() {
        let key = Key32::from_bytes([0x41; 32]);
        let pass = Passphrase::new("hunter2-secret".into());
        let plain = SecretBytes::new(b"source lives at".to_vec());
        let shown = format!("{key:?} {pass:?} {plain:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("source lives"));
        assert!(!shown.contains("65, 65"));
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(Passphrase::new("x".into()).matches(&Passphrase::new("x".into())));
        assert!(!Passphrase::new("x".into()).matches(&Passphrase::new("y".into())));
    }
}
