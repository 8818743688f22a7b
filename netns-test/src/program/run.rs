//! [`run`]: a closure in a freshly built network, for programs and doc examples.
//!
//! # Why a fork, and why one thread
//!
//! A network needs the sandbox a test gets (see `sys.rs`): new user, network, mount and PID
//! namespaces. `unshare(CLONE_NEWUSER)` refuses a process with more than one thread, and a new
//! PID namespace applies to the children of the process that made it. So [`run`] forks: the
//! child makes the sandbox with the very steps of a test process (keeper, init, test) and the
//! closure runs in the test process, PID 2 of its namespace. The caller only waits.
//!
//! After a `fork`, only the forking thread exists in the child; anything another thread was
//! holding (the allocator's lock, stdout's) stays held forever. So [`run`] forks only a process
//! that has one thread, reads that from `/proc/self/status`, and otherwise refuses with
//! [`Error::ThreadedCaller`]. Call it from `main` before starting threads (and not from a
//! `#[test]`, which libtest runs on a thread of its own: write a `#[netns_test]` instead).
//!
//! # How the result comes back
//!
//! The closure's value lives in another process, so it travels over a pipe, encoded by the
//! [`Portable`] trait: implemented for `()`, `bool`, integers, `String`, `Option`, `Result`,
//! `Vec` and pairs of such. A panic in the closure comes back as [`Error::Panicked`] with its
//! message; a failure to build the network as [`Error::InSandbox`]; a host that refuses user
//! namespaces as [`Error::Refused`], with the same explanation a test gets.
//!
//! Nothing is left behind: when the closure returns, the child exits, its PID namespace takes
//! every process it started, and the kernel frees the namespaces. The caller's own namespaces,
//! mounts and threads are never touched, so [`run`] may be called again and again.

use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::config::Config;
use crate::dns::Dns;
use crate::error::error_chain;
use crate::program::portable::{AsTopology, Portable};
use crate::sandbox::{self, HostFacts, Sandbox, Side};
use crate::{Error, Net, Result};

/// Builds the network of `topology` in a fresh sandbox, runs `f` in it and returns what `f`
/// returned.
///
/// `f` runs in a child process, in the namespace of the node `host` (the body's namespace in a
/// `#[netns_test]`), and gets the same [`Net`] a test body gets. Its value comes back through
/// [`Portable`].
///
/// ```
/// use std::net::{TcpListener, TcpStream};
///
/// fn main() -> netns_test::Result<()> {
///     let peer = netns_test::run("client -- gateway -- server", |net| {
///         let listener = net.node("server").run(|| TcpListener::bind("0.0.0.0:7000").unwrap());
///         net.node("client").run(|| TcpStream::connect("server:7000").unwrap());
///         let (_, peer) = listener.accept().unwrap();
///         peer.ip().to_string()
///     })?;
///     assert_eq!(peer, "10.0.1.1");
///     Ok(())
/// }
/// ```
///
/// # Errors
///
/// - [`Error::Topology`] for an invalid topology text;
/// - [`Error::InvalidSetting`] if `NETNS_TEST_DNS` holds neither `on` nor `off`;
/// - [`Error::ThreadedCaller`] if the calling process has more than one thread;
/// - [`Error::Refused`] if the host refuses to create user namespaces;
/// - [`Error::InSandbox`] if the network could not be built, or the child ended without an
///   answer (killed, or `f` called `exit`);
/// - [`Error::Panicked`] if `f` panicked.
pub fn run<T, F>(topology: impl AsTopology, f: F) -> Result<T>
where
    T: Portable,
    F: FnOnce(&Net) -> T,
{
    let text = topology.topology_text()?;
    let dns = Config::from_env()
        .dns
        .map_err(|problem| Error::InvalidSetting { problem })?;
    let threads = thread_count()?;
    if threads != 1 {
        return Err(Error::ThreadedCaller { threads });
    }
    let mut f = Some(f);
    // A refused user namespace comes back from the child as the answer `TAG_REFUSED`, which
    // `attempt` turns into the failed step: the sandbox's fallback decides, as for a test,
    // whether real root tries again without one.
    let (answer, status) = sandbox::start_sandboxed(|sandbox| attempt(sandbox, &text, dns, &mut f))
        .map_err(|error| match sandbox::decode_failure(&error) {
            Some((step, errno)) => Error::Refused(sandbox::diagnose(
                step,
                Errno::from_raw(errno),
                &HostFacts::read(),
            )),
            None => Error::Io {
                what: "cannot run the closure in a fresh sandbox".into(),
                source: error,
            },
        })?;
    decode_answer(&answer, status)
}

/// Forks the sandbox's process into `sandbox`, runs the closure there (taking it out of `f`),
/// and returns its answer and how it ended; a sandbox step that failed, as `sys.rs` encodes it.
fn attempt<T, F>(
    sandbox: Sandbox,
    text: &str,
    dns: Dns,
    f: &mut Option<F>,
) -> io::Result<(Vec<u8>, nix::Result<WaitStatus>)>
where
    T: Portable,
    F: FnOnce(&Net) -> T,
{
    let (mut reader, writer) = io::pipe()?;
    // The child gets a copy of stdout's buffer: a partial line left in it would be printed twice.
    let _ = io::stdout().flush();
    // SAFETY: this process has one thread, checked by `run`; no thread can appear in between,
    // since only this thread could start one.
    let side = unsafe { sandbox::fork_into_sandbox(&sandbox) }?;
    let child = match side {
        Side::Child(entered) => {
            drop(reader);
            let f = f
                .take()
                .expect("each attempt forks once, and the child never returns");
            child(entered, text, dns, f, writer)
        }
        Side::Caller(child) => Pid::from_raw(child),
    };
    drop(writer);
    let mut answer = Vec::new();
    // The pipe ends when the test process is gone (keeper and init close their copies).
    let read = reader.read_to_end(&mut answer);
    let status = loop {
        match waitpid(child, None) {
            Err(Errno::EINTR) => continue,
            status => break status,
        }
    };
    read?;
    if let [TAG_REFUSED, data @ ..] = answer.as_slice() {
        let raw = i32::decode(&mut &data[..]).unwrap_or(0);
        return Err(io::Error::from_raw_os_error(raw));
    }
    Ok((answer, status))
}

/// What a child writes back: a tag, then its data.
const TAG_VALUE: u8 = 0;
const TAG_PANIC: u8 = 1;
const TAG_SETUP: u8 = 2;
const TAG_REFUSED: u8 = 3;

/// The child's side: build, run, answer, exit. Never returns.
fn child<T, F>(entered: io::Result<()>, text: &str, dns: Dns, f: F, mut writer: io::PipeWriter) -> !
where
    T: Portable,
    F: FnOnce(&Net) -> T,
{
    let mut answer = Vec::new();
    match entered {
        Err(error) => match error.raw_os_error() {
            Some(raw) if sandbox::decode_failure(&error).is_some() => {
                answer.push(TAG_REFUSED);
                raw.encode(&mut answer);
            }
            _ => {
                answer.push(TAG_SETUP);
                format!("cannot enter a fresh sandbox: {error}").encode(&mut answer);
            }
        },
        Ok(()) => match crate::config::Config::from_env()
            .impair
            .map_err(|problem| Error::InvalidSetting { problem })
            .and_then(|impair| Net::build(text, dns, impair))
        {
            Err(error) => {
                answer.push(TAG_SETUP);
                format!("cannot build the network: {}", error_chain(&error)).encode(&mut answer);
            }
            Ok(net) => match panic::catch_unwind(AssertUnwindSafe(|| f(&net))) {
                Ok(value) => {
                    answer.push(TAG_VALUE);
                    value.encode(&mut answer);
                }
                Err(payload) => {
                    answer.push(TAG_PANIC);
                    crate::error::panic_message(&*payload).encode(&mut answer);
                }
            },
        },
    }
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    let code = match writer.write_all(&answer) {
        Ok(()) => 0,
        Err(_) => 1,
    };
    sandbox::exit_now(code)
}

fn decode_answer<T: Portable>(answer: &[u8], status: nix::Result<WaitStatus>) -> Result<T> {
    let ended = || match status {
        Ok(WaitStatus::Exited(_, code)) => format!("exited with code {code}"),
        Ok(WaitStatus::Signaled(_, signal, _)) => format!("was killed by {signal}"),
        Ok(other) => format!("ended: {other:?}"),
        Err(errno) => format!("could not be waited for: {errno}"),
    };
    let no_answer = || Error::InSandbox {
        what: format!("the sandbox's process {} without an answer", ended()),
    };
    let Some((&tag, mut data)) = answer.split_first() else {
        return Err(no_answer());
    };
    let garbled = || Error::InSandbox {
        what: "the sandbox's answer could not be decoded".into(),
    };
    match tag {
        TAG_VALUE => T::decode(&mut data).ok_or_else(garbled),
        TAG_PANIC => Err(Error::Panicked {
            message: String::decode(&mut data).ok_or_else(garbled)?,
        }),
        TAG_SETUP => Err(Error::InSandbox {
            what: String::decode(&mut data).ok_or_else(garbled)?,
        }),
        _ => Err(garbled()),
    }
}

/// How many threads this process has, from `/proc/self/status`.
fn thread_count() -> Result<usize> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|source| Error::Io {
        what: "cannot read /proc/self/status to count this process's threads".into(),
        source,
    })?;
    let threads = status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok());
    threads.ok_or_else(|| Error::Io {
        what: "cannot count this process's threads".into(),
        source: io::Error::new(io::ErrorKind::InvalidData, "no `Threads:` line"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_decoded() {
        let exited = Ok(WaitStatus::Exited(Pid::from_raw(9), 0));
        let mut answer = vec![TAG_VALUE];
        42_u32.encode(&mut answer);
        assert_eq!(decode_answer::<u32>(&answer, exited).unwrap(), 42);
        let mut answer = vec![TAG_PANIC];
        "boom".to_owned().encode(&mut answer);
        let error = decode_answer::<u32>(&answer, exited).unwrap_err();
        assert_eq!(error.to_string(), "the closure panicked: boom");
        let error = decode_answer::<()>(&[], Ok(WaitStatus::Exited(Pid::from_raw(9), 3)));
        assert_eq!(
            error.unwrap_err().to_string(),
            "in the sandbox: the sandbox's process exited with code 3 without an answer"
        );
    }

    #[test]
    fn a_threaded_caller_is_refused_with_a_reason() {
        // libtest runs this on a thread of its own, so this process has two threads or more.
        let error = run("a -- b", |_| ()).unwrap_err();
        let Error::ThreadedCaller { threads } = error else {
            panic!("{error}");
        };
        assert!(threads >= 2);
        assert!(error.to_string().contains("one thread"), "{error}");
    }

    #[test]
    fn a_bad_topology_is_refused_before_any_fork() {
        let error = run("a -- a", |_| ()).unwrap_err();
        assert!(matches!(error, Error::Topology(_)), "{error}");
    }
}
