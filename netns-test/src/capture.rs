//! Packet capture: every frame on every link end of the network, from before the body starts
//! until it ends, into one pcapng file with one interface per link end (`client:eth0`).
//!
//! # How
//!
//! A packet socket (`AF_PACKET`, `ETH_P_ALL`) sees every frame that enters or leaves the
//! interfaces of the network namespace it was opened in, each with the index of its interface
//! and its direction. So [`Capture::start`] opens one per node, with the thread briefly inside
//! the node, right after the network is built and before the body runs: frames sent by the body
//! queue on these sockets from the first one. Frames of interfaces that are not link ends of the
//! topology (`lo`) are dropped. One thread reads every socket (`poll`), stamps each frame with
//! the kernel's receive time (`SO_TIMESTAMPNS`) and appends it to the pcapng file, kept in
//! memory: a test that passes with capture on failure writes nothing at all.
//!
//! [`Capture::stop`] is called once the body has ended: it reads what is still queued, ends the
//! thread and hands back the file, which the runner writes to the test's artifact folder. A
//! test process that dies (abort, SIGKILL) takes its capture with it.
//!
//! One socket per node rather than one bound to each interface: binding needs a
//! `sockaddr_ll` that nix cannot build without `unsafe`, and the kernel tells the interface of
//! every frame anyway.
//!
//! # Choosing
//!
//! `capture` on the attribute keeps the file when the test fails, `capture = "always"` also
//! when it passes. `NETNS_TEST_CAPTURE=off|on-failure|always` sets it for every test of the run,
//! over what the attributes say.

use std::io::{self, IoSliceMut, PipeReader, PipeWriter, Write as _};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, ControlMessageOwned, LinkAddr, MsgFlags, SockFlag, SockProtocol, SockType,
    recvmsg, setsockopt, socket, sockopt,
};
use nix::sys::time::TimeSpec;

use crate::netns::Entered;
use crate::pcapng::{Direction, Writer};
use crate::{Net, report};

/// The environment variable that sets the capture mode of every test of the run.
pub(crate) const CAPTURE_ENV: &str = "NETNS_TEST_CAPTURE";

/// When a test's packets are captured and kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaptureMode {
    /// No capture.
    #[default]
    Off,
    /// Capture, and keep the file when the test fails.
    OnFailure,
    /// Capture, and keep the file whether the test passes or fails.
    Always,
}

impl CaptureMode {
    /// The mode for a test whose attribute asked for `declared`: the environment's, if set.
    pub(crate) fn for_run(declared: CaptureMode) -> Result<CaptureMode, String> {
        match std::env::var(CAPTURE_ENV) {
            Err(_) => Ok(declared),
            Ok(value) => CaptureMode::parse(&value).ok_or_else(|| {
                format!("{CAPTURE_ENV} must be `off`, `on-failure` or `always`, not `{value}`")
            }),
        }
    }

    fn parse(value: &str) -> Option<CaptureMode> {
        match value.trim() {
            "" | "off" => Some(CaptureMode::Off),
            "on-failure" => Some(CaptureMode::OnFailure),
            "always" => Some(CaptureMode::Always),
            _ => None,
        }
    }
}

/// The file name of the capture in the artifact folder.
pub(crate) const FILE_NAME: &str = "capture.pcapng";

/// Room for one frame: veth hands over segments of up to 64 KiB (GSO) as one frame.
const FRAME_BYTES: usize = 65_536 + 256;

/// How often the reading thread looks whether it should stop, should its wake-up be lost.
const POLL_MS: u8 = 100;

/// A capture in progress.
#[derive(Debug)]
pub(crate) struct Capture {
    stop: Arc<AtomicBool>,
    /// Writing a byte here wakes the reading thread at once.
    wake: PipeWriter,
    thread: JoinHandle<Writer>,
}

/// The socket of one node, and which of its interfaces are captured as which pcapng interface.
#[derive(Debug)]
struct Tap {
    socket: OwnedFd,
    /// `(ifindex, pcapng interface number)`.
    interfaces: Vec<(u32, u32)>,
}

impl Capture {
    /// Opens a packet socket in every node and starts reading them.
    pub(crate) fn start(net: &Net) -> io::Result<Capture> {
        let mut names = Vec::new();
        let mut taps = Vec::new();
        for node in net.nodes() {
            let links = report::open(node.ns(), node.name())
                .and_then(|mut s| s.links().map_err(|e| e.to_string()))
                .map_err(|e| io::Error::other(format!("node `{}`: {e}", node.name())))?;
            let mut interfaces = Vec::new();
            for interface in node.interfaces() {
                let Some(link) = links.iter().find(|l| l.name == interface.name()) else {
                    continue;
                };
                interfaces.push((link.index, names.len() as u32));
                names.push(format!("{}:{}", node.name(), interface.name()));
            }
            if interfaces.is_empty() {
                continue;
            }
            let entered = Entered::new(node.ns()).map_err(io::Error::from)?;
            let socket = open_socket();
            entered.leave().map_err(io::Error::from)?;
            taps.push(Tap {
                socket: socket.map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot open a packet socket in node `{}`: {e}", node.name()),
                    )
                })?,
                interfaces,
            });
        }
        let writer = Writer::new(names.iter().map(String::as_str));
        let stop = Arc::new(AtomicBool::new(false));
        let (woken, wake) = io::pipe()?;
        let thread = thread::Builder::new()
            .name("netns-test capture".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || read_until_stopped(&taps, &woken, writer, &stop)
            })?;
        Ok(Capture { stop, wake, thread })
    }

    /// Reads what is still queued, stops, and returns the pcapng file.
    pub(crate) fn stop(mut self) -> Vec<u8> {
        self.stop.store(true, Ordering::Relaxed);
        // If this fails, the thread still sees the flag within `POLL_MS`.
        let _ = self.wake.write_all(&[1]);
        match self.thread.join() {
            Ok(writer) => writer.into_bytes(),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

/// A non-blocking packet socket for every protocol in the calling thread's namespace, that
/// stamps frames with their receive time.
fn open_socket() -> io::Result<OwnedFd> {
    let socket = socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        SockProtocol::EthAll,
    )?;
    setsockopt(&socket, sockopt::ReceiveTimestampns, &true)?;
    // More room for bursts; the kernel caps it at net.core.rmem_max, which is fine.
    let _ = setsockopt(&socket, sockopt::RcvBuf, &(4 << 20));
    Ok(socket)
}

/// A frame read from a socket, kept until the end to be written in time order (each socket
/// gives its own frames in order, but the sockets are read one after the other).
struct Frame {
    timestamp_ns: u64,
    interface: u32,
    data: Vec<u8>,
    original_len: u32,
    direction: Direction,
}

fn read_until_stopped(
    taps: &[Tap],
    woken: &PipeReader,
    mut writer: Writer,
    stop: &AtomicBool,
) -> Writer {
    let mut buf = vec![0u8; FRAME_BYTES];
    let mut frames = Vec::new();
    loop {
        // Read the flag before draining, so that a frame queued before `stop` is always read.
        let stopping = stop.load(Ordering::Relaxed);
        for tap in taps {
            drain(tap, &mut buf, &mut frames);
        }
        if stopping {
            frames.sort_by_key(|f| f.timestamp_ns);
            for f in frames {
                let direction = Some(f.direction);
                writer.packet(
                    f.interface,
                    f.timestamp_ns,
                    &f.data,
                    f.original_len,
                    direction,
                );
            }
            return writer;
        }
        let mut fds: Vec<PollFd<'_>> = taps
            .iter()
            .map(|tap| tap.socket.as_fd())
            .chain([woken.as_fd()])
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::from(POLL_MS)) {
            Ok(_) | Err(Errno::EINTR) => {}
            // Cannot happen with valid fds; wait for the stop rather than spin.
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(POLL_MS.into())),
        }
    }
}

/// Takes every frame queued on `tap`.
fn drain(tap: &Tap, frame: &mut [u8], frames: &mut Vec<Frame>) {
    loop {
        let mut cmsg = nix::cmsg_space!(TimeSpec);
        let mut iov = [IoSliceMut::new(frame)];
        // With MSG_TRUNC a packet socket returns the frame's whole length even when it is cut.
        let received = recvmsg::<LinkAddr>(
            tap.socket.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_TRUNC,
        );
        let message = match received {
            Ok(message) => message,
            Err(Errno::EINTR) => continue,
            // EAGAIN: nothing more queued. Anything else: give up on this socket for now.
            Err(_) => return,
        };
        let Some(address) = message.address else {
            continue;
        };
        let Some(&(_, interface)) = tap
            .interfaces
            .iter()
            .find(|(index, _)| *index as usize == address.ifindex())
        else {
            continue;
        };
        let timestamp_ns = message
            .cmsgs()
            .ok()
            .and_then(|mut cmsgs| {
                cmsgs.find_map(|c| match c {
                    ControlMessageOwned::ScmTimestampns(ts) => Some(ts),
                    _ => None,
                })
            })
            .map(|ts| ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64)
            .unwrap_or_else(now_ns);
        // `PACKET_OUTGOING` is 4; every other type (host, broadcast, multicast, other host)
        // came in.
        let direction = if address.pkttype() == 4 {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        let original_len = message.bytes;
        let captured = original_len.min(FRAME_BYTES);
        frames.push(Frame {
            timestamp_ns,
            interface,
            data: frame[..captured].to_vec(),
            original_len: original_len as u32,
            direction,
        });
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_have_plain_names() {
        assert_eq!(CaptureMode::parse("always"), Some(CaptureMode::Always));
        assert_eq!(
            CaptureMode::parse("on-failure"),
            Some(CaptureMode::OnFailure)
        );
        assert_eq!(CaptureMode::parse("off"), Some(CaptureMode::Off));
        assert_eq!(CaptureMode::parse("yes"), None);
    }
}
