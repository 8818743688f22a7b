//! Recording: a packet socket with a ring in every node, one thread reading them all, and the
//! pcapng file written when the capture stops (see the module above for how and why).

use std::io::{self, PipeReader, PipeWriter, Write as _};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::CaptureMode;
use super::pcapng::{Direction, Writer};
use super::ring::Ring;
use crate::kernel::netlink::Socket;
use crate::kernel::netns;
use crate::{Error, Net, Result};

/// The size of a ring block: a page multiple, larger than any frame (veth hands over segments
/// of up to 64 KiB as one frame).
const BLOCK_BYTES: usize = 256 * 1024;

/// Blocks per node: 2 MiB of ring, ten times what a plain socket may queue. The kernel takes
/// about 1 ms per MiB to set a ring up and as long to free it (measured here), which every test
/// with capture pays, so larger rings cost more than they bring: the reading thread empties
/// them while the body runs.
const BLOCKS: usize = 8;

/// How long the kernel may keep a partly filled block before handing it over.
const RETIRE_MS: u32 = 5;

/// At most this many bytes of frames are kept; later frames are counted, not kept.
const MAX_KEPT_BYTES: usize = 256 << 20;

/// How often the reading thread looks whether it should stop, should its wake-up be lost.
const POLL_MS: u8 = 100;

/// A capture in progress.
#[derive(Debug)]
pub(crate) struct Capture {
    stop: Arc<AtomicBool>,
    /// Writing a byte here wakes the reading thread at once.
    wake: PipeWriter,
    thread: JoinHandle<Captured>,
}

/// What a capture gives when it stops.
#[derive(Debug)]
pub(crate) struct Captured {
    /// The pcapng file.
    pub file: Vec<u8>,
    /// Frames the kernel could not fit in the rings, and so are missing from the file.
    pub lost: u64,
    /// Frames left out because the file had reached [`MAX_KEPT_BYTES`].
    pub over_limit: u64,
}

impl Captured {
    /// What the user should know about frames missing from the file, if any are.
    pub(crate) fn missing(&self) -> Option<String> {
        let mut notes = Vec::new();
        if self.lost > 0 {
            notes.push(format!(
                "{} frames were lost (the capture could not keep up with the traffic)",
                self.lost
            ));
        }
        if self.over_limit > 0 {
            notes.push(format!(
                "{} frames were left out after the first {} MiB",
                self.over_limit,
                MAX_KEPT_BYTES >> 20
            ));
        }
        (!notes.is_empty())
            .then(|| format!("the packet capture is incomplete: {}", notes.join("; ")))
    }
}

/// The ring of one node, and which of its interfaces are captured as which pcapng interface.
#[derive(Debug)]
struct Tap {
    ring: Ring,
    /// `(ifindex, pcapng interface number)`.
    interfaces: Vec<(u32, u32)>,
    /// Keep frames arriving at an interface too (each frame of a link then appears twice:
    /// as it left one end and as it arrived at the other).
    both_ends: bool,
}

impl Capture {
    /// Starts capturing unless `mode` is [`CaptureMode::Off`].
    pub(crate) fn start_if(mode: CaptureMode, net: &Net) -> Result<Option<Capture>> {
        match mode {
            CaptureMode::Off => Ok(None),
            mode => Capture::start(net, mode.both_ends()).map(Some),
        }
    }

    /// Stops, says on stderr what the file misses if it misses frames, and returns the file.
    pub(crate) fn finish(self) -> Vec<u8> {
        let captured = self.stop();
        if let Some(note) = captured.missing() {
            eprintln!("netns-test: {note}");
        }
        captured.file
    }

    /// Opens a packet socket with its ring in every node and starts reading them. Unless
    /// `both_ends`, only frames leaving an interface are kept: each frame of a link once.
    pub(crate) fn start(net: &Net, both_ends: bool) -> Result<Capture> {
        let mut names = Vec::new();
        let mut wanted = Vec::new();
        for node in net.nodes() {
            let links = Socket::open_in(node.ns(), node.name())?
                .links()
                .map_err(|source| Error::Netlink {
                    what: format!("listing the links of node `{}`", node.name()),
                    source,
                })?;
            let mut interfaces = Vec::new();
            for interface in node.interfaces() {
                let Some(link) = links.iter().find(|l| l.name == interface.name()) else {
                    continue;
                };
                interfaces.push((link.index, names.len() as u32));
                names.push(format!("{}:{}", node.name(), interface.name()));
            }
            if !interfaces.is_empty() {
                wanted.push((node, interfaces));
            }
        }
        // Setting a ring up waits for an RCU grace period (`synchronize_net`), and so does
        // freeing it: one thread per node lets those waits overlap instead of adding up.
        let taps = thread::scope(|scope| {
            let opening: Vec<_> = wanted
                .into_iter()
                .map(|(node, interfaces)| {
                    let ring = scope.spawn(move || {
                        netns::enter(node.ns())?;
                        Ring::open(BLOCK_BYTES, BLOCKS, RETIRE_MS)
                    });
                    (node.name(), ring, interfaces)
                })
                .collect();
            opening
                .into_iter()
                .map(|(name, ring, interfaces)| {
                    let ring = ring.join().expect("the thread opening a ring panicked");
                    Ok(Tap {
                        ring: ring.map_err(|source| Error::Capture {
                            node: name.to_string(),
                            source,
                        })?,
                        interfaces,
                        both_ends,
                    })
                })
                .collect::<Result<Vec<Tap>>>()
        })?;
        let writer = Writer::new(names.iter().map(String::as_str));
        let stop = Arc::new(AtomicBool::new(false));
        let io_error = |what: &str| {
            let what = what.to_string();
            move |source| Error::Io { what, source }
        };
        let (woken, wake) =
            io::pipe().map_err(io_error("cannot create the capture's wake-up pipe"))?;
        let thread = thread::Builder::new()
            .name("netns-test capture".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || read_until_stopped(taps, &woken, writer, &stop)
            })
            .map_err(io_error("cannot start the capture's thread"))?;
        Ok(Capture { stop, wake, thread })
    }

    /// Takes what the rings still hold, stops, and returns the pcapng file.
    pub(crate) fn stop(mut self) -> Captured {
        self.stop.store(true, Ordering::Relaxed);
        // If this fails, the thread still sees the flag within `POLL_MS`.
        let _ = self.wake.write_all(&[1]);
        match self.thread.join() {
            Ok(captured) => captured,
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

/// A frame copied out of a ring, kept until the end to be written in time order (each ring
/// gives its own frames in order, but the rings are read one after the other).
struct Frame {
    timestamp_ns: u64,
    interface: u32,
    data: Vec<u8>,
    original_len: u32,
    direction: Direction,
}

fn read_until_stopped(
    mut taps: Vec<Tap>,
    woken: &PipeReader,
    mut writer: Writer,
    stop: &AtomicBool,
) -> Captured {
    let mut frames = Frames::default();
    // Once stopping: until when to wait for the kernel to hand over partly filled blocks.
    let mut deadline = None;
    loop {
        // Read the flag before draining, so that a frame the body sent is always read.
        let stopping = stop.load(Ordering::Relaxed);
        let mut pending = false;
        for tap in &mut taps {
            pending |= drain(tap, &mut frames);
        }
        if stopping {
            let deadline =
                *deadline.get_or_insert_with(|| Instant::now() + Duration::from_millis(200));
            if !pending || Instant::now() >= deadline {
                break;
            }
            thread::sleep(Duration::from_millis(1));
            continue;
        }
        let mut fds: Vec<PollFd<'_>> = taps
            .iter()
            .map(|tap| tap.ring.fd())
            .chain([woken.as_fd()])
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::from(POLL_MS)) {
            Ok(_) | Err(Errno::EINTR) => {}
            // Cannot happen with valid fds; wait for the stop rather than spin.
            Err(_) => thread::sleep(Duration::from_millis(POLL_MS.into())),
        }
    }
    let Frames {
        mut kept,
        over_limit,
        ..
    } = frames;
    kept.sort_by_key(|f| f.timestamp_ns);
    for f in kept {
        writer.packet(
            f.interface,
            f.timestamp_ns,
            &f.data,
            f.original_len,
            Some(f.direction),
        );
    }
    let lost = taps
        .iter()
        .map(|tap| u64::from(tap.ring.drops().unwrap_or(0)))
        .sum();
    // As for opening: each ring's release waits for grace periods, better overlapped.
    thread::scope(|scope| {
        for tap in taps {
            scope.spawn(move || drop(tap));
        }
    });
    Captured {
        file: writer.into_bytes(),
        lost,
        over_limit,
    }
}

/// The frames read so far.
#[derive(Default)]
struct Frames {
    kept: Vec<Frame>,
    kept_bytes: usize,
    over_limit: u64,
}

/// Takes every frame the kernel has handed over in `tap`'s ring; returns whether more are
/// waiting in a block not yet handed over.
fn drain(tap: &mut Tap, frames: &mut Frames) -> bool {
    let interfaces = &tap.interfaces;
    let both_ends = tap.both_ends;
    tap.ring.drain(|frame| {
        // Every frame on a link end was sent by some node of the network (switches only
        // forward), so its copy leaving the sender is each frame once.
        if !both_ends && !frame.outgoing {
            return;
        }
        let Some(&(_, interface)) = interfaces.iter().find(|(index, _)| *index == frame.ifindex)
        else {
            return;
        };
        if frames.kept_bytes + frame.data.len() > MAX_KEPT_BYTES {
            frames.over_limit += 1;
            return;
        }
        frames.kept_bytes += frame.data.len();
        frames.kept.push(Frame {
            timestamp_ns: frame.timestamp_ns,
            interface,
            data: frame.data.to_vec(),
            original_len: frame.original_len,
            direction: if frame.outgoing {
                Direction::Outbound
            } else {
                Direction::Inbound
            },
        });
    })
}
