//! The fork server: a small process forked at the top of `main`, before anything else, that
//! forks one sandboxed test process per request, without `exec`.
//!
//! The module docs of the sandbox say why (the cost of a re-exec) and why it is safe. In
//! short: the server is forked while the harness has one thread and has run no test; it keeps
//! of the harness's descriptors only stdio and its socket, starts no thread, never runs a test
//! itself, and so stays what the harness was at the top of `main`. Every test process is a
//! fresh fork of it: what one test changes (a static, a runtime, a thread-local, a descriptor)
//! dies with that test's process, and the next one is forked from the untouched server again.
//!
//! The server is one loop on one thread: `poll` on its socket (requests, `served.rs` gives
//! their form), on each running test's channel (a kill, or the harness letting go) and on a
//! pidfd of each test's keeper (it ended: reap it, send its status). Forking, killing and
//! reaping all happen on that thread, so a kill never reaches a reaped keeper's pid.

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use nix::unistd::Pid;

use super::served::{CAPTURE, ForkServer, HEADER, KILL, NO_LIMIT, USER_NAMESPACE};
use super::sys::{self, Sandbox, ServerSide, Side};
use super::watch::kill_sandbox;

/// The longest request (a test's name) the server reads.
const MAX_REQUEST: usize = 64 * 1024;

/// Forks the fork server. In the server, never returns: each test process it forks calls `run`
/// with the test's name and time limit, inside its sandbox, and exits with the code `run`
/// returns. In the harness, returns the handle to send requests with.
///
/// # Safety
///
/// Call it at the top of `main`: no other thread may start while it runs.
pub(crate) unsafe fn start_fork_server(
    run: impl Fn(&str, Option<Duration>) -> u8,
) -> io::Result<ForkServer> {
    if !sys::single_threaded() {
        return Err(io::Error::other(
            "the process already has more than one thread at the top of `main`",
        ));
    }
    // The server watches its tests through pidfds: make sure this kernel has them.
    drop(sys::pidfd_open(std::process::id() as i32)?);
    let (harness, server) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    // The server gets a copy of stdout's buffer: a partial line left in it would print twice.
    let _ = io::stdout().flush();
    // SAFETY: one thread, checked above; the caller starts none meanwhile.
    match unsafe { sys::fork_server(server.as_raw_fd()) }? {
        ServerSide::Server => {
            // Closed by `fork_server` already.
            std::mem::forget(harness);
            serve(server, &run)
        }
        ServerSide::Caller => Ok(ForkServer { socket: harness }),
    }
}

/// A test process the server forked, until its keeper is reaped.
struct Running {
    keeper: i32,
    pidfd: OwnedFd,
    /// `None` once the harness has let go of it.
    channel: Option<File>,
}

/// What `poll` said about one descriptor.
enum Event {
    Request,
    Ended(usize),
    Channel(usize),
}

/// The server's loop; ends the process when the harness has gone and every test has ended.
fn serve(socket: OwnedFd, run: &impl Fn(&str, Option<Duration>) -> u8) -> ! {
    let mut running: Vec<Running> = Vec::new();
    let mut buffer = vec![0u8; MAX_REQUEST];
    let mut open = true;
    loop {
        if !open && running.is_empty() {
            sys::exit_now(0);
        }
        let mut events = Vec::new();
        {
            let mut fds = Vec::with_capacity(1 + 2 * running.len());
            let mut whose = Vec::with_capacity(fds.capacity());
            if open {
                fds.push(PollFd::new(socket.as_fd(), PollFlags::POLLIN));
                whose.push(Event::Request);
            }
            for (index, test) in running.iter().enumerate() {
                fds.push(PollFd::new(test.pidfd.as_fd(), PollFlags::POLLIN));
                whose.push(Event::Ended(index));
                if let Some(channel) = &test.channel {
                    fds.push(PollFd::new(channel.as_fd(), PollFlags::POLLIN));
                    whose.push(Event::Channel(index));
                }
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => sys::exit_now(1),
            }
            for (fd, event) in fds.iter().zip(whose) {
                if fd.revents().is_some_and(|revents| !revents.is_empty()) {
                    events.push(event);
                }
            }
        }
        // Kills first, then reaping, then new tests: removing entries shifts the indices.
        for event in &events {
            if let Event::Channel(index) = *event {
                heed(&mut running[index]);
            }
        }
        let mut ended: Vec<usize> = events
            .iter()
            .filter_map(|event| match event {
                Event::Ended(index) => Some(*index),
                _ => None,
            })
            .collect();
        ended.sort_unstable_by(|a, b| b.cmp(a));
        for index in ended {
            let test = running.swap_remove(index);
            let status = sys::reap(test.keeper).map_or(1 << 8, |status| status.into_raw());
            if let Some(mut channel) = test.channel {
                let _ = channel.write_all(&status.to_ne_bytes());
            }
        }
        if events.iter().any(|event| matches!(event, Event::Request)) {
            match sys::receive_with_fds(socket.as_raw_fd(), &mut buffer) {
                Ok(Some(received)) if !received.truncated => {
                    if let Some(test) = fork_test(&buffer[..received.len], received.fds, run) {
                        running.push(test);
                    }
                }
                // A request too long to read: its descriptors close, which the harness sees.
                Ok(Some(_)) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Ok(None) | Err(_) => {
                    // The harness has gone: nothing it ran is wanted any more.
                    open = false;
                    for test in &mut running {
                        kill_sandbox(Pid::from_raw(test.keeper));
                        test.channel = None;
                    }
                }
            }
        }
    }
}

/// Reads what the harness says on a test's channel: a kill, or its end (the harness will not
/// wait for the test: kill it too).
fn heed(test: &mut Running) {
    let Some(channel) = &mut test.channel else {
        return;
    };
    let mut byte = [0u8];
    match channel.read(&mut byte) {
        Ok(1) if byte[0] == KILL => kill_sandbox(Pid::from_raw(test.keeper)),
        Ok(1) => {}
        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
        _ => {
            kill_sandbox(Pid::from_raw(test.keeper));
            test.channel = None;
        }
    }
}

/// Forks the sandboxed test process a request asks for. In the test process, runs the test and
/// exits; in the server, returns what to watch (`None` if the request was malformed or the fork
/// failed, which the harness reads on the report pipe).
fn fork_test(
    request: &[u8],
    fds: Vec<OwnedFd>,
    run: &impl Fn(&str, Option<Duration>) -> u8,
) -> Option<Running> {
    let mut fds = fds.into_iter();
    let (Some(channel), Some(report)) = (fds.next(), fds.next()) else {
        return None;
    };
    let (channel, mut report) = (File::from(channel), File::from(report));
    if request.len() < HEADER {
        return None;
    }
    let flags = request[0];
    let output = if flags & CAPTURE != 0 {
        Some(fds.next()?)
    } else {
        None
    };
    let limit = u64::from_le_bytes(request[1..HEADER].try_into().ok()?);
    let limit = (limit != NO_LIMIT).then(|| Duration::from_micros(limit));
    let name = std::str::from_utf8(&request[HEADER..]).ok()?;
    let sandbox = if flags & USER_NAMESPACE != 0 {
        Sandbox::for_current_user()
    } else {
        Sandbox::without_user_namespace()
    };
    // SAFETY: the server has one thread, always.
    match unsafe { sys::fork_into_sandbox(&sandbox) } {
        Err(error) => {
            let code = error.raw_os_error().unwrap_or(i32::MAX);
            let _ = report.write_all(&code.to_ne_bytes());
            None
        }
        Ok(Side::Child(entered)) => run_in_sandbox(entered, report, output, name, limit, run),
        Ok(Side::Caller(keeper)) => {
            // Only the test process holds these now: their ends reach the harness with it.
            drop((report, output));
            match sys::pidfd_open(keeper) {
                Ok(pidfd) => Some(Running {
                    keeper,
                    pidfd,
                    channel: Some(channel),
                }),
                Err(_) => {
                    kill_sandbox(Pid::from_raw(keeper));
                    let status = sys::reap(keeper).map_or(1 << 8, |status| status.into_raw());
                    let mut channel = channel;
                    let _ = channel.write_all(&status.to_ne_bytes());
                    None
                }
            }
        }
    }
}

/// In the child of the server: the sandbox's keeper if `entered` failed, else its test
/// process, which takes the harness's descriptors as a re-executed one has them, says it is in
/// its sandbox, runs the test and exits.
fn run_in_sandbox(
    entered: io::Result<()>,
    mut report: File,
    output: Option<OwnedFd>,
    name: &str,
    limit: Option<Duration>,
    run: &impl Fn(&str, Option<Duration>) -> u8,
) -> ! {
    if let Err(error) = entered {
        let code = error.raw_os_error().unwrap_or(i32::MAX);
        let _ = report.write_all(&code.to_ne_bytes());
        sys::exit_now(1);
    }
    // Every descriptor of the server but stdio and the report pipe is closed here: its socket,
    // other tests' channels and pidfds, this test's channel and output pipe (now stdout and
    // stderr). Their owners in the server's frames are never dropped: this never returns.
    sys::settle_test_process(output.as_ref().map(AsRawFd::as_raw_fd), report.as_raw_fd());
    std::mem::forget(output);
    let _ = report.write_all(&0i32.to_ne_bytes());
    drop(report);
    let code = run(name, limit);
    let _ = io::stdout().flush();
    sys::exit_now(i32::from(code))
}
