//! Recording: a packet socket with a ring in every node, and one thread reading them all and
//! writing the pcapng file as it goes (see the module above for how and why).

use std::fs::File;
use std::io::{self, PipeReader, PipeWriter, Read as _, Write as _};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::CaptureMode;
use super::crash;
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

/// How old a frame must be before it is written: by then every frame seen before it has been
/// read from every ring (a block is handed over within `RETIRE_MS`, rounded up to the kernel's
/// clock tick, and the kernel's timestamps may lag by a tick), so the file is in time order.
const HOLD_MS: u64 = 50;

/// How often the reading thread writes, while it holds frames back.
const WRITE_EVERY_MS: u8 = 10;

/// A capture in progress.
#[derive(Debug)]
pub(crate) struct Capture {
    /// A crash waits for the last frames while this lives (`crash.rs`); first, so that it is
    /// dropped before the pipe it names.
    _armed: crash::Armed,
    stop: Arc<AtomicBool>,
    /// Writing a byte here wakes the reading thread at once.
    wake: PipeWriter,
    thread: JoinHandle<Captured>,
}

/// What a capture gives when it stops.
#[derive(Debug)]
pub(crate) struct Captured {
    /// Frames the kernel could not fit in the rings, and so are missing from the file.
    pub lost: u64,
    /// Frames left out because the file had reached [`MAX_KEPT_BYTES`].
    pub over_limit: u64,
    /// The file could not be written: where, and why.
    pub unwritten: Option<(PathBuf, io::Error)>,
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
        if let Some((path, error)) = &self.unwritten {
            notes.push(format!("cannot write {}: {error}", path.display()));
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
    /// Starts capturing into the file `create` makes, unless `mode` is [`CaptureMode::Off`]
    /// (then nothing is made).
    pub(crate) fn start_if(
        mode: CaptureMode,
        net: &Net,
        create: impl FnOnce() -> (PathBuf, io::Result<File>),
    ) -> Result<Option<Capture>> {
        match mode {
            CaptureMode::Off => Ok(None),
            mode => {
                let (path, file) = create();
                let file = file.map_err(|source| Error::Io {
                    what: format!(
                        "cannot create the packet capture {} (set NETNS_TEST_ARTIFACTS to a \
                         folder you can write, or turn the capture off)",
                        path.display()
                    ),
                    source,
                })?;
                Capture::start(net, mode.both_ends(), path, file).map(Some)
            }
        }
    }

    /// Stops, with every frame written, and says on stderr what the file misses if it misses
    /// frames.
    pub(crate) fn finish(self) {
        let captured = self.stop();
        if let Some(note) = captured.missing() {
            eprintln!("netns-test: {note}");
        }
    }

    /// Opens a packet socket with its ring in every node and starts reading them, writing
    /// frames to `file` (at `path`) as they come. Unless `both_ends`, only frames leaving an
    /// interface are kept: each frame of a link once.
    pub(crate) fn start(
        net: &Net,
        both_ends: bool,
        path: PathBuf,
        mut file: File,
    ) -> Result<Capture> {
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
        let io_error = |what: &str| {
            let what = what.to_string();
            move |source| Error::Io { what, source }
        };
        // The header first: a file cut short anywhere after it is still a capture.
        let mut writer = Writer::new(names.iter().map(String::as_str));
        file.write_all(&writer.take()).map_err(io_error(&format!(
            "cannot write the packet capture {}",
            path.display()
        )))?;
        let output = Output {
            path,
            file,
            failed: None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (woken, wake) =
            io::pipe().map_err(io_error("cannot create the capture's wake-up pipe"))?;
        let (armed, written) = crash::arm(&wake, &output.path)
            .map_err(io_error("cannot create the capture's answer pipe"))?;
        let thread = thread::Builder::new()
            .name("netns-test capture".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || {
                    crash::reader_started();
                    read_until_stopped(taps, woken, writer, output, &stop, &written)
                }
            })
            .map_err(io_error("cannot start the capture's thread"))?;
        Ok(Capture {
            _armed: armed,
            stop,
            wake,
            thread,
        })
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

/// A frame copied out of a ring, held until it is old enough to be written in time order
/// (each ring gives its own frames in order, but the rings are read one after the other).
struct Frame {
    timestamp_ns: u64,
    interface: u32,
    data: Vec<u8>,
    original_len: u32,
    direction: Direction,
}

/// The capture's file, and its first write error (after which nothing more is written).
struct Output {
    path: PathBuf,
    file: File,
    failed: Option<io::Error>,
}

impl Output {
    /// Appends whole blocks with one `write`, so that a process killed between two writes
    /// leaves a file that ends after a whole block.
    fn append(&mut self, bytes: &[u8]) {
        if self.failed.is_none()
            && !bytes.is_empty()
            && let Err(error) = self.file.write_all(bytes)
        {
            self.failed = Some(error);
        }
    }
}

fn read_until_stopped(
    mut taps: Vec<Tap>,
    mut woken: PipeReader,
    mut writer: Writer,
    mut output: Output,
    stop: &AtomicBool,
    written: &PipeWriter,
) -> Captured {
    let mut frames = Frames::default();
    // Once stopping: until when to wait for the kernel to hand over partly filled blocks.
    let mut deadline = None;
    loop {
        // Read the flags before draining, so that a frame the body sent is always read.
        let stopping = stop.load(Ordering::Relaxed) || crash::dying();
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
        let horizon = now_ns().saturating_sub(HOLD_MS * 1_000_000);
        frames.write_older_than(horizon, &mut writer, &mut output);
        let mut fds: Vec<PollFd<'_>> = taps
            .iter()
            .map(|tap| tap.ring.fd())
            .chain([woken.as_fd()])
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
        let every = if frames.held.is_empty() {
            POLL_MS
        } else {
            WRITE_EVERY_MS
        };
        match poll(&mut fds, PollTimeout::from(every)) {
            Ok(_) | Err(Errno::EINTR) => {}
            // Cannot happen with valid fds; wait for the stop rather than spin.
            Err(_) => thread::sleep(Duration::from_millis(POLL_MS.into())),
        }
        let wake_up = fds
            .last()
            .and_then(PollFd::revents)
            .is_some_and(|events| events.contains(PollFlags::POLLIN));
        drop(fds);
        if wake_up && !stop.load(Ordering::Relaxed) && !crash::dying() {
            // Not for this process (a forked child that exited): take it, or it wakes forever.
            let _ = woken.read(&mut [0; 16]);
        }
    }
    frames.write_older_than(u64::MAX, &mut writer, &mut output);
    if crash::dying() {
        // The process dies as soon as it knows: the rings go with it.
        crash::written(written);
        loop {
            thread::park();
        }
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
        lost,
        over_limit: frames.over_limit,
        unwritten: output.failed.map(|error| (output.path, error)),
    }
}

/// Now, as the kernel's timestamps count: nanoseconds since the Unix epoch.
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The frames read and not written yet.
#[derive(Default)]
struct Frames {
    held: Vec<Frame>,
    /// The bytes of frames kept so far, written or held.
    kept_bytes: usize,
    over_limit: u64,
}

impl Frames {
    /// Writes the frames seen before `horizon`, in time order.
    fn write_older_than(&mut self, horizon: u64, writer: &mut Writer, output: &mut Output) {
        if self.held.is_empty() {
            return;
        }
        self.held.sort_by_key(|f| f.timestamp_ns);
        let old = self.held.partition_point(|f| f.timestamp_ns < horizon);
        for f in self.held.drain(..old) {
            writer.packet(
                f.interface,
                f.timestamp_ns,
                &f.data,
                f.original_len,
                Some(f.direction),
            );
        }
        output.append(&writer.take());
    }
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
        frames.held.push(Frame {
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
