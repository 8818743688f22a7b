//! The only module with `unsafe` process plumbing: the code that runs between `fork` and `exec`
//! to put a test process into a fresh sandbox.
//!
//! # Why the sandbox is made between fork and exec
//!
//! `unshare(CLONE_NEWUSER)` fails with `EINVAL` in a process with more than one thread, and a
//! test harness always has several. A freshly forked child, though, has exactly one thread. So
//! the harness spawns the test binary again (`/proc/self/exe`) and, in the child, before `exec`,
//! unshares the user, network, mount and PID namespaces and writes its one-line uid and gid maps.
//! Doing it there, rather than at the top of the re-executed `main`, keeps the harness free to
//! run on any thread of any process, including under libtest's own harness.
//!
//! # Why three processes
//!
//! A new PID namespace takes effect for the *children* of the process that unshared it, so one
//! more fork is needed, and the process that runs the test must not be PID 1: the first process
//! of a PID namespace ignores every signal it has no handler for, so a test that calls
//! `std::process::abort` would not die by `SIGABRT` as it does anywhere else. Hence:
//!
//! ```text
//! harness ──fork──> keeper (new user, net, mount ns; PID ns of the harness)
//!                     └─fork──> init (PID 1 of the new PID namespace)
//!                                 └─fork──> test (PID 2): exec's the test binary
//! ```
//!
//! - *init* reaps every process of the namespace and, when the test process ends, hands its
//!   wait status to the keeper over a pipe and exits. The kernel then kills whatever the test
//!   left running in the namespace: daemons cannot outlive their test.
//! - *keeper* waits for that status and ends the same way (same exit code, or same signal), so
//!   the harness sees the test's own ending.
//! - Both carry `PR_SET_PDEATHSIG = SIGKILL`: killing the harness kills the keeper, killing the
//!   keeper kills init, and the death of init takes the whole PID namespace with it. When the last
//!   process is gone the kernel frees the namespaces and everything in them. Nothing depends on
//!   cleanup code running.
//!
//! Between `fork` and `exec` of a multithreaded program only async-signal-safe functions may be
//! called: everything below is a raw system call on memory prepared before the fork.
//!
//! [`crate::run()`] makes the same sandbox without `exec`: [`fork_into_sandbox`] forks a process
//! that has one thread (so the child may run any code), and the child calls [`Sandbox::enter`]
//! and goes on, in the test process, to build the network and run the closure.
//! The harness does the same for a test run alone (`preforked.rs`), from the top of `main`,
//! and the fork server (`server.rs`, forked by [`fork_server`]) for each of many tests.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::sync::Arc;

use nix::libc;

/// The steps of building the sandbox, in order. Their number travels back to the harness with
/// the errno when a step fails (see [`encode_failure`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// `unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID)`.
    Unshare = 1,
    /// Writing `deny` to `/proc/self/setgroups`.
    Setgroups = 2,
    /// Writing `/proc/self/uid_map`.
    UidMap = 3,
    /// Writing `/proc/self/gid_map`.
    GidMap = 4,
    /// Forking the first process of the new PID namespace.
    ForkInit = 5,
    /// Forking the test process.
    ForkTest = 6,
    /// Creating the status pipe.
    Pipe = 7,
}

impl Step {
    fn from_number(n: i32) -> Option<Step> {
        use Step::*;
        [Unshare, Setgroups, UidMap, GidMap, ForkInit, ForkTest, Pipe]
            .into_iter()
            .find(|step| *step as i32 == n)
    }
}

/// Steps are carried in the high bits of the raw OS error that `Command::spawn` reports.
const STEP_SHIFT: u32 = 16;

fn encode_failure(step: Step, errno: i32) -> io::Error {
    io::Error::from_raw_os_error(((step as i32) << STEP_SHIFT) | (errno & 0xffff))
}

/// Splits a spawn error into the sandbox step that failed and its errno, if it came from
/// [`Sandbox::enter`].
pub(crate) fn decode_failure(error: &io::Error) -> Option<(Step, i32)> {
    let raw = error.raw_os_error()?;
    let step = Step::from_number(raw >> STEP_SHIFT)?;
    Some((step, raw & 0xffff))
}

/// Everything the child needs to enter its sandbox, prepared before the fork.
#[derive(Debug)]
pub(crate) struct Sandbox {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    /// Whether to make a user namespace; only real root may go without (see `fallback.rs`).
    user_namespace: bool,
}

impl Sandbox {
    /// Prepares the maps that make the caller's effective uid and gid root inside the sandbox.
    pub(crate) fn for_current_user() -> Sandbox {
        let uid = nix::unistd::geteuid();
        let gid = nix::unistd::getegid();
        Sandbox {
            uid_map: format!("0 {uid} 1").into_bytes(),
            gid_map: format!("0 {gid} 1").into_bytes(),
            user_namespace: true,
        }
    }

    /// A sandbox of network, mount and PID namespaces only, for real root on a host that
    /// refuses user namespaces.
    pub(crate) fn without_user_namespace() -> Sandbox {
        Sandbox {
            uid_map: Vec::new(),
            gid_map: Vec::new(),
            user_namespace: false,
        }
    }

    /// Whether this sandbox has a user namespace (see `fallback.rs`).
    pub(crate) fn has_user_namespace(&self) -> bool {
        self.user_namespace
    }

    /// Moves the calling process into a fresh sandbox and returns in the test process, ready to
    /// `exec`. The keeper and init processes never return from here.
    ///
    /// # Safety
    ///
    /// Must be called only in the child of a `fork`, before `exec` (as a `pre_exec` hook), where
    /// the process has one thread. It calls only async-signal-safe functions.
    pub(crate) unsafe fn enter(&self) -> io::Result<()> {
        // SAFETY: plain system calls on memory owned by `self`, in a single-threaded child.
        unsafe {
            let _ = libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // A test that crashes must leave no core file behind in the working directory.
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            let _ = libc::setrlimit(libc::RLIMIT_CORE, &no_core);

            let mut flags = libc::CLONE_NEWNET | libc::CLONE_NEWNS | libc::CLONE_NEWPID;
            if self.user_namespace {
                flags |= libc::CLONE_NEWUSER;
            }
            if libc::unshare(flags) != 0 {
                return Err(encode_failure(Step::Unshare, errno()));
            }
            if self.user_namespace {
                // `setgroups` must be denied before an unprivileged process may write its gid
                // map. Kernels before 3.19 lack the file; that is not an error.
                match write_file(c"/proc/self/setgroups", b"deny") {
                    Ok(()) | Err(libc::ENOENT) => {}
                    Err(e) => return Err(encode_failure(Step::Setgroups, e)),
                }
                write_file(c"/proc/self/uid_map", &self.uid_map)
                    .map_err(|e| encode_failure(Step::UidMap, e))?;
                write_file(c"/proc/self/gid_map", &self.gid_map)
                    .map_err(|e| encode_failure(Step::GidMap, e))?;
            }

            let mut status_pipe = [0; 2];
            if libc::pipe2(status_pipe.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
                return Err(encode_failure(Step::Pipe, errno()));
            }
            let [status_read, status_write] = status_pipe;
            match libc::fork() {
                -1 => Err(encode_failure(Step::ForkInit, errno())),
                0 => {
                    libc::close(status_read);
                    init(status_write)
                }
                init_pid => {
                    libc::close(status_write);
                    keeper(init_pid, status_read)
                }
            }
        }
    }
}

/// The keeper: waits for the test's wait status from init, then ends the same way.
///
/// # Safety
///
/// Runs between fork and exec; see [`Sandbox::enter`].
unsafe fn keeper(init_pid: libc::pid_t, status_read: libc::c_int) -> ! {
    // SAFETY: system calls only; the keeper never returns to the caller.
    unsafe {
        // Let go of every other descriptor: the harness's `spawn` waits for the end of a pipe
        // that is open in this process until `exec` (which the keeper never does).
        close_from(3, status_read);
        let mut raw = [0u8; 4];
        let got = read_full(status_read, &mut raw);
        let mut init_status = 0;
        while libc::waitpid(init_pid, &mut init_status, 0) == -1 && errno() == libc::EINTR {}
        let status = if got {
            i32::from_ne_bytes(raw)
        } else {
            init_status
        };
        end_like(status)
    }
}

/// Init, PID 1 of the new PID namespace: forks the test, reaps everything, reports the test's
/// status, exits (which makes the kernel kill what is left in the namespace).
///
/// # Safety
///
/// Runs between fork and exec; see [`Sandbox::enter`]. Returns only in the test process.
unsafe fn init(status_write: libc::c_int) -> io::Result<()> {
    // SAFETY: system calls only.
    unsafe {
        let _ = libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() == 0 && keeper_is_gone(status_write) {
            libc::_exit(1);
        }
        match libc::fork() {
            -1 => {
                let e = errno();
                // Tell the keeper and stop; the harness sees the exit code.
                libc::_exit(100 + (e & 0x1f));
            }
            0 => {
                libc::close(status_write);
                let _ = libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            }
            test_pid => {
                close_from(3, status_write);
                let mut status = 0;
                loop {
                    let pid = libc::waitpid(-1, &mut status, 0);
                    if pid == test_pid {
                        break;
                    }
                    if pid == -1 && errno() != libc::EINTR {
                        // No child left: should not happen before the test ends.
                        status = 1 << 8;
                        break;
                    }
                }
                let bytes = status.to_ne_bytes();
                libc::write(status_write, bytes.as_ptr().cast(), bytes.len());
                libc::_exit(0)
            }
        }
    }
}

/// Whether the read end of the status pipe is closed, which means the keeper died before init
/// could arm its parent-death signal.
unsafe fn keeper_is_gone(status_write: libc::c_int) -> bool {
    let mut poll = libc::pollfd {
        fd: status_write,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut poll, 1, 0) == 1 && poll.revents & libc::POLLERR != 0 }
}

/// Exits with the same code, or dies by the same signal, as a wait status says.
unsafe fn end_like(status: libc::c_int) -> ! {
    // SAFETY: system calls only.
    unsafe {
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            libc::signal(signal, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::kill(libc::getpid(), signal);
            libc::_exit(128 + signal);
        }
        libc::_exit(libc::WEXITSTATUS(status))
    }
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Writes `data` to a file in one `write`, as `/proc/self/*_map` files require.
unsafe fn write_file(path: &std::ffi::CStr, data: &[u8]) -> Result<(), i32> {
    // SAFETY: `path` is NUL-terminated, `data` is valid for its length.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(errno());
        }
        let written = libc::write(fd, data.as_ptr().cast(), data.len());
        let result = if written == data.len() as isize {
            Ok(())
        } else {
            Err(errno())
        };
        libc::close(fd);
        result
    }
}

unsafe fn read_full(fd: libc::c_int, buf: &mut [u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the range is inside `buf`.
        let n = unsafe { libc::read(fd, buf[done..].as_mut_ptr().cast(), buf.len() - done) };
        match n {
            0 => return false,
            n if n < 0 && errno() == libc::EINTR => continue,
            n if n < 0 => return false,
            n => done += n as usize,
        }
    }
    true
}

/// Closes every descriptor from `first` on, except `keep`.
unsafe fn close_from(first: libc::c_int, keep: libc::c_int) {
    // SAFETY: close_range only closes descriptors.
    unsafe {
        if keep > first {
            libc::syscall(libc::SYS_close_range, first, keep - 1, 0);
        }
        libc::syscall(libc::SYS_close_range, keep.max(first - 1) + 1, u32::MAX, 0);
    }
}

/// Makes the process `command` starts enter the network namespace `ns` before `exec`.
pub(crate) fn enter_before_exec(command: &mut Command, ns: Arc<OwnedFd>) {
    // SAFETY: `setns` is a single system call, async-signal-safe; `ns` stays open as long as the
    // command exists because the closure owns a reference to it.
    unsafe {
        command.pre_exec(move || {
            if libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
    }
}

/// Where [`fork_into_sandbox`] returns.
#[derive(Debug)]
pub(crate) enum Side {
    /// In the caller, with the pid of its child (the sandbox's keeper) to wait for.
    Caller(libc::pid_t),
    /// In the child: `Ok` in the test process of a fresh sandbox, `Err` with the encoded step
    /// (see [`decode_failure`]) if the sandbox could not be made. Either way the child must end
    /// with [`exit_now`] and never return into the caller's code.
    Child(io::Result<()>),
}

/// Forks a child that enters a fresh sandbox with the same steps as a test process of the
/// harness (keeper, init, test), for [`crate::run()`]: the closure then runs in the test process.
///
/// # Safety
///
/// The calling process must have exactly one thread: the child goes on to run arbitrary code,
/// which is sound after `fork` only when no other thread held a lock at the time.
pub(crate) unsafe fn fork_into_sandbox(sandbox: &Sandbox) -> io::Result<Side> {
    // SAFETY: the caller guarantees a single-threaded process, so the child is a full copy.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        // SAFETY: in the child of a fork of a single-threaded process, as `enter` requires.
        0 => Ok(Side::Child(unsafe { sandbox.enter() })),
        child => Ok(Side::Caller(child)),
    }
}

/// Waits for the child `pid` to end and reaps it.
pub(crate) fn reap(pid: libc::pid_t) -> io::Result<ExitStatus> {
    let mut status = 0;
    loop {
        // SAFETY: one valid out-pointer.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Whether the calling process has exactly one thread, as a fork without `exec` requires.
pub(crate) fn single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1)
}

/// Gives a test process forked without `exec` the descriptors a re-executed one has: stdin
/// `/dev/null`, stdout and stderr `output` when the harness captures them, and nothing else of
/// the harness's but `keep`.
pub(crate) fn settle_test_process(output: Option<RawFd>, keep: RawFd) {
    // SAFETY: system calls on descriptors; the objects that owned the closed ones are forgotten
    // by the caller.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if null >= 0 {
            libc::dup2(null, 0);
        }
        if let Some(output) = output {
            libc::dup2(output, 1);
            libc::dup2(output, 2);
        }
        close_from(3, keep);
    }
}

/// Marks every descriptor from 3 on close-on-exec, so that a re-executed test process keeps
/// only stdin, stdout and stderr of what its caller had open (a descriptor some library left
/// without `O_CLOEXEC` would otherwise reach the test). Async-signal-safe: one system call.
pub(crate) fn close_others_on_exec() -> io::Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets a flag on descriptors.
    let done = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Where [`fork_server`] returns.
#[derive(Debug)]
pub(crate) enum ServerSide {
    /// In the caller.
    Caller,
    /// In the server, which holds only stdio and `keep`; it must end with [`exit_now`].
    Server,
}

/// Forks the fork server (see `server.rs`): a child that dies with the calling thread, and keeps
/// of the caller's descriptors only stdin, stdout, stderr and `keep`.
///
/// # Safety
///
/// The calling process must have exactly one thread, as for [`fork_into_sandbox`].
pub(crate) unsafe fn fork_server(keep: RawFd) -> io::Result<ServerSide> {
    // SAFETY: plain system calls; one thread, as the caller guarantees.
    unsafe {
        let parent = libc::getpid();
        match libc::fork() {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                let _ = libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(0);
                }
                close_from(3, keep);
                Ok(ServerSide::Server)
            }
            _server => Ok(ServerSide::Caller),
        }
    }
}

/// A pidfd of the child `pid`: it becomes readable when the child exits (Linux 5.3 and later).
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor is new and owned by no one else.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as RawFd) })
}

/// One message received by [`receive_with_fds`].
#[derive(Debug)]
pub(crate) struct Received {
    /// Bytes of the message in the buffer.
    pub len: usize,
    /// The message did not fit the buffer.
    pub truncated: bool,
    /// The descriptors that came with it, close-on-exec.
    pub fds: Vec<OwnedFd>,
}

/// Receives one message from the `SOCK_SEQPACKET` socket `socket`, with the descriptors sent
/// along (`SCM_RIGHTS`). `Ok(None)` when the other end is closed.
pub(crate) fn receive_with_fds(socket: RawFd, buffer: &mut [u8]) -> io::Result<Option<Received>> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};

    let mut space = nix::cmsg_space!([RawFd; 4]);
    let mut iov = [io::IoSliceMut::new(buffer)];
    let message = loop {
        match recvmsg::<()>(
            socket,
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other.map_err(io::Error::from)?,
        }
    };
    let mut fds = Vec::new();
    for control in message.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(raw) = control {
            // SAFETY: the kernel has just made these descriptors for this process.
            fds.extend(
                raw.into_iter()
                    .map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }),
            );
        }
    }
    if message.bytes == 0 && fds.is_empty() {
        return Ok(None);
    }
    Ok(Some(Received {
        len: message.bytes,
        truncated: message.flags.contains(MsgFlags::MSG_TRUNC),
        fds,
    }))
}

/// Ends the calling process at once, without running exit handlers or destructors (which belong
/// to the process the child was forked from).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is always safe to call; it does not return.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_carry_their_step_and_errno() {
        let error = encode_failure(Step::UidMap, libc::EPERM);
        assert_eq!(decode_failure(&error), Some((Step::UidMap, libc::EPERM)));
        let plain = io::Error::from_raw_os_error(libc::EPERM);
        assert_eq!(decode_failure(&plain), None);
    }
}
