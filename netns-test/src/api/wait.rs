//! Waiting until a server listens, or until any condition holds, at most so long: the wait
//! strategies of testcontainers, for nodes.
//!
//! [`Node::wait_for_tcp`] and [`Node::wait_for_udp`] read the node's own socket tables from the
//! kernel (see [`crate::kernel::sockets`]) on a thread inside the node, rather than connecting:
//! a probe connection would be accepted by the server and seen by the test, and UDP has no
//! connection to try. [`Node::wait_until`] and [`Net::wait_until`] poll a closure. Every wait
//! polls often at first (a server that a test just started is usually ready within a few
//! milliseconds), then less often, and never sleeps past its deadline.
//!
//! When time runs out the error, [`Error::WaitTimedOut`], says what was awaited, in which node,
//! and what that node does listen on, which is most often the answer (the wrong port, `127.0.0.1`
//! instead of `0.0.0.0`, or a server that never started).

use std::thread;
use std::time::{Duration, Instant};

use super::{Net, Node};
use crate::kernel::sockets::{self, Protocol};
use crate::{Error, Result};

/// The first pause between two looks, doubled after each look up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const MAX_PAUSE: Duration = Duration::from_millis(20);

impl Node {
    /// Waits until a TCP socket listens on `port` in this node (any address, IPv4 or IPv6), at
    /// most `timeout`.
    ///
    /// ```no_run
    /// # fn body(net: &netns_test::Net) -> netns_test::Result<()> {
    /// use std::time::Duration;
    ///
    /// let server = net.node("server");
    /// let _child = server.command("python3").args(["-m", "http.server", "8000"]).spawn();
    /// server.wait_for_tcp(8000, Duration::from_secs(5))?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::WaitTimedOut`] when no such socket appeared in time, saying what the node
    /// listens on instead.
    pub fn wait_for_tcp(&self, port: u16, timeout: Duration) -> Result<()> {
        self.wait_for_port(Protocol::Tcp, port, timeout)
    }

    /// Waits until a UDP socket is bound to `port` in this node (and not connected), at most
    /// `timeout`.
    ///
    /// # Errors
    ///
    /// [`Error::WaitTimedOut`] as for [`Node::wait_for_tcp`].
    pub fn wait_for_udp(&self, port: u16, timeout: Duration) -> Result<()> {
        self.wait_for_port(Protocol::Udp, port, timeout)
    }

    /// Waits until `condition`, run on a thread inside this node, returns `true`, at most
    /// `timeout`. `what` names what is awaited, for the error: `"the web server answering"`.
    ///
    /// ```no_run
    /// # fn body(net: &netns_test::Net) -> netns_test::Result<()> {
    /// use std::net::TcpStream;
    /// use std::time::Duration;
    ///
    /// net.node("client").wait_until("the server accepting", Duration::from_secs(2), || {
    ///     TcpStream::connect("server:7000").is_ok()
    /// })?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::WaitTimedOut`] when `condition` never returned `true` in time.
    pub fn wait_until<F>(&self, what: &str, timeout: Duration, mut condition: F) -> Result<()>
    where
        F: FnMut() -> bool + Send,
    {
        self.run(|| {
            let started = Instant::now();
            if poll(timeout, &mut condition) {
                return Ok(());
            }
            Err(self.timed_out(what.to_string(), started))
        })
    }

    fn wait_for_port(&self, protocol: Protocol, port: u16, timeout: Duration) -> Result<()> {
        self.run(|| {
            let started = Instant::now();
            let mut failure = None;
            let found = poll(timeout, || match sockets::listening_here() {
                Ok(listening) => listening
                    .iter()
                    .any(|l| l.protocol == protocol && l.addr.port() == port),
                Err(error) => {
                    failure = Some(error);
                    true
                }
            });
            if let Some(source) = failure {
                return Err(Error::Io {
                    what: format!("cannot read the sockets of node `{}`", self.name()),
                    source,
                });
            }
            if found {
                return Ok(());
            }
            Err(self.timed_out(format!("{protocol} port {port} listening"), started))
        })
    }

    /// The error of a wait that gave up, from a thread inside the node.
    fn timed_out(&self, what: String, started: Instant) -> Error {
        let listening = match sockets::listening_here() {
            Ok(listening) => sockets::summary(&listening),
            Err(error) => format!("(unknown: cannot read its sockets: {error})"),
        };
        Error::WaitTimedOut {
            what,
            node: Some(self.name().to_string()),
            waited_ms: millis(started.elapsed()),
            listening: Some(listening),
        }
    }
}

impl Net {
    /// Waits until `condition`, run on the calling thread, returns `true`, at most `timeout`.
    /// `what` names what is awaited, for the error. To wait inside a node, use
    /// [`Node::wait_until`] or [`Node::wait_for_tcp`].
    ///
    /// # Errors
    ///
    /// [`Error::WaitTimedOut`] when `condition` never returned `true` in time.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        condition: impl FnMut() -> bool,
    ) -> Result<()> {
        let started = Instant::now();
        if poll(timeout, condition) {
            return Ok(());
        }
        Err(Error::WaitTimedOut {
            what: what.to_string(),
            node: None,
            waited_ms: millis(started.elapsed()),
            listening: None,
        })
    }
}

/// Calls `condition` until it returns `true` (then `true`) or `timeout` has passed since the
/// call (then `false`, after one last look at the deadline).
fn poll(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        if condition() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
