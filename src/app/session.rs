//! The unlocked vault between requests, and the end of it. Locking must never wait on whatever
//! is using the vault (a slow upload, a stalled download, a watcher that does not answer):
//! the journalist who presses Lock, or the idle timer, or a SIGTERM, must see the keys go.
//!
//! So the session is ended in two moves. [`Session::end`] is instant and never blocks: from
//! then on every page sees the vault locked, no new work gets it, work that was running has
//! its result thrown away, and every streamed transfer stops at its next chunk (or at once if
//! it is waiting for one), because each watches the session's end signal. [`Session::forget`]
//! then drops the vault, zeroizing its keys, as soon as the work in hand lets go of it: a
//! chunk for a transfer, at most a client timeout for a call to a watcher (the app does not
//! wait that long: see `App::lock`). Work on the vault runs on blocking threads only, so no
//! async worker of the app is ever held by the vault's mutex.
//!
//! Every end is counted. An unlock that was running when the session was ended (Lock pressed
//! in another tab during the key derivation) sees the count change and drops what it opened;
//! work that outlived its session sees it too, and its result is not used.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::watch;

use crate::vault::Vault;

pub(super) struct Session {
    /// The vault, with the count of ends when it was opened; `None` when locked. Taken only
    /// on blocking threads.
    vault: Mutex<Option<(Vault, u64)>>,
    /// Whether the session is open: what pages show, read without touching `vault`.
    open: AtomicBool,
    /// How many times a session was ended.
    ends: AtomicU64,
    /// Turns `true` when the session ends. A new sender for every unlock, so that a transfer
    /// of an earlier session sees its own end (or the sender gone, which is an end too).
    ended: Mutex<watch::Sender<bool>>,
}

impl Session {
    pub(super) fn new() -> Self {
        Session {
            vault: Mutex::new(None),
            open: AtomicBool::new(false),
            ends: AtomicU64::new(0),
            ended: Mutex::new(watch::channel(true).0),
        }
    }

    /// Whether the vault is unlocked, without waiting for anything.
    pub(super) fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    /// Which session is open now (the count of ends), to tell later whether it still is.
    pub(super) fn current(&self) -> u64 {
        self.ends.load(Ordering::SeqCst)
    }

    /// Whether the session that was `current` then is still the open one.
    pub(super) fn still(&self, session: u64) -> bool {
        self.is_open() && self.current() == session
    }

    /// What a transfer watches to stop when the session ends.
    pub(super) fn end_signal(&self) -> watch::Receiver<bool> {
        self.ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .subscribe()
    }

    /// Runs `work` on the open vault; `None` when locked, or when the session ended while
    /// the work ran (its result belongs to no session). Blocks: a blocking thread only.
    pub(super) fn with<R>(&self, work: impl FnOnce(&Vault) -> R) -> Option<R> {
        let slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        let session = self.current();
        // Ended while this work waited for the vault: it must not run.
        if !self.is_open() {
            return None;
        }
        let done = slot.as_ref().map(|(vault, _)| work(vault));
        done.filter(|_| self.still(session))
    }

    /// The same, for work that changes the vault's key slots.
    pub(super) fn with_mut<R>(&self, work: impl FnOnce(&mut Vault) -> R) -> Option<R> {
        let mut slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        let session = self.current();
        if !self.is_open() {
            return None;
        }
        let done = slot.as_mut().map(|(vault, _)| work(vault));
        done.filter(|_| self.still(session))
    }

    /// Opens the session with the vault `open` returns, unless it is open already; `false`
    /// when the session was ended while `open` ran (the vault it opened is dropped at once).
    /// `open` runs holding the slot, so two unlocks cannot race. Blocks: a blocking thread
    /// only.
    pub(super) fn open_with<E>(&self, open: impl FnOnce() -> Result<Vault, E>) -> Result<bool, E> {
        let mut slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() && self.is_open() {
            return Ok(true);
        }
        // A vault left from an ended session that was not forgotten yet goes first.
        drop(slot.take());
        let session = self.current();
        let vault = open()?;
        *self.ended.lock().unwrap_or_else(|p| p.into_inner()) = watch::channel(false).0;
        *slot = Some((vault, session));
        self.open.store(true, Ordering::SeqCst);
        // Ended while the key was derived, or between the checks above and here: Lock was
        // pressed after Unlock, and wins.
        if self.current() != session {
            self.open.store(false, Ordering::SeqCst);
            self.ended
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .send_replace(true);
            drop(slot.take());
            return Ok(false);
        }
        Ok(true)
    }

    /// Ends the session at once: pages see it locked, no new work gets the vault, transfers
    /// stop. Never blocks; [`Session::forget`] then drops the keys. Returns the count of ends,
    /// which names this end.
    pub(super) fn end(&self) -> u64 {
        let this_end = self.ends.fetch_add(1, Ordering::SeqCst) + 1;
        self.open.store(false, Ordering::SeqCst);
        self.ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send_replace(true);
        this_end
    }

    /// Ends the session and drops the vault (its keys are zeroized, its lock on the directory
    /// released) once the work in hand lets go of it. Blocks: a blocking thread only.
    pub(super) fn forget(&self) {
        let this_end = self.end();
        let mut slot = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        // A vault opened before this end is this end's to drop; one an unlock opened after it
        // (while this waited for the slot) belongs to a session of its own.
        if slot.as_ref().is_some_and(|(_, opened)| *opened < this_end) {
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
        let opened = session.current();
        assert!(!*signal.borrow());
        assert!(session.still(opened));
        session.end();
        assert!(*signal.borrow(), "seen while the vault is held elsewhere");
        assert!(!session.is_open());
        assert!(!session.still(opened), "the session that was open is over");
        drop(slot);
        assert_eq!(session.with(|_| ()), None);
    }

    #[test]
    fn an_unlock_that_a_lock_overtook_opens_nothing_and_lets_go_of_the_vault() {
        use crate::secret::Passphrase;
        use crate::vault::Unlock;
        use crate::vault::keyslots::KdfParams;
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("vault");
        let words = Passphrase::new("amber kettle orbit violin marsh".into());
        Vault::create(&dir, &words, KdfParams::INSECURE_FAST).unwrap();
        let session = Session::new();
        // Lock pressed in another tab while the key is derived: the end lands inside `open`.
        let opened = session.open_with(|| {
            session.end();
            Vault::open(&dir, Unlock::Passphrase(&words))
        });
        assert!(!opened.unwrap(), "Lock wins");
        assert!(!session.is_open());
        assert!(session.vault.lock().unwrap().is_none(), "nothing kept");
        assert!(*session.end_signal().borrow());
        // Its lock on the directory went with it: the vault opens again.
        assert!(Vault::open(&dir, Unlock::Passphrase(&words)).is_ok());
        // An unlock after the lock opens as usual, and work done while it is open counts.
        assert!(
            session
                .open_with(|| Vault::open(&dir, Unlock::Passphrase(&words)))
                .unwrap()
        );
        assert_eq!(session.with(|_| 1), Some(1));
        // Work the session outlives is thrown away.
        assert_eq!(
            session.with(|_| {
                session.end();
                1
            }),
            None
        );
    }
}
