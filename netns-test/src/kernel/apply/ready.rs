//! Waiting until links are ready: operstate `UP` and, for a bridge port, `forwarding`.
//!
//! A veth that was just set up (or set up again) is not ready at once: the kernel turns its
//! carrier on and then, asynchronously (link watch), its operational state, and a packet sent
//! before that can lose its first ARP request, which is retried only after a second. So building
//! a network and [`Link::up`](crate::Link::up) both return only once every end they touched is
//! ready, through [`wait_until_ready`]: it polls link dumps, starting at 50 µs and doubling up to
//! 2 ms between polls (well under a millisecond in practice), and gives up after
//! [`READY_TIMEOUT`] with an error that names every link still pending and its last state.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use netlink_packet_route::link::{BridgePortState, State};

use super::links::{Layout, describe_end};
use crate::kernel::netlink::{self, Link, Socket};
use crate::topology::{Place, Plan};
use crate::{Error, Result};

/// How long links may take to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// A link that must be ready: operstate `UP` and, for a bridge port, forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Awaited {
    pub(crate) index: u32,
    /// `node `client` eth0`, `switch `lan` port b0p0`.
    pub(crate) label: String,
    /// A bridge port, which must also be in the `forwarding` state.
    pub(crate) port: bool,
    /// What was last seen, for the error: `None` if the link was missing.
    pub(crate) last: Option<Link>,
}

impl Awaited {
    /// Link `index`, called `label` in errors; `port` if it is a bridge port.
    pub(crate) fn new(index: u32, label: String, port: bool) -> Awaited {
        Awaited {
            index,
            label,
            port,
            last: None,
        }
    }

    pub(super) fn is_ready(&self) -> bool {
        self.last.as_ref().is_some_and(|link| {
            link.state == State::Up
                && (!self.port || link.port_state == Some(BridgePortState::Forwarding))
        })
    }
}

/// The links of one namespace to wait for, and a socket in it.
#[derive(Debug)]
pub(crate) struct Watch<'s> {
    pub(crate) socket: &'s mut Socket,
    /// The node whose namespace it is (or the switches'), for errors.
    pub(crate) space: &'s str,
    pub(crate) awaited: Vec<Awaited>,
}

/// Polls link dumps until every awaited link is ready, or [`READY_TIMEOUT`] has passed.
pub(crate) fn wait_until_ready(watches: &mut [Watch<'_>]) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(50);
    loop {
        for watch in watches.iter_mut() {
            if watch.awaited.is_empty() {
                continue;
            }
            let links = watch.socket.links().map_err(|source| Error::Netlink {
                what: format!("listing the links of node `{}`", watch.space),
                source,
            })?;
            watch.awaited.retain_mut(|awaited| {
                awaited.last = links.iter().find(|l| l.index == awaited.index).cloned();
                !awaited.is_ready()
            });
        }
        if watches.iter().all(|watch| watch.awaited.is_empty()) {
            return Ok(());
        }
        let waited = start.elapsed();
        if waited >= READY_TIMEOUT {
            return Err(Error::NotReady {
                waited_ms: waited.as_millis() as u64,
                pending: describe_pending(watches.iter().flat_map(|watch| &watch.awaited)),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(2));
    }
}

/// For each space (nodes, then the switches), the links to wait for: every veth end.
///
/// Not the bridges themselves: a bridge's own operstate follows its carrier through the
/// kernel's link watch, which handles devices like bridges (unlike veths) at most once a second,
/// so in back-to-back runs a bridge can stay `UNKNOWN` for up to a second. Frames cross a
/// bridge from port to port whatever its own operstate (it has no address here); what they need
/// is the ports up and `forwarding`, which is what is awaited. `lo` never reports `UP` (its
/// state is `UNKNOWN`) and needs no wait.
pub(super) fn expected_up(plan: &Plan, layout: &Layout) -> Vec<Vec<Awaited>> {
    let mut expected = vec![Vec::new(); plan.nodes.len() + 1];
    let switches = plan.nodes.len();
    for (veth, &(a, b)) in plan.veths.iter().zip(&layout.veths) {
        for (end, index) in [(&veth.a, a), (&veth.b, b)] {
            let (space, port) = match end.place {
                Place::Node(n) => (n, false),
                Place::Bridge(_) => (switches, true),
            };
            expected[space].push(Awaited::new(index, describe_end(plan, end), port));
        }
    }
    expected
}

/// `node `client` eth0 (LOWERLAYERDOWN), switch `lan` port b0p1 (UP, port learning)`.
pub(super) fn describe_pending<'a>(pending: impl IntoIterator<Item = &'a Awaited>) -> String {
    let mut text = String::new();
    for awaited in pending {
        if !text.is_empty() {
            text.push_str(", ");
        }
        let state = match &awaited.last {
            None => "missing".to_string(),
            Some(link) if awaited.port => {
                let port = match link.port_state {
                    Some(state) => format!("{state:?}").to_lowercase(),
                    None => "not in a bridge".to_string(),
                };
                format!("{}, port {port}", netlink::state_name(link.state))
            }
            Some(link) => netlink::state_name(link.state),
        };
        let _ = write!(text, "{} ({state})", awaited.label);
    }
    text
}
