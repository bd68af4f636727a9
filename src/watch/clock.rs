//! The watcher's time, guarded against jumps of the wall clock.
//!
//! Deadlines are wall-clock moments (Unix ms), so the watcher needs the wall clock; but the
//! wall clock can be set by anyone who controls the server's time (an NTP server on the path,
//! a careless operator, a VM restored from a snapshot). Left alone, a forward jump of a day
//! fires every step inside that day at once, release included, and a backward jump of a day
//! delays every step by a day.
//!
//! So the watcher keeps a *trust anchor*: one wall-clock reading it trusts (the one at start,
//! or the one the operator last confirmed) and the monotonic reading taken with it. The
//! *trusted time* is that wall reading advanced by the real (monotonic) time elapsed since.
//! The time the watcher acts on (`now`):
//!
//! - clocks that agree within [`TOLERANCE_MS`] (ordinary NTP slewing, small corrections):
//!   the wall clock;
//! - the wall clock ahead by more (a forward jump): the trusted time, so steps that fell due
//!   only because of the jump are *held* until real time reaches them, or until the operator
//!   confirms the new time;
//! - the wall clock behind by more (a backward jump): the trusted time, so the jump delays
//!   nothing.
//!
//! The monotonic clock is `CLOCK_BOOTTIME` on Linux: it keeps counting while the machine is
//! suspended, so a server that slept through a deadline fires it on waking (fail-deadly),
//! rather than taking the sleep for a jump. The anchor is saved in the data directory with
//! the kernel's boot id, so a restart of the daemon within the same boot (a crash, systemd's
//! `Restart=`) keeps it: a jump made while the daemon was down is still caught. After a
//! reboot there is no monotonic reading to compare with, and the wall clock is trusted.
//!
//! The pure part ([`Anchor::judge`]) is plain arithmetic over readings; the sources of
//! readings ([`Clock`]) and the saved anchor ([`GuardedClock`]) are the thin shell around it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// How far the wall clock may stray from the trusted time before it counts as a jump. An
/// NTP step is a fraction of a second; a minute leaves room for a clock corrected by hand,
/// while jumps forged a little at a time can move steps forward by at most this much in all
/// (the anchor is not moved while the clocks agree, so small steps do not add up unseen).
pub const TOLERANCE_MS: i64 = 60_000;

/// Where the daemon keeps its trust anchor, in the data directory.
pub const ANCHOR_FILE: &str = "clock-anchor.json";

/// The operator confirms the wall clock (after a jump) by creating this file in the data
/// directory; the escalation loop takes the current wall time as trusted and removes it.
pub const ACCEPT_FILE: &str = "accept-clock";

/// Debug builds only: the wall clock is offset by the number of milliseconds written in the
/// file this names, read at every reading, so the integration tests can jump the clock of
/// the real daemon. Release builds ignore it (and log that they do).
pub const TEST_OFFSET_ENV: &str = "POSBON_TEST_CLOCK_OFFSET_FILE";

/// One reading of both clocks, taken together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// The wall clock, Unix ms.
    pub wall_ms: i64,
    /// The monotonic clock, ms since an arbitrary origin (boot, on Linux).
    pub mono_ms: i64,
}

/// The reading the watcher trusts, and the boot it was taken in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub wall_ms: i64,
    pub mono_ms: i64,
    /// The kernel's boot id: a monotonic reading means nothing in another boot.
    #[serde(default)]
    pub boot_id: Option<String>,
}

/// How the wall clock stands against the trusted time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// Within [`TOLERANCE_MS`]: the wall clock is used as it is.
    Agree,
    /// The wall clock jumped forward: steps due only on the wall clock are held.
    Ahead,
    /// The wall clock jumped backward: the trusted time is used, nothing is delayed.
    Behind,
}

/// One moment as the watcher sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judged {
    /// The time the watcher acts on (deadlines, check-ins, request freshness).
    pub now_ms: i64,
    /// What the wall clock says.
    pub wall_ms: i64,
    /// The anchor's wall time plus the real time elapsed since it.
    pub trusted_ms: i64,
    /// `wall_ms - trusted_ms`: positive when the wall clock is ahead.
    pub skew_ms: i64,
    pub agreement: Agreement,
}

impl Anchor {
    /// Trusts `reading` as it is.
    pub fn at(reading: Reading, boot_id: Option<String>) -> Anchor {
        Anchor {
            wall_ms: reading.wall_ms,
            mono_ms: reading.mono_ms,
            boot_id,
        }
    }

    /// The saved anchor if it is still meaningful (taken in this boot, its monotonic
    /// reading not in the future); otherwise a new one at `reading`. A restart within the
    /// same boot therefore keeps judging the wall clock against the time trusted before.
    pub fn resume(saved: Option<Anchor>, reading: Reading, boot_id: Option<String>) -> Anchor {
        match saved {
            Some(saved)
                if boot_id.is_some()
                    && saved.boot_id == boot_id
                    && saved.mono_ms <= reading.mono_ms =>
            {
                saved
            }
            _ => Anchor::at(reading, boot_id),
        }
    }

    /// How `reading` stands against this anchor. Pure: the tests drive it with made-up
    /// readings.
    pub fn judge(&self, reading: Reading) -> Judged {
        // A monotonic clock never runs back; if a source ever did, count no time rather
        // than negative time.
        let elapsed = reading.mono_ms.saturating_sub(self.mono_ms).max(0);
        let trusted_ms = self.wall_ms.saturating_add(elapsed);
        let skew_ms = reading.wall_ms.saturating_sub(trusted_ms);
        let agreement = if skew_ms > TOLERANCE_MS {
            Agreement::Ahead
        } else if skew_ms < -TOLERANCE_MS {
            Agreement::Behind
        } else {
            Agreement::Agree
        };
        Judged {
            now_ms: match agreement {
                Agreement::Agree => reading.wall_ms,
                // Real elapsed time exactly: held steps fire when they are really due, and
                // a step after a backward jump is not even a tolerance late.
                Agreement::Ahead | Agreement::Behind => trusted_ms,
            },
            wall_ms: reading.wall_ms,
            trusted_ms,
            skew_ms,
            agreement,
        }
    }
}

/// A source of readings: the system's clocks, or a test's.
pub trait Clock: Send + Sync {
    fn read(&self) -> Reading;

    /// Names the boot the monotonic readings belong to; `None` when unknown (the saved
    /// anchor is then never reused).
    fn boot_id(&self) -> Option<String> {
        None
    }
}

/// The system's wall clock and `CLOCK_BOOTTIME` (Linux) or a process-local monotonic clock.
pub struct SystemClock {
    #[cfg(not(target_os = "linux"))]
    origin: std::time::Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        SystemClock {
            #[cfg(not(target_os = "linux"))]
            origin: std::time::Instant::now(),
        }
    }

    #[cfg(target_os = "linux")]
    fn mono_ms() -> i64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime only writes the timespec we own; CLOCK_BOOTTIME exists on
        // every Linux since 2.6.39.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
        if rc != 0 {
            // Cannot happen on Linux; fall back to a clock that is at least monotonic.
            return monotonic_fallback();
        }
        // The fields are 32 bits wide on some targets, hence the conversions.
        #[allow(clippy::useless_conversion)]
        i64::from(ts.tv_sec)
            .saturating_mul(1_000)
            .saturating_add(i64::from(ts.tv_nsec) / 1_000_000)
    }
}

#[cfg(target_os = "linux")]
fn monotonic_fallback() -> i64 {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as i64
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn read(&self) -> Reading {
        #[cfg(target_os = "linux")]
        let mono_ms = SystemClock::mono_ms();
        #[cfg(not(target_os = "linux"))]
        let mono_ms = self.origin.elapsed().as_millis() as i64;
        Reading {
            wall_ms: crate::vault::now(),
            mono_ms,
        }
    }

    fn boot_id(&self) -> Option<String> {
        #[cfg(target_os = "linux")]
        {
            std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty())
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }
}

/// A clock the tests set by hand: `advance` moves both clocks (real time passing),
/// `jump_wall` moves only the wall clock (someone setting the time).
#[derive(Debug)]
pub struct ManualClock {
    wall_ms: AtomicI64,
    mono_ms: AtomicI64,
    boot_id: Option<String>,
}

impl ManualClock {
    pub fn new(wall_ms: i64) -> Self {
        ManualClock {
            wall_ms: AtomicI64::new(wall_ms),
            mono_ms: AtomicI64::new(1_000_000),
            boot_id: Some("manual-clock-boot".into()),
        }
    }

    pub fn advance(&self, ms: i64) {
        self.wall_ms.fetch_add(ms, Ordering::SeqCst);
        self.mono_ms.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn jump_wall(&self, ms: i64) {
        self.wall_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn read(&self) -> Reading {
        Reading {
            wall_ms: self.wall_ms.load(Ordering::SeqCst),
            mono_ms: self.mono_ms.load(Ordering::SeqCst),
        }
    }

    fn boot_id(&self) -> Option<String> {
        self.boot_id.clone()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn read(&self) -> Reading {
        (**self).read()
    }

    fn boot_id(&self) -> Option<String> {
        (**self).boot_id()
    }
}

/// Debug builds only: the system's clocks with the wall clock offset by the milliseconds
/// written in a file (see [`TEST_OFFSET_ENV`]); an unreadable file means no offset.
#[cfg(debug_assertions)]
struct OffsetClock {
    inner: SystemClock,
    file: PathBuf,
}

#[cfg(debug_assertions)]
impl Clock for OffsetClock {
    fn read(&self) -> Reading {
        let offset = std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .unwrap_or(0);
        let reading = self.inner.read();
        Reading {
            wall_ms: reading.wall_ms.saturating_add(offset),
            ..reading
        }
    }

    fn boot_id(&self) -> Option<String> {
        self.inner.boot_id()
    }
}

/// The daemon's source of readings: the system's, or, in a debug build with
/// [`TEST_OFFSET_ENV`] set, the system's with a test-controlled wall-clock offset.
pub fn daemon_source() -> Box<dyn Clock> {
    let Some(file) = std::env::var_os(TEST_OFFSET_ENV) else {
        return Box::new(SystemClock::new());
    };
    #[cfg(debug_assertions)]
    {
        tracing::warn!("test build: the wall clock is offset by the test's file");
        Box::new(OffsetClock {
            inner: SystemClock::new(),
            file: PathBuf::from(file),
        })
    }
    #[cfg(not(debug_assertions))]
    {
        let _ = file;
        tracing::error!(
            "{TEST_OFFSET_ENV} is set but only test builds honour it; the system clock is used"
        );
        Box::new(SystemClock::new())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("the clock's trust anchor {path} could not be saved: {source}")]
    Save {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A source of readings judged against a trust anchor, optionally saved in the data
/// directory. Shared by the escalation loop and the request handlers, so a check-in and a
/// deadline are measured on the same time.
pub struct GuardedClock {
    source: Box<dyn Clock>,
    anchor: Mutex<Anchor>,
    /// Where the anchor is saved; `None` for a watcher that does not run the daemon.
    saved_at: Option<PathBuf>,
}

impl GuardedClock {
    /// Trusts the current reading; saves nothing.
    pub fn new(source: Box<dyn Clock>) -> Self {
        let anchor = Anchor::at(source.read(), source.boot_id());
        GuardedClock {
            source,
            anchor: Mutex::new(anchor),
            saved_at: None,
        }
    }

    /// Resumes the anchor saved in `data` when it is from this boot, or trusts the current
    /// reading; saves the anchor it uses. A missing or unreadable file means a fresh anchor
    /// (the wall clock is trusted at start, as after a reboot).
    pub fn resume_in(source: Box<dyn Clock>, data: &Path) -> Result<Self, ClockError> {
        let path = data.join(ANCHOR_FILE);
        let saved: Option<Anchor> = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let anchor = Anchor::resume(saved.clone(), source.read(), source.boot_id());
        let clock = GuardedClock {
            source,
            anchor: Mutex::new(anchor.clone()),
            saved_at: Some(path),
        };
        if saved.as_ref() != Some(&anchor) {
            clock.save(&anchor)?;
        }
        Ok(clock)
    }

    fn anchor(&self) -> std::sync::MutexGuard<'_, Anchor> {
        self.anchor.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The time the watcher acts on now.
    pub fn now_ms(&self) -> i64 {
        self.judge().now_ms
    }

    /// The current reading, judged against the anchor.
    pub fn judge(&self) -> Judged {
        let reading = self.source.read();
        self.anchor().judge(reading)
    }

    /// The operator confirms the wall clock: the current reading becomes the anchor, and
    /// what the jump held falls due at once.
    pub fn accept(&self) -> Result<Judged, ClockError> {
        let reading = self.source.read();
        let anchor = Anchor::at(reading, self.source.boot_id());
        *self.anchor() = anchor.clone();
        self.save(&anchor)?;
        Ok(anchor.judge(reading))
    }

    fn save(&self, anchor: &Anchor) -> Result<(), ClockError> {
        let Some(path) = &self.saved_at else {
            return Ok(());
        };
        write_private(path, &serde_json::to_vec(anchor).unwrap_or_default()).map_err(|source| {
            ClockError::Save {
                path: path.clone(),
                source,
            }
        })
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, mode 0600, synced.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
mod tests;
