//! Accepting connections so that a stranger cannot crowd out the journalist: every
//! connection has a deadline for its request head (which also ends idle keep-alive), heads
//! are small, and connections are capped in total and per client address. Over a cap a
//! connection is closed at once: queued, it would hold a file descriptor and wait for a
//! slot the attacker keeps taking.
//!
//! The cap is sized from the open-file limit, with descriptors kept back for what must never
//! starve: the database, alert delivery (outgoing HTTPS and SMTP) and the log. When the
//! descriptors run out, `accept` fails and a check-in cannot even be read.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;
use tracing::{debug, info, warn};

use super::proxy::{ClientAddress, TrustedProxies};

/// A client must send its whole request head within this time, counted from when the
/// watcher starts waiting for it: on a new connection and between keep-alive requests
/// alike, so it is also the idle timeout. Ten seconds is ample for a few hundred bytes
/// over Tor or a mobile link.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head read (request line and headers): ours are under 1 KiB. Larger
/// ones get 431. Hyper's default (~400 KiB) let 200 unfinished heads take 80 MiB.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// After SIGTERM, requests under way get this long to finish; then the watcher exits.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// No connection lives longer, whatever it does: the longest request (an upload) has 10
/// minutes, and a client reading a download slowly must not hold its slot for ever.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(11 * 60);
/// Descriptors kept back from the connection cap, at least: up to 64 deliveries in flight
/// (one socket each, plus DNS), SQLite's database, journal and shared-memory files, the
/// log, the listener, `outbox.json` and give-up requests.
pub const RESERVED_FILES_MIN: u64 = 128;
/// Refused connections are logged at most this often (with their count): a flood must
/// not fill the disk with log lines.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(60);

/// The operator's caps on open connections (`[connections]` in the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub total: usize,
    pub per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        // 512 is far above what a watcher for a few dozen journalists needs at once, and
        // fits in the systemd default of 1,024 files with room to spare. 32 per address
        // lets a proxy or a busy NAT through while one attacker holds at most 1/16th.
        ConnectionLimits {
            total: 512,
            per_address: 32,
        }
    }
}

/// The open-file limit the watcher runs with, after raising it.
#[derive(Clone, Copy, Debug)]
pub struct OpenFiles {
    pub soft: u64,
    pub hard: u64,
}

/// Raises the soft open-file limit to the hard one: systemd and most shells start services
/// at 1,024 while allowing far more. Failing that, the limit stays as it was.
pub fn raise_open_files() -> std::io::Result<OpenFiles> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct. It fails when the hard limit is above
        // the kernel's nr_open (as "unlimited" is); the soft limit then stays as it was.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        } else {
            warn!(
                error = %std::io::Error::last_os_error(),
                soft = limit.rlim_cur,
                "the open-file limit could not be raised"
            );
        }
    }
    Ok(OpenFiles {
        soft: limit.rlim_cur,
        hard: limit.rlim_max,
    })
}

/// The caps that fit the open-file limit: the operator's, lowered so that a quarter of the
/// descriptors (and at least [`RESERVED_FILES_MIN`]) stay free for everything else.
pub fn fit_to_open_files(wanted: ConnectionLimits, soft: u64) -> ConnectionLimits {
    let reserved = RESERVED_FILES_MIN.max(soft / 4);
    let room = usize::try_from(soft.saturating_sub(reserved)).unwrap_or(usize::MAX);
    let total = wanted.total.min(room).max(1);
    ConnectionLimits {
        total,
        per_address: wanted.per_address.clamp(1, total),
    }
}

/// Serves `app` on `listener` until `stop` turns true, then stops accepting and gives open
/// requests [`SHUTDOWN_GRACE`] to finish. Each request carries its [`ClientAddress`], read
/// from the header of a trusted proxy in `proxies` or else the connection's own address.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    proxies: TrustedProxies,
    mut stop: watch::Receiver<bool>,
) {
    let proxies = Arc::new(proxies);
    let gate = Arc::new(Gate {
        limits,
        proxies: proxies.clone(),
        open: Mutex::new(Open::default()),
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES);
    let http = Arc::new(http);
    let mut connections = JoinSet::new();
    let mut refused = 0u64;
    let mut refusal_logged: Option<Instant> = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, from) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of descriptors (EMFILE) or a connection reset before it was
                        // taken: pause, or the loop would spin on the same error.
                        warn!(error = %e, "a connection could not be accepted");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Some(permit) = gate.admit(from.ip()) else {
                    // Closed at once: dropping the socket frees its descriptor now.
                    drop(stream);
                    refused += 1;
                    if refusal_logged.is_none_or(|at| at.elapsed() >= REFUSAL_LOG_EVERY) {
                        // No address: logs must not say who talks to the watcher.
                        warn!(refused, "connections over the cap were closed");
                        refusal_logged = Some(Instant::now());
                        refused = 0;
                    }
                    continue;
                };
                let _ = stream.set_nodelay(true);
                connections.spawn(connection(
                    stream,
                    from,
                    proxies.clone(),
                    app.clone(),
                    http.clone(),
                    permit,
                    stop.clone(),
                ));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    // Closing the listener refuses new connections in the kernel from now on.
    drop(listener);
    let open = connections.len();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        info!(
            left = connections.len(),
            "connections still open after the grace period were closed"
        );
    }
    connections.shutdown().await;
    debug!(open, "the listener stopped");
}

async fn connection(
    stream: tokio::net::TcpStream,
    from: SocketAddr,
    proxies: Arc<TrustedProxies>,
    app: Router,
    http: Arc<hyper::server::conn::http1::Builder>,
    _permit: Permit,
    mut stop: watch::Receiver<bool>,
) {
    // Worked out per request, not per connection: a proxy carries many clients' requests
    // over one kept-alive connection.
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let client = proxies.client(from.ip(), request.headers());
        request.extensions_mut().insert(ConnectInfo(from));
        request.extensions_mut().insert(ClientAddress(client));
        app.clone().oneshot(request)
    });
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                debug!(error = %e, "a connection ended");
            }
            return;
        }
        _ = stop.changed() => {}
        _ = tokio::time::sleep(MAX_CONNECTION_AGE) => {}
    }
    // Finish the request under way, if any, then close; an idle or half-sent head closes now.
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
}

/// Counts open connections, in total and per address. A trusted proxy's connections count
/// only in the total: they carry every client behind it (all of an onion service's), so a
/// per-address cap there would let 32 slow strangers shut the journalist out. The client
/// behind a proxy is not known before its request head is read, so the proxy (or Tor's
/// `HiddenServiceMaxStreams`) must cap connections per client itself.
struct Gate {
    limits: ConnectionLimits,
    proxies: Arc<TrustedProxies>,
    // A std Mutex: held for a map update, never across an await.
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it frees the slot.
struct Permit {
    gate: Arc<Gate>,
    /// None for a trusted proxy's connection, counted only in the total.
    address: Option<IpAddr>,
}

impl Gate {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Permit> {
        let address = (!self.proxies.trusts(ip)).then(|| address_key(ip));
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.limits.total {
            return None;
        }
        if let Some(address) = address {
            let count = open.by_address.entry(address).or_insert(0);
            if *count >= self.limits.per_address {
                return None;
            }
            *count += 1;
        }
        open.total += 1;
        Some(Permit {
            gate: self.clone(),
            address,
        })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(address) = self.address
            && let Some(count) = open.by_address.get_mut(&address)
        {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&address);
            }
        }
    }
}

/// The unit one client is counted by: an IPv4 address, or an IPv6 /64 (one subscriber's
/// network gets a whole /64, so counting single addresses would cap nothing).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(total: usize, per_address: usize) -> Arc<Gate> {
        gate_behind(total, per_address, TrustedProxies::default())
    }

    fn gate_behind(total: usize, per_address: usize, proxies: TrustedProxies) -> Arc<Gate> {
        Arc::new(Gate {
            limits: ConnectionLimits { total, per_address },
            proxies: Arc::new(proxies),
            open: Mutex::new(Open::default()),
        })
    }

    #[test]
    fn a_trusted_proxy_counts_only_in_the_total() {
        let proxies = TrustedProxies::new(&["127.0.0.1".into()], None).unwrap();
        let gate = gate_behind(4, 1, proxies);
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        let held: Vec<_> = (0..3).map(|_| gate.admit(proxy).unwrap()).collect();
        let _one = gate.admit(stranger).unwrap();
        assert!(gate.admit(stranger).is_none(), "others keep their own cap");
        assert!(gate.admit(proxy).is_none(), "the total still holds");
        drop(held);
        assert!(gate.admit(proxy).is_some(), "slots come back");
        assert_eq!(gate.open.lock().unwrap().by_address.len(), 1);
    }

    #[test]
    fn one_address_cannot_take_more_than_its_share_and_slots_come_back() {
        let gate = gate(4, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = gate.admit(a).unwrap();
        let _second = gate.admit(a).unwrap();
        assert!(gate.admit(a).is_none());
        let _third = gate.admit(b).unwrap();
        drop(first);
        assert!(gate.admit(a).is_some());
    }

    #[test]
    fn the_total_cap_holds_across_addresses() {
        let gate = gate(2, 2);
        let _a = gate.admit("192.0.2.1".parse().unwrap()).unwrap();
        let _b = gate.admit("192.0.2.2".parse().unwrap()).unwrap();
        assert!(gate.admit("192.0.2.3".parse().unwrap()).is_none());
    }

    #[test]
    fn addresses_in_one_ipv6_64_count_as_one_client() {
        let gate = gate(10, 1);
        let _a = gate.admit("2001:db8::1".parse().unwrap()).unwrap();
        assert!(gate.admit("2001:db8::ffff:2".parse().unwrap()).is_none());
        assert!(gate.admit("2001:db8:0:1::1".parse().unwrap()).is_some());
        // An IPv4 client seen through an IPv6 socket is still counted by its IPv4 address.
        let _v4 = gate.admit("::ffff:192.0.2.9".parse().unwrap()).unwrap();
        assert!(gate.admit("192.0.2.9".parse().unwrap()).is_none());
    }

    #[test]
    fn the_cap_leaves_a_quarter_of_the_files_and_at_least_128() {
        let wanted = ConnectionLimits::default();
        assert_eq!(fit_to_open_files(wanted, 1_024).total, 512);
        assert_eq!(fit_to_open_files(wanted, 256).total, 128);
        assert_eq!(fit_to_open_files(wanted, 600).total, 450);
        assert_eq!(fit_to_open_files(wanted, 524_288), wanted);
        let tiny = fit_to_open_files(wanted, 100);
        assert_eq!((tiny.total, tiny.per_address), (1, 1));
    }
}
