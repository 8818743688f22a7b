//! Where the body of a test runs: in `host`, or in the node its `node = "..."` names; on the
//! test's thread, or, for an `async fn`, as a future on a tokio runtime.
//!
//! A sync body with a node runs on the test's own thread, moved into the node for the call and
//! back after it (even when it panics): no `Send` bound on what the body holds or returns, and
//! `/proc/net` (which shows the thread-group leader's namespace) shows the node. An async body
//! runs on the calling thread too, through [`crate::Node::block_on`] for a node, or on a runtime
//! built on the calling thread for `host`.

use std::future::Future;

use crate::Net;
use crate::Node;

/// The node called `name`, or `None` for `host` when the topology does not name it (the body
/// is then where it already is).
fn placed<'n>(net: &'n Net, name: &str) -> Option<&'n Node> {
    if name == crate::topology::HOST && !net.nodes().iter().any(|node| node.name() == name) {
        return None;
    }
    Some(net.node(name))
}

/// Runs a sync body in node `name`.
pub fn run_in<T>(net: &Net, name: &str, body: impl FnOnce() -> T) -> T {
    let Some(node) = placed(net, name) else {
        return body();
    };
    let _inside = node.visit();
    body()
}

/// Runs an async body to its end, in node `name` or in `host`.
#[cfg(feature = "tokio")]
pub fn block_on<F: Future>(net: &Net, name: Option<&str>, body: F) -> F::Output {
    match name.and_then(|name| placed(net, name)) {
        Some(node) => node.block_on(body),
        None => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cannot build a tokio runtime for the test body");
            HostRuntime(Some(runtime)).block_on(body)
        }
    }
}

/// The runtime of an async body in `host`. Dropping a tokio runtime waits for the blocking tasks
/// it started; a body that left one stuck (reading a socket that never answers) must not hold
/// the test's end, even when the body panics: so it is shut down without waiting.
#[cfg(feature = "tokio")]
struct HostRuntime(Option<tokio::runtime::Runtime>);

#[cfg(feature = "tokio")]
impl HostRuntime {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0
            .as_ref()
            .expect("the runtime is there until drop")
            .block_on(future)
    }
}

#[cfg(feature = "tokio")]
impl Drop for HostRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Without the `tokio` feature an async body cannot run; this bound says so at compile time.
#[cfg(not(feature = "tokio"))]
#[diagnostic::on_unimplemented(
    message = "an `async fn` test needs the `tokio` feature of netns-test",
    label = "this async body needs a runtime",
    note = "enable it: `netns-test = {{ version = \"0.1\", features = [\"tokio\"] }}`"
)]
pub trait NeedsTokioFeature {}

/// Runs an async body: impossible without the `tokio` feature (see `NeedsTokioFeature`).
#[cfg(not(feature = "tokio"))]
pub fn block_on<F: Future + NeedsTokioFeature>(_: &Net, _: Option<&str>, _: F) -> F::Output {
    unreachable!("no future implements `NeedsTokioFeature`")
}
