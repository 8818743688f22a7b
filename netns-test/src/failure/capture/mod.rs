//! Packet capture: every frame on every link end of the network, from before the body starts
//! until it ends, into one pcapng file with one interface per link end (`client:eth0`).
//!
//! # How
//!
//! A packet socket (`AF_PACKET`, `ETH_P_ALL`) sees every frame that enters or leaves the
//! interfaces of the network namespace it was opened in, each with the index of its interface
//! and its direction. So [`Capture::start`] opens one per node, from a thread inside the node,
//! right after the network is built and before the body runs: frames sent by the body are
//! caught from the first one. Each socket has a receive ring (`ring.rs`), which absorbs
//! bursts that a socket's ordinary receive buffer could not. Frames of interfaces that
//! are not link ends of the topology (`lo`) are left out. One thread reads every ring (`poll`)
//! and appends the frames, with the kernel's timestamps, to `capture.pcapng` in the test's
//! artifact folder as it goes: a frame is written once it is `HOLD_MS` (50 ms, `record.rs`) old,
//! when every frame seen before it has been read from every ring, so that the file is in time
//! order. The file is made when the capture starts (before the body runs); a test that passes
//! with capture on failure removes it, with its folder.
//!
//! [`Capture::stop`] is called once the body has ended: it wakes the thread, which takes what
//! the rings still hold (waiting, if need be, for the kernel to hand over the block it was
//! filling), writes the rest and says how many frames the kernel could not fit in the rings.
//!
//! # What a test that dies leaves
//!
//! The file is written through, in whole pcapng blocks, each `write` ending after a block: a
//! test process that dies leaves a file that `tshark -r` reads to its end, with every frame
//! written until then. What that is, by the way it dies:
//!
//! - **It crashes or exits** (`std::process::abort`, a panic with `panic = "abort"`, a panic
//!   while panicking, a segfault, `std::process::exit` in the body): every frame captured until
//!   then. The signal handler, or the `atexit` hook, waits (at most 0.5 s) for the thread to take
//!   the rings' last frames and write them, prints `netns-test: the packet capture so far:
//!   <path>` (the failure report shows it), then the process dies of the same signal as
//!   without a capture (`crash.rs`).
//! - **Its time limit passes**: the test process's own report stops the capture first, so the
//!   file is complete, as for a failure. If the test process is too stuck to report (stopped),
//!   the harness kills it 5 s later (`SIGKILL`, see the sandbox's `watch.rs`) and the file holds
//!   the frames as for a kill, counted from when the process stopped running.
//! - **It is killed** (`SIGKILL` from outside, the machine's OOM killer): every frame captured
//!   more than about 60 ms before (`HOLD_MS` and one wake-up of the thread): the ones still
//!   held back or in a ring's unfinished block are lost. Measured here: of a ping 60 ms before
//!   a `SIGKILL` both frames were in the file 10 times out of 10; 50 ms before, 2 out of 10.
//!   A kill in the middle of a `write` could end the file with a part of a block: tshark then
//!   reads every frame before it and says the file was cut short.
//!
//! One socket per node rather than one bound to each interface: the kernel tells the interface
//! of every frame, and a node's ring is shared by all its interfaces.
//!
//! # What it costs, and what it misses
//!
//! Setting a ring up and freeing it each wait for an RCU grace period in the kernel; the rings
//! of all nodes are set up, and freed, by one thread per node so that the waits overlap. A test
//! with capture takes 15 to 30 ms longer here (two nodes, debug build). The reading thread keeps
//! up with ordinary test traffic; a bulk transfer at full veth speed (20 MiB in about 0.1 s)
//! outruns it, and then the kernel drops frames from the capture (never from the network): the
//! report says how many. At most `MAX_KEPT_BYTES` (256 MiB) of frames are kept. Writing as it
//! goes costs one `write` per wake-up of the thread with frames old enough; a test that passes
//! with capture on failure makes and removes its file and folder (about 1 ms of system calls,
//! under strace). With the capture off, none of this runs: no file, thread or handler.
//!
//! # Each frame once
//!
//! A frame crossing a veth is seen twice: leaving one end and arriving at the other. By default
//! only the first copy is kept, so `tshark -r` shows each frame once, on the interface of the node
//! that sent it, with its direction `out`; statistics count it once. `both-ends` keeps both
//! copies (which shows what a link, or a switch, did to a frame), each on its own interface.
//! A frame that no node sent (none, in a test network: bridges forward but send nothing of their
//! own) would be left out.
//!
//! The file is made in the artifact folder before the body runs; where it cannot be (the folder
//! is not writable), the test fails at once, naming the file and the fix.
//!
//! # Choosing
//!
//! `capture` on the attribute keeps the file when the test fails, `capture = "always"` also
//! when it passes; `capture = "both-ends"` and `capture = "always,both-ends"` keep each frame at
//! both ends. `NETNS_TEST_CAPTURE=off|on-failure|always|both-ends|always,both-ends` sets it for
//! every test of the run, over what the attributes say (`mode.rs`, read by
//! [`Config`](crate::config::Config)).

#[cfg(target_os = "linux")]
mod crash;
#[cfg(target_os = "linux")]
mod pcapng;
#[cfg(target_os = "linux")]
mod record;
#[cfg(target_os = "linux")]
mod ring;

mod mode;

pub use mode::CaptureMode;
#[cfg(target_os = "linux")]
pub(crate) use record::Capture;

/// The file name of the capture in the artifact folder.
#[cfg(target_os = "linux")]
pub(crate) const FILE_NAME: &str = "capture.pcapng";
