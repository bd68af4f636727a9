//! The unlocked vault between requests, and the end of it. Locking must never wait on whatever
//! is using the vault (a slow upload, a stalled download, a watcher that does not answer):
//! the journalist who presses Lock, or the idle timer, or a SIGTERM, must see the keys go.
//!
//! So the session is ended in two moves. [`Session::end`] is instant and never blocks: from
//! then on every page sees the vault locked, no new work gets it, and every streamed transfer
//! stops at its next chunk (or at once if it is waiting for one), because each watches the
//! session's end signal. [`Session::forget`] then drops the vault, zeroizing its keys, as soon
//! as the work in hand lets go of it: a chunk for a transfer, at most a client timeout for a
//! call to a watcher. Work on the vault runs on blocking threads only, so no async worker of
//! the app is ever held by the vault's mutex.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use crate::vault::Vault;

pub(super) struct Session {
    /// The vault; `None` when locked. Taken only on blocking threads.
    vault: Mutex<Option<Vault>>,
    /// Whether the session is open: what pages show, read without touching `vault`.
    open: AtomicBool,
    /// Turns `true` when the session ends. A new sender for every unlock, so that a transfer
    /// of an earlier session sees its own end (or the sender gone, which is an end too).
    ended: Mutex<watch::Sender<bool>>,
}

impl Session {
    pub(super) fn new() -> Self {
        Session {
            vault: Mutex::new(None),
            open: AtomicBool::new(false),
            ended: Mutex::new(watch::channel(true).0),
        }
    }

    /// Whether the vault is unlocked, without waiting for anything.
    pub(super) fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    /// What a transfer watches to stop when the session ends.
    pub(super) fn end_signal(&self) -> watch::Receiver<bool> {
        self.ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .subscribe()
    }

    /// Runs `work` on the open vault; `None` when locked. Blocks: call it on a blocking
    /// thread only.
    pub(super) fn with<R>(&self, work: impl FnOnce(&Vault) -> R) -> Option<R> {
        let slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        // Ended while this work waited for the vault: it must not run.
        if !self.is_open() {
            return None;
        }
        slot.as_ref().map(work)
    }

    /// The same, for work that changes the vault's key slots.
    pub(super) fn with_mut<R>(&self, work: impl FnOnce(&mut Vault) -> R) -> Option<R> {
        let mut slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        if !self.is_open() {
            return None;
        }
        slot.as_mut().map(work)
    }

    /// Opens the session with the vault `open` returns, unless it is open already. `open`
    /// runs holding the slot, so two unlocks cannot race. Blocks: a blocking thread only.
    pub(super) fn open_with<E>(&self, open: impl FnOnce() -> Result<Vault, E>) -> Result<(), E> {
        let mut slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() && self.is_open() {
            return Ok(());
        }
        // A vault left from an ended session that was not forgotten yet goes first.
        slot.take();
        *slot = Some(open()?);
        *self.ended.lock().unwrap_or_else(|p| p.into_inner()) = watch::channel(false).0;
        self.open.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Ends the session at once: pages see it locked, no new work gets the vault, transfers
    /// stop. Never blocks; [`Session::forget`] then drops the keys.
    pub(super) fn end(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send_replace(true);
    }

    /// Ends the session and drops the vault (its keys are zeroized, its lock on the directory
    /// released) once the work in hand lets go of it. Blocks: a blocking thread only.
    pub(super) fn forget(&self) {
        self.end();
        let mut slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        // An unlock that came while this waited for the vault opened a session of its own:
        // it is not this one's to drop (its own lock will).
        if !self.is_open() {
            drop(slot.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_session_gives_its_vault_to_no_new_work_and_signals_its_end() {
        let session = Session::new();
        assert!(!session.is_open());
        assert!(*session.end_signal().borrow(), "locked from the start");
        assert_eq!(session.with(|_| ()), None);
        // An open session's signal is false until it ends; ending needs no vault lock.
        let slot = session.vault.lock().unwrap();
        session.open.store(true, Ordering::SeqCst);
        *session.ended.lock().unwrap() = watch::channel(false).0;
        let signal = session.end_signal();
        assert!(!*signal.borrow());
        session.end();
        assert!(*signal.borrow(), "seen while the vault is held elsewhere");
        assert!(!session.is_open());
        drop(slot);
        assert_eq!(session.with(|_| ()), None);
    }
}
