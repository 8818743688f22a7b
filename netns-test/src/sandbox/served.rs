//! The harness's side of the fork server (`server.rs`): ask it for a sandboxed test process,
//! then watch that process as if it were a child of the harness.
//!
//! One request is one message on the server's socket: the test's name, whether its output is
//! captured, its time limit and whether the sandbox has a user namespace, with three
//! descriptors made by the harness (the server keeps none of them past the fork):
//!
//! - a *channel* (one end of a socket pair): the server writes the keeper's wait status on it
//!   when it has reaped the keeper; the harness writes [`KILL`] on it to have the sandbox killed,
//!   and closing it has the same effect (the harness gave up on the test);
//! - a *report* pipe: the test process writes `0` on it once it is in its sandbox, or the child
//!   writes the encoded errno of the sandbox step that failed, exactly as `preforked.rs` reads
//!   it, so that a refusal becomes the same [`Refusal`](super::Refusal);
//! - the write end of the *output* pipe, when capturing: the test process's stdout and stderr.
//!
//! The keeper is a child of the server, not of the harness, so only the server may wait for
//! it and kill it: it does both on one thread, which is what keeps a kill from ever reaching a
//! process that took a reaped keeper's pid (`watch.rs` gets the same from `WNOWAIT`).

use std::io::{self, IoSlice, PipeReader, Read as _, Write as _};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};

use super::spawn::{Ended, ended, spawn_error};
use super::sys::Sandbox;
use super::watch::{self, Keeper};
use super::{describe_status, fallback};

/// Request flag: the harness captures the test's output (a third descriptor comes with it).
pub(super) const CAPTURE: u8 = 1;
/// Request flag: the sandbox has a user namespace (see `fallback.rs`).
pub(super) const USER_NAMESPACE: u8 = 2;
/// The time limit of a test that has none.
pub(super) const NO_LIMIT: u64 = u64::MAX;
/// The byte the harness writes on a test's channel to have its sandbox killed.
pub(super) const KILL: u8 = b'k';
/// Bytes of a request before the test's name: the flags, then the limit in microseconds.
pub(super) const HEADER: usize = 9;

/// The harness's handle on its fork server. Dropping it closes the socket, and the server then
/// kills what it still runs and exits; it dies with the harness in any case.
#[derive(Debug)]
pub(crate) struct ForkServer {
    pub(super) socket: OwnedFd,
}

/// The server could not be reached: it is gone, and the harness re-executes instead.
#[derive(Debug)]
struct Unreachable(nix::errno::Errno);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the fork server cannot be reached: {}", self.0.desc())
    }
}

impl std::error::Error for Unreachable {}

impl ForkServer {
    /// Runs test `name` in a sandbox that the server forks, and waits for it as
    /// `spawn::run_test` does. `Err(why)` when the server cannot be reached (it died): the
    /// caller then re-executes, and says so.
    pub(crate) fn run_test(
        &self,
        name: &str,
        capture: bool,
        timeout: Option<Duration>,
        keep: bool,
    ) -> Result<crate::Result<Ended>, String> {
        let started =
            fallback::start_sandboxed(|sandbox| self.start(name, capture, timeout, &sandbox));
        let (served, output) = match started {
            Ok(started) => started,
            Err(error) => {
                if let Some(unreachable) = error
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<Unreachable>())
                {
                    return Err(unreachable.to_string());
                }
                return Ok(Err(spawn_error(error)));
            }
        };
        let finished =
            watch::watch(Keeper::Served(served), output, timeout, keep).map_err(|source| {
                crate::Error::Io {
                    what: "cannot wait for the test process".into(),
                    source,
                }
            });
        Ok(finished.map(ended))
    }

    /// Sends the request and waits until the test process is in its sandbox.
    fn start(
        &self,
        name: &str,
        capture: bool,
        timeout: Option<Duration>,
        sandbox: &Sandbox,
    ) -> io::Result<(Arc<Served>, Option<PipeReader>)> {
        let (channel, server_end) = UnixStream::pair()?;
        let (mut report_read, report_write) = io::pipe()?;
        let output = if capture { Some(io::pipe()?) } else { None };
        let mut flags = 0;
        if capture {
            flags |= CAPTURE;
        }
        if sandbox.has_user_namespace() {
            flags |= USER_NAMESPACE;
        }
        let limit = timeout.map_or(NO_LIMIT, |limit| {
            u64::try_from(limit.as_micros()).unwrap_or(NO_LIMIT - 1)
        });
        let mut request = Vec::with_capacity(HEADER + name.len());
        request.push(flags);
        request.extend_from_slice(&limit.to_le_bytes());
        request.extend_from_slice(name.as_bytes());
        let mut fds = vec![server_end.as_raw_fd(), report_write.as_raw_fd()];
        if let Some((_, writer)) = &output {
            fds.push(writer.as_raw_fd());
        }
        sendmsg::<()>(
            self.socket.as_raw_fd(),
            &[IoSlice::new(&request)],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
        .map_err(|errno| io::Error::other(Unreachable(errno)))?;
        // Our copies of the write ends go, or the reads below would never see their end.
        drop((server_end, report_write));
        let output = output.map(|(reader, _writer)| reader);
        let served = Arc::new(Served {
            channel,
            status: Mutex::new(None),
        });
        let mut raw = [0u8; 4];
        match report_read.read_exact(&mut raw) {
            Ok(()) if i32::from_ne_bytes(raw) == 0 => Ok((served, output)),
            Ok(()) => {
                let _ = served.reap();
                Err(io::Error::from_raw_os_error(i32::from_ne_bytes(raw)))
            }
            Err(_) => {
                let status = served.reap()?;
                Err(io::Error::other(format!(
                    "the sandbox ended before its test process started: {}",
                    describe_status(status)
                )))
            }
        }
    }
}

/// A keeper that the fork server made: waited for, killed and reaped through its channel.
#[derive(Debug)]
pub(crate) struct Served {
    channel: UnixStream,
    /// The keeper's wait status once the server has sent it; `Some(None)` if the server ended
    /// first.
    status: Mutex<Option<Option<i32>>>,
}

impl Served {
    /// Blocks until the server says the keeper has ended (or the server is gone).
    pub(super) fn wait_ended(&self) {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if status.is_none() {
            let mut raw = [0u8; 4];
            let read = (&self.channel).read_exact(&mut raw);
            *status = Some(read.ok().map(|()| i32::from_ne_bytes(raw)));
        }
    }

    /// Has the server kill the sandbox. It does nothing once the keeper is reaped.
    pub(super) fn kill(&self) {
        let _ = (&self.channel).write_all(&[KILL]);
    }

    /// The keeper's wait status, once it has ended.
    pub(super) fn reap(&self) -> io::Result<ExitStatus> {
        self.wait_ended();
        let status = *self.status.lock().unwrap_or_else(PoisonError::into_inner);
        match status.flatten() {
            Some(status) => Ok(ExitStatus::from_raw(status)),
            None => Err(io::Error::other(
                "the fork server ended before the test process did (was it killed?)",
            )),
        }
    }
}
