//! What a namespace listens on and which processes live in it, for waiting on servers
//! ([`crate::api`]'s `wait.rs`), the failure report and the node files.
//!
//! Sockets are read from `/proc/thread-self/net/{tcp,tcp6,udp,udp6}`, which show the network
//! namespace of the calling thread (`/proc/net` would show the thread-group leader's): the
//! caller must be a thread inside the node. Reading the kernel's table, rather than connecting,
//! never disturbs the server (no accepted connection, no datagram) and also sees a UDP port.
//!
//! Processes are those of the test's own `/proc` (it has its own PID namespace) whose
//! `/proc/<pid>/ns/net` is the node's namespace, compared by device and inode; a thread of the
//! test process that entered the node (`Node::run`, `Node::spawn`) is listed as a thread.

use std::fmt;
use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::BorrowedFd;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use nix::sys::stat::{fstat, stat};

/// The transport of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    Tcp,
    Udp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
    }
}

/// A socket waiting for peers: a TCP socket in `LISTEN`, or a UDP socket bound and not
/// connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Listening {
    pub protocol: Protocol,
    pub addr: SocketAddr,
}

impl fmt::Display for Listening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.protocol, self.addr)
    }
}

/// The sockets of the test's own machinery (the DNS responder's on `[::1]:53`), by inode: never
/// listed, so that waiting for port 53 waits for the user's server, and the reports show what
/// the user's programs listen on.
static HIDDEN: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// Leaves `socket` out of every listing from now on.
pub(crate) fn hide(socket: BorrowedFd<'_>) {
    if let Ok(stat) = fstat(socket) {
        HIDDEN
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(stat.st_ino);
    }
}

fn is_hidden(inode: u64) -> bool {
    HIDDEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(&inode)
}

/// `TCP_LISTEN` in the `st` column.
const TCP_LISTEN: u8 = 0x0A;

/// The sockets that listen in the calling thread's network namespace, TCP first, each table
/// in the kernel's order.
pub(crate) fn listening_here() -> io::Result<Vec<Listening>> {
    let mut found = Vec::new();
    for (protocol, file) in [
        (Protocol::Tcp, "tcp"),
        (Protocol::Tcp, "tcp6"),
        (Protocol::Udp, "udp"),
        (Protocol::Udp, "udp6"),
    ] {
        let path = Path::new("/proc/thread-self/net").join(file);
        match fs::read_to_string(&path) {
            Ok(table) => found.extend(parse_table(protocol, &table)),
            // A kernel without IPv6 has no `tcp6`.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    found.sort_by_key(|l| (l.protocol == Protocol::Udp, l.addr.port()));
    found.dedup();
    Ok(found)
}

/// The listening sockets of one `/proc/net/{tcp,udp}[6]` table.
fn parse_table(protocol: Protocol, table: &str) -> Vec<Listening> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut columns = line.split_whitespace().skip(1);
            let local = parse_endpoint(columns.next()?)?;
            let remote = parse_endpoint(columns.next()?)?;
            let state = u8::from_str_radix(columns.next()?, 16).ok()?;
            // After the state: queues, timer, retransmits, uid, timeout, then the inode.
            let inode = columns.nth(5).and_then(|inode| inode.parse().ok());
            if inode.is_some_and(is_hidden) {
                return None;
            }
            let waiting = match protocol {
                Protocol::Tcp => state == TCP_LISTEN,
                Protocol::Udp => remote.port() == 0,
            };
            waiting.then_some(Listening {
                protocol,
                addr: local,
            })
        })
        .collect()
}

/// `0100007F:1F90` or 32 hex digits and a port: each 32-bit word of the address is printed
/// in the kernel's byte order, the port as a number.
fn parse_endpoint(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = addr.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The listening sockets as one line: `tcp 0.0.0.0:22, udp [::]:53`, or `nothing`.
pub(crate) fn summary(listening: &[Listening]) -> String {
    if listening.is_empty() {
        return "nothing".to_string();
    }
    let all: Vec<String> = listening.iter().map(ToString::to_string).collect();
    all.join(", ")
}

/// One line per process (or thread of another process) whose network namespace is `ns`:
/// `pid 7: ping -c 1 10.0.1.2`.
pub(crate) fn processes_in(ns: BorrowedFd<'_>) -> io::Result<Vec<String>> {
    let wanted = fstat(ns).map_err(io::Error::from)?;
    let wanted = (wanted.st_dev, wanted.st_ino);
    let is_wanted = |path: &Path| {
        stat(path.join("ns/net").as_path())
            .map(|s| (s.st_dev, s.st_ino) == wanted)
            .unwrap_or(false)
    };
    let mut pids: Vec<u32> = fs::read_dir("/proc")?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    let mut lines = Vec::new();
    for pid in pids {
        let dir = Path::new("/proc").join(pid.to_string());
        if is_wanted(&dir) {
            let role = if pid == 1 {
                " (the init of the test's PID namespace)"
            } else if pid == std::process::id() {
                " (the test process)"
            } else {
                ""
            };
            lines.push(format!("pid {pid}{role}: {}", command_line(&dir)));
            continue;
        }
        // Threads that entered the node while their process stayed elsewhere.
        let Ok(tasks) = fs::read_dir(dir.join("task")) else {
            continue;
        };
        let mut tids: Vec<u32> = tasks
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        tids.sort_unstable();
        for tid in tids {
            let task = dir.join("task").join(tid.to_string());
            if is_wanted(&task) {
                let name = fs::read_to_string(task.join("comm")).unwrap_or_default();
                lines.push(format!(
                    "pid {pid} thread {tid} `{}`: of {}",
                    name.trim(),
                    command_line(&dir)
                ));
            }
        }
    }
    Ok(lines)
}

/// A process's command line, its arguments separated by spaces, or its name in brackets.
fn command_line(dir: &Path) -> String {
    let raw = fs::read(dir.join("cmdline")).unwrap_or_default();
    let args: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    if args.is_empty() {
        let name = fs::read_to_string(dir.join("comm")).unwrap_or_default();
        format!("[{}]", name.trim())
    } else {
        args.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_read_like_ss_listening() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue\n   \
             0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000\n   \
             1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000\n";
        assert_eq!(
            parse_table(Protocol::Tcp, tcp),
            [Listening {
                protocol: Protocol::Tcp,
                addr: "127.0.0.1:8080".parse().unwrap()
            }]
        );
        let udp6 = "  sl  local_address                         remote_address                        st\n  \
             0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 x\n";
        assert_eq!(
            parse_table(Protocol::Udp, udp6),
            [Listening {
                protocol: Protocol::Udp,
                addr: "[::]:53".parse().unwrap()
            }]
        );
        let loopback6 = parse_endpoint("00000000000000000000000001000000:0016").unwrap();
        assert_eq!(loopback6, "[::1]:22".parse().unwrap());
    }
}
