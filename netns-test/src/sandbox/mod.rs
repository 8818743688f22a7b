//! The sandbox: a process of its own for each test, in fresh user, network, mount and PID
//! namespaces, and the host's refusal to make one explained.
//!
//! This component owns every `fork` of the crate and the only `unsafe` process plumbing
//! (`sys.rs`: the code between `fork` and `exec`, and its reasons). Around it:
//!
//! - `server.rs`: the fork server, forked at the top of `main`, which forks each test's
//!   sandbox without `exec` when many tests run in one process (`cargo test`);
//! - `served.rs`: the harness's side of it: the request, and watching a keeper the server made;
//! - `preforked.rs`: a test run alone, in a sandbox forked without `exec` from the top of
//!   `main` (under cargo-nextest, every test): why that is safe, and when it is not done;
//! - `spawn.rs`: start a test process in a sandbox by re-executing the binary (libtest's own
//!   harness, `__NETNS_TEST_REEXEC=1`, and the fallback when the server cannot serve);
//! - `watch.rs`: waiting with a time limit, and killing a sandbox past it;
//! - `fallback.rs`: real root on a host that refuses user namespaces, decided in one place;
//! - `refusal.rs`: why the host refused, with the setting and the fix ([`Refusal`]);
//! - `probe.rs`: asking the host without running a test ([`probe_sandbox`]).
//!
//! It knows nothing of networks or of tests' bodies: it never calls into the harness, the
//! kernel plumbing or the test API. What it is told (the test's name, a time limit, whether the
//! user keeps a failed test, and for the fork server the function that runs a test by name)
//! comes from the harness as parameters.
//!
//! # Three ways to start a test process, one sandbox
//!
//! `unshare(CLONE_NEWUSER)` refuses a process with more than one thread, and a harness has
//! several (libtest-mimic's workers, the watch threads). So the sandbox is always made in a
//! fresh, single-threaded child: the *keeper*, then *init* and the *test process* (`sys.rs`).
//! What differs is where that child comes from:
//!
//! | run | the child is forked by | then |
//! |---|---|---|
//! | one test per process (cargo-nextest's `--exact NAME`) | the harness, at the top of `main` (`preforked.rs`) | runs the test |
//! | many tests in one process (`cargo test`) | the fork server (`server.rs`) | runs the test |
//! | libtest's harness, `__NETNS_TEST_REEXEC=1`, or no server | a harness thread (`spawn.rs`) | `exec`s the binary again |
//!
//! Re-executing costs a second `execve`, the loader's relocations and Rust's start-up, per test:
//! more than the network of a small test costs here (`cargo xtask bench` prints both).
//!
//! # The fork server
//!
//! ```text
//! harness main ─fork (one thread, nothing run)─> fork server (one thread, forever)
//!   worker thread ──request: name, limit, flags + channel, report, output fds──>│
//!                                                         fork ──> keeper ─> init ─> test
//!   worker thread <──report pipe: "in the sandbox" (or the failed step's errno)── test
//!   worker thread <──output pipe: stdout and stderr──────────────────────────── test
//!   worker thread <──channel: the keeper's wait status────── server (reaped it, via pidfd)
//!   worker thread ──channel: kill, or close (gave up)──> server kills init, as `watch.rs` would
//! ```
//!
//! The harness forks the server first thing in `main`, after reading its settings and command
//! line and before libtest-mimic starts a thread. The server keeps of the harness's descriptors
//! stdio and its socket only, dies with the harness (`PR_SET_PDEATHSIG`) and runs one `poll`
//! loop on one thread. Each request comes with descriptors the harness made: the server forks,
//! drops its copies, and the child enters the sandbox with the same `Sandbox::enter` as between
//! fork and exec. The keeper is the server's child, so the server alone waits for it, kills it
//! when asked and reaps it, all on its one thread: a kill can never reach a reaped keeper's pid.
//! In the harness the served keeper is watched by `watch.rs` like a child of its own, so time
//! limits, capture, `--nocapture` (the test inherits the server's stdout and stderr, which are
//! the harness's), keep-on-failure and artifacts are unchanged. A server that cannot start (no
//! pidfds, a thread already running at the top of `main`) or that dies during the run is said
//! on stderr, and the tests re-execute.
//!
//! # Why fork without exec is safe here
//!
//! The danger of a fork without `exec` is what the child inherits: locks held by threads it
//! lacks, state the parent built up, descriptors the parent had open. Each is ruled out:
//!
//! - **No thread, so no lock held.** The server is forked when `/proc/self/task` lists one
//!   thread, and never starts one: it only polls, reads, forks and reaps. Every test process is
//!   a fork of a single-threaded process, which may run any code, allocator and stdio included.
//! - **No state of the harness, none of another test.** The server is a copy of the harness
//!   before any test ran: no runtime, socket, thread or mutated static exists yet, and the
//!   server itself runs no test code. Each test process is a fresh fork of that untouched
//!   server, so what a test changes (a static, a thread-local, a tokio runtime, the heap) dies
//!   with its process, and the next test is forked from the pristine copy again. Nothing
//!   travels back but the exit status and the output, as with a re-executed test.
//! - **No descriptor of the harness.** The server closes everything but stdio and its socket
//!   when it starts; the test process sets stdin to `/dev/null`, puts its output pipe on stdout
//!   and stderr, and closes every other descriptor (the server's socket, other tests' channels
//!   and pidfds) before it runs anything. The re-executed path gives the same: every descriptor
//!   from 3 on is marked close-on-exec before its `exec`, so nothing a caller left open without
//!   `O_CLOEXEC` reaches a test either.
//! - **The same sandbox and the same endings.** Keeper, init, test process, the parent-death
//!   signals, the refusals and the fallback for real root are those of the re-executed path;
//!   only the `exec` is missing. Environment variables the harness would have passed
//!   (the test's name, its limit) are arguments instead, so the test's programs never see them.
//!
//! `tests/isolation.rs` checks each of these (descriptors, threads, statics, thread-locals,
//! runtimes, the server's own threads and descriptors), under the server, alone and
//! re-executed, and the leak audit (`tests/leaks.rs`) runs unchanged on top of the server.
//! What it does not buy: the kernel's cost of the namespaces themselves and their teardown,
//! which is the floor that `cargo xtask bench` prints beside the tests.

mod fallback;
mod preforked;
mod probe;
mod refusal;
mod served;
mod server;
mod spawn;
mod sys;
mod watch;

pub(crate) use fallback::start_sandboxed;
pub(crate) use preforked::{Forked, Waiting, fork_test};
pub use probe::{SandboxSupport, probe_sandbox};
pub use refusal::Refusal;
pub(crate) use refusal::{HostFacts, diagnose};
pub(crate) use served::ForkServer;
pub(crate) use server::start_fork_server;
pub(crate) use spawn::{describe_status, run_test};
pub(crate) use sys::{
    Sandbox, Side, decode_failure, enter_before_exec, exit_now, fork_into_sandbox,
};
pub(crate) use watch::TIMED_OUT;
