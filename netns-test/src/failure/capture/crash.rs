//! The last frames of a test process that dies: a crash or an exit waits for the capture's
//! thread to write what the rings still hold, then the process dies as it would have.
//!
//! # Why
//!
//! The capture's thread writes frames to the file as it reads them, but a little late: the
//! kernel hands a block of its ring over only when the block is full or some milliseconds
//! old, and the thread holds frames back a while to write them in time order (see
//! `record.rs`). A test that aborts right after the traffic it is about (a ping, then
//! `std::process::abort`) would lose exactly those frames. So the signals of a crash
//! (`SIGABRT`: `abort`, a panic with `panic = "abort"`, a panic while panicking; `SIGSEGV`,
//! `SIGBUS`, `SIGILL`, `SIGFPE`) and `exit` (`std::process::exit` in a body) wait, at most
//! [`FLUSH_WAIT_MS`], for the thread to take the rings' last frames, write them and say so;
//! then the handler prints where the file is, since the test process's failure report, which
//! would have said it, never comes.
//! `SIGKILL` cannot be waited for: there the file holds what the thread had written.
//!
//! # Why this is safe in a signal handler
//!
//! The handler only loads and stores atomics and calls `write`, `poll`, `gettid`,
//! `sigaction` and `raise`, all async-signal-safe. The work (reading rings, encoding, writing
//! the file) is done by the capture's thread, which the crash interrupted nowhere. If the
//! thread cannot do it (it is the one that crashed, or it waits for a lock the crashed thread
//! holds), the wait times out and the process dies with what the file has.
//!
//! # Dying as without it
//!
//! Afterwards the handler puts back the disposition it found (the Rust runtime's own handler
//! of `SIGSEGV` and `SIGBUS`, which reports a stack overflow, or the default) and hands the
//! signal on: to that handler, called with the same arguments, or raised again for the default
//! action, so the test process dies of the same signal and the harness reports it as before.
//! The handlers are installed by the first capture of the process and do nothing once no
//! capture runs.

use std::io::{PipeReader, PipeWriter, Write as _};
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering};

use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// How long a dying process waits for the capture's last frames: the capture's thread waits
/// at most 200 ms for the kernel to hand over the blocks it is filling.
pub(crate) const FLUSH_WAIT_MS: u16 = 500;

/// The signals of a crash.
const SIGNALS: [Signal; 5] = [
    Signal::SIGABRT,
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGILL,
    Signal::SIGFPE,
];

/// The write end of the capture's wake-up pipe, or -1 when no capture runs.
static WAKE: AtomicI32 = AtomicI32::new(-1);
/// The read end of the pipe on which the capture's thread says it has written everything.
static WRITTEN: AtomicI32 = AtomicI32::new(-1);
/// The thread id of the capture's thread, which must not wait for itself.
static READER: AtomicI32 = AtomicI32::new(0);
/// The process that captures: a child forked from it that exits has nothing to wait for.
static OWNER: AtomicI32 = AtomicI32::new(0);
/// Set when the process is dying: the capture's thread writes everything and says so.
static DYING: AtomicBool = AtomicBool::new(false);
/// What a dying process prints once the file is written (where it is), made beforehand: a
/// signal handler cannot format. Leaked, a few dozen bytes once per test process, so that a
/// handler can never read it freed.
static NOTE: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static NOTE_LEN: AtomicUsize = AtomicUsize::new(0);
/// The dispositions found when the handlers were installed, in the order of [`SIGNALS`].
static PREVIOUS: OnceLock<Vec<SigAction>> = OnceLock::new();

/// What a running capture gives the handlers; dropping it disarms them.
#[derive(Debug)]
pub(crate) struct Armed {
    _written: PipeReader,
}

/// Makes a crash or an exit wait for the capture's thread (woken through `wake`, it answers
/// on the writer returned) and then say on stderr that the capture is at `path`, until the
/// [`Armed`] value is dropped.
pub(crate) fn arm(wake: &PipeWriter, path: &Path) -> std::io::Result<(Armed, PipeWriter)> {
    let (written, answer) = std::io::pipe()?;
    install();
    let note = format!(
        "netns-test: the packet capture so far: {}\n",
        path.display()
    );
    let note = Box::leak(note.into_bytes().into_boxed_slice());
    NOTE_LEN.store(0, Ordering::Release);
    NOTE.store(note.as_mut_ptr(), Ordering::Release);
    NOTE_LEN.store(note.len(), Ordering::Release);
    OWNER.store(nix::unistd::getpid().as_raw(), Ordering::Relaxed);
    WRITTEN.store(written.as_raw_fd(), Ordering::Release);
    WAKE.store(wake.as_raw_fd(), Ordering::Release);
    Ok((Armed { _written: written }, answer))
}

impl Drop for Armed {
    fn drop(&mut self) {
        WAKE.store(-1, Ordering::Release);
        WRITTEN.store(-1, Ordering::Release);
    }
}

/// Called by the capture's thread when it starts.
pub(crate) fn reader_started() {
    READER.store(nix::unistd::gettid().as_raw(), Ordering::Relaxed);
}

/// Whether the process is dying and waits for the capture's last frames.
pub(crate) fn dying() -> bool {
    DYING.load(Ordering::Acquire)
}

/// Called by the capture's thread once every frame is written after [`dying`].
pub(crate) fn written(mut answer: &PipeWriter) {
    let _ = answer.write_all(&[1]);
}

fn install() {
    PREVIOUS.get_or_init(|| {
        // SAFETY: `at_exit` is a plain function that may run at any exit.
        unsafe { libc::atexit(at_exit) };
        let action = SigAction::new(
            SigHandler::SigAction(on_crash),
            SaFlags::SA_SIGINFO | SaFlags::SA_ONSTACK,
            SigSet::empty(),
        );
        SIGNALS
            .iter()
            .map(|&signal| {
                // SAFETY: the handler is async-signal-safe (see the module's docs).
                unsafe { sigaction(signal, &action) }.unwrap_or_else(|_| {
                    SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty())
                })
            })
            .collect()
    });
}

/// Wakes the capture's thread and waits until it has written every frame, or the time is up;
/// then says where the file is.
fn wait_for_last_frames() {
    let wake = WAKE.load(Ordering::Acquire);
    let written = WRITTEN.load(Ordering::Acquire);
    if wake < 0
        || written < 0
        || OWNER.load(Ordering::Relaxed) != nix::unistd::getpid().as_raw()
        || READER.load(Ordering::Relaxed) == nix::unistd::gettid().as_raw()
    {
        return;
    }
    DYING.store(true, Ordering::Release);
    wait(wake, written);
    let (note, len) = (
        NOTE.load(Ordering::Acquire),
        NOTE_LEN.load(Ordering::Acquire),
    );
    if !note.is_null() {
        // SAFETY: `note` points at `len` bytes that are never freed (see `NOTE`).
        unsafe { libc::write(libc::STDERR_FILENO, note.cast(), len) };
    }
}

fn wait(wake: RawFd, written: RawFd) {
    let byte = 1u8;
    // SAFETY: `wake` is the write end of a pipe the capture keeps open while armed; one byte
    // from a live local.
    unsafe { libc::write(wake, (&raw const byte).cast(), 1) };
    let mut fd = libc::pollfd {
        fd: written,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid `pollfd`; an interrupted wait just ends early.
    unsafe { libc::poll(&raw mut fd, 1, i32::from(FLUSH_WAIT_MS)) };
}

extern "C" fn at_exit() {
    wait_for_last_frames();
}

extern "C" fn on_crash(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    wait_for_last_frames();
    let Some(index) = SIGNALS.iter().position(|&s| s as libc::c_int == signal) else {
        return;
    };
    let Some(previous) = PREVIOUS.get().and_then(|all| all.get(index)) else {
        return;
    };
    // SAFETY: puts back the disposition that was there before `install`.
    let _ = unsafe { sigaction(SIGNALS[index], previous) };
    match previous.handler() {
        // The handler that was installed for this signal, called as the kernel would.
        SigHandler::SigAction(handler) => handler(signal, info, context),
        SigHandler::Handler(handler) => handler(signal),
        SigHandler::SigIgn => {}
        // Blocked until this handler returns, then delivered with the default action (a fault
        // would also happen again).
        // SAFETY: `raise` is async-signal-safe.
        SigHandler::SigDfl => unsafe {
            libc::raise(signal);
        },
    }
}
