//! Only the journalist's own programs may even connect: every connection to the app is
//! looked up in the kernel's socket table (`/proc/net/tcp`, `/proc/net/tcp6`), and one whose
//! other end belongs to another user of this computer is closed before a byte is read. The
//! session cookie is not bound to a port (browsers send a loopback host's cookies to every
//! port on it), so another user's server that the browser visits could learn it; this makes
//! it useless to them, and the launch link too, should they see it.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};

/// A listener that accepts only connections from processes of this process's user.
pub(super) struct OwnUserOnly {
    inner: TcpListener,
    uid: u32,
}

impl OwnUserOnly {
    pub(super) fn new(inner: TcpListener) -> Self {
        // SAFETY: getuid cannot fail and touches no memory.
        let uid = unsafe { libc::getuid() };
        OwnUserOnly { inner, uid }
    }
}

impl Listener for OwnUserOnly {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let (stream, peer) = Listener::accept(&mut self.inner).await;
            let owner = stream
                .local_addr()
                .ok()
                .and_then(|local| owner_of(peer, local));
            if owner == Some(self.uid) {
                return (stream, peer);
            }
            // Unknown owner included: a connection that cannot be placed is not trusted.
            tracing::warn!(
                ?owner,
                "refused a connection from another user of this computer"
            );
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// The user id owning the socket at `peer` that is connected to `local`.
fn owner_of(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let table = if peer.is_ipv4() {
        "/proc/net/tcp"
    } else {
        "/proc/net/tcp6"
    };
    owner_in(&std::fs::read_to_string(table).ok()?, peer, local)
}

/// In a `/proc/net/tcp` table, the uid of the socket whose own address is `peer` and whose
/// remote address is `local`.
fn owner_in(table: &str, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (own, remote, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        (address(own) == Some(peer) && address(remote) == Some(local))
            .then(|| uid.parse().ok())
            .flatten()
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6): the kernel prints each 32-bit
/// word of the address in the machine's own byte order, and the port in network order.
fn address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |hex: &str| u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes);
    match ip.len() {
        8 => Some(SocketAddr::from((Ipv4Addr::from(word(ip)?), port))),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&word(ip.get(i * 8..i * 8 + 8)?)?);
            }
            Some(SocketAddr::from((Ipv6Addr::from(bytes), port)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words as this machine's kernel would print them.
    fn hex4(ip: Ipv4Addr) -> String {
        format!("{:08X}", u32::from_ne_bytes(ip.octets()))
    }

    #[test]
    fn the_owner_of_the_other_end_is_found_and_nothing_else_matches() {
        let app: SocketAddr = "127.0.0.1:8123".parse().unwrap();
        let browser: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let lo = hex4(Ipv4Addr::LOCALHOST);
        let table = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
             0: {lo}:1FBB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n\
             1: {lo}:9C40 {lo}:1FBB 01 00000000:00000000 00:00000000 00000000  1000        0 2 1\n\
             2: {lo}:1FBB {lo}:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 3 1\n\
             3: {lo}:9C41 {lo}:1FBB 01 00000000:00000000 00:00000000 00000000  1001        0 4 1\n"
        );
        assert_eq!(owner_in(&table, browser, app), Some(1000));
        let other: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(owner_in(&table, other, app), Some(1001));
        let unknown: SocketAddr = "127.0.0.1:40002".parse().unwrap();
        assert_eq!(owner_in(&table, unknown, app), None);
        assert_eq!(owner_in("garbage\n1: x y z", browser, app), None);
    }

    #[test]
    fn ipv6_addresses_read_word_by_word() {
        let text = format!(
            "{}:1F90",
            "0".repeat(24) + &format!("{:08X}", u32::from_ne_bytes([0, 0, 0, 1]))
        );
        assert_eq!(address(&text), Some("[::1]:8080".parse().unwrap()));
        assert_eq!(address("0100007G:0050"), None);
    }
}
