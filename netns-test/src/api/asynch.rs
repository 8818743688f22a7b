//! Async code in a node: one current-thread tokio runtime per node, on a thread inside it.
//!
//! # Why a runtime per node, on its own thread
//!
//! A socket belongs to the network namespace of the thread that creates it, for good. A
//! multi-thread runtime shared by several nodes would put each socket in whichever namespace its
//! worker happens to be in. So each node gets its own current-thread runtime, built on a thread
//! that entered the node first: every task it runs, and every socket those tasks open, is in the
//! node. The thread is started by the node's first async use (building the runtime costs about
//! 50 µs) and runs the runtime's I/O and timers until the test ends: a task spawned with
//! [`Node::spawn_async`] (a server, say) keeps running after the call that started it returns.
//!
//! # Why `block_on` polls on the caller's thread
//!
//! [`Node::block_on`] moves the calling thread into the node for the call and polls the future
//! there through the runtime's handle, while the runtime's own thread drives the I/O. So the
//! future may borrow from the caller and need not be `Send`, and the sockets it opens are in the
//! node; tokio objects it returns (a listener) stay usable in later calls on the same node,
//! since they belong to the node's one runtime.

use std::ffi::OsStr;
use std::fmt;
use std::future::Future;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::thread;

use tokio::runtime::{Builder, Handle};
use tokio::task::{JoinError, JoinHandle};

use super::net::enter_error;
use crate::Node;
use crate::kernel::netns;

impl Node {
    /// Runs `future` to its end inside this node, on the node's tokio runtime, and returns its
    /// output. Sockets it opens belong to this node; tasks it spawns with `tokio::spawn` run on
    /// the node's runtime, inside the node too. The future may borrow from the caller.
    ///
    /// # Panics
    ///
    /// When called from async code (inside a runtime), as tokio's own `block_on` does: there,
    /// `.await` a [`Node::spawn_async`] instead. A panic in `future` goes on in the caller.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if Handle::try_current().is_ok() {
            panic!(
                "`Node::block_on` cannot run inside async code (it would block a runtime's \
                 thread): `.await` `node.spawn_async(future)` there instead"
            );
        }
        let handle = self.runtime_handle();
        let _inside = self.visit();
        handle.block_on(future)
    }

    /// Starts `future` as a task on this node's runtime, inside the node, and returns at once.
    /// The task runs until it completes or the test ends; `.await` the returned [`AsyncTask`]
    /// from async code or [`AsyncTask::join`] it from sync code to get its output.
    ///
    /// A panic in the task goes on in whoever awaits or joins it. If nothing has when the test
    /// body ends (the task was dropped, or kept and never awaited), the test fails with that
    /// panic all the same: a server task that panicked is never a silent pass.
    pub fn spawn_async<F>(&self, future: F) -> AsyncTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = self.runtime_handle();
        let id = NEXT_TASK.fetch_add(1, Ordering::Relaxed);
        let watched = Watched {
            future: Box::pin(future),
            id,
            node: self.name().to_owned(),
        };
        AsyncTask {
            task: handle.spawn(watched),
            runtime: handle.clone(),
            id,
        }
    }

    /// A [`tokio::process::Command`] whose process runs inside this node; the async
    /// counterpart of [`Node::command`]. It is killed when the test ends. Spawn it from async
    /// code (any runtime of the test).
    pub fn tokio_command(&self, program: impl AsRef<OsStr>) -> tokio::process::Command {
        tokio::process::Command::from(self.command(program))
    }

    /// The node's runtime, started on first use.
    fn runtime_handle(&self) -> &Handle {
        self.runtime
            .get_or_init(|| start_runtime(self.name(), Arc::clone(&self.ns)))
    }
}

/// Starts the thread that enters node `name` and runs its runtime until the test ends.
fn start_runtime(name: &str, ns: Arc<OwnedFd>) -> Handle {
    let (sender, receiver) = mpsc::channel();
    let node = name.to_string();
    thread::Builder::new()
        .name(format!("{name}-tokio"))
        .spawn(move || {
            let built = netns::enter(ns.as_fd())
                .map_err(|source| enter_error(&node, source))
                .and_then(|()| {
                    Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| {
                            format!("cannot build the tokio runtime of node `{node}`: {e}")
                        })
                });
            match built {
                Ok(runtime) => {
                    let _ = sender.send(Ok(runtime.handle().clone()));
                    // Drives I/O and timers for every task and `block_on` of the node.
                    runtime.block_on(std::future::pending::<()>());
                }
                Err(message) => {
                    let _ = sender.send(Err(message));
                }
            }
        })
        .expect("cannot start the thread of a node's tokio runtime");
    match receiver.recv() {
        Ok(Ok(handle)) => handle,
        Ok(Err(message)) => panic!("{message}"),
        Err(_) => panic!("the tokio runtime of node `{name}` did not start"),
    }
}

/// A task started by [`Node::spawn_async`]. `.await` it, or [`join`](AsyncTask::join) it from
/// sync code, for the task's output; a panic in the task goes on in whoever awaits or joins it.
/// Dropping it lets the task run on.
pub struct AsyncTask<T> {
    task: JoinHandle<T>,
    runtime: Handle,
    /// Its number among the tasks of the test, to find its panic in [`UNSEEN`].
    id: u64,
}

impl<T> AsyncTask<T> {
    /// Waits for the task and returns its output.
    ///
    /// # Panics
    ///
    /// When the task panicked (with its panic) or was aborted, and when called from async code
    /// (`.await` the task there).
    #[track_caller]
    pub fn join(self) -> T {
        if Handle::try_current().is_ok() {
            panic!(
                "`AsyncTask::join` cannot run inside async code (it would block a runtime's \
                 thread): `.await` the task there instead"
            );
        }
        outcome(self.id, self.runtime.block_on(self.task))
    }

    /// Asks the task to stop at its next `.await`.
    pub fn abort(&self) {
        self.task.abort();
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl<T> Future for AsyncTask<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let id = self.id;
        Pin::new(&mut self.task)
            .poll(cx)
            .map(|result| outcome(id, result))
    }
}

impl<T> fmt::Debug for AsyncTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncTask")
            .field("finished", &self.task.is_finished())
            .finish()
    }
}

/// The output of task `id`, or its panic going on in the caller, who has now seen it.
fn outcome<T>(id: u64, result: Result<T, JoinError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) if error.is_panic() => {
            unseen().retain(|panic| panic.task != id);
            panic::resume_unwind(error.into_panic())
        }
        Err(_) => panic!("the task was aborted before it finished"),
    }
}

/// The number of the next task started by [`Node::spawn_async`].
static NEXT_TASK: AtomicU64 = AtomicU64::new(0);

/// Panics of tasks started by [`Node::spawn_async`] that no `.await` or `join` has taken yet.
/// The harness fails a test that ends with one here (see [`unseen_panic`]).
static UNSEEN: Mutex<Vec<UnseenPanic>> = Mutex::new(Vec::new());

#[derive(Debug)]
struct UnseenPanic {
    task: u64,
    node: String,
    message: String,
}

fn unseen() -> MutexGuard<'static, Vec<UnseenPanic>> {
    UNSEEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What to fail the test with if a task started by [`Node::spawn_async`] panicked and nothing
/// awaited or joined it, naming the node and the first such panic.
pub(crate) fn unseen_panic() -> Option<String> {
    let unseen = unseen();
    let first = unseen.first()?;
    let more = match unseen.len() {
        1 => String::new(),
        n => format!(" ({} more tasks panicked too)", n - 1),
    };
    Some(format!(
        "a task started with `spawn_async` in node `{}` panicked, and nothing awaited or \
         joined it: {}{more}",
        first.node, first.message
    ))
}

/// A task's future, which notes its panic in [`UNSEEN`] before tokio takes the panic into the
/// task's `JoinHandle` (where it stays if nothing awaits the task).
struct Watched<F> {
    future: Pin<Box<F>>,
    id: u64,
    node: String,
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let polled = panic::catch_unwind(AssertUnwindSafe(|| self.future.as_mut().poll(cx)));
        polled.unwrap_or_else(|payload| {
            unseen().push(UnseenPanic {
                task: self.id,
                node: self.node.clone(),
                message: crate::error::panic_message(&*payload),
            });
            panic::resume_unwind(payload)
        })
    }
}
