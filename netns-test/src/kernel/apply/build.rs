//! [`apply`]: the steps in order; and the namespaces of a network, with a socket in each.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use super::configure::{configure, shape_links};
use super::links::{Layout, create_links, first_free_index};
use super::ready::{Awaited, Watch, expected_up, wait_until_ready};
use crate::kernel::netfilter;
use crate::kernel::netlink::{self, Socket};
use crate::kernel::netns::{self, Entered};
use crate::kernel::relay::{self, Choice, Direction, Relay, Starting};
use crate::topology::{NatPlan, NodePlan, Place, Plan};
use crate::{Error, Result};

/// The name the hidden namespace of the bridges goes by in errors.
pub(crate) const SWITCHES: &str = "switches";

/// The sysctls that make a node a router, IPv4 then IPv6. `/proc/sys/net` follows the calling
/// thread's network namespace, so they are written with the thread inside the node.
const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";
const IPV6_FORWARDING: &str = "/proc/sys/net/ipv6/conf/all/forwarding";

/// Duplicate address detection for the links made later in the namespace, off. The global
/// addresses are added with `IFA_F_NODAD`, but every interface also makes itself a link-local
/// address when it comes up, and until that one has passed detection (1 to 2 s) the kernel
/// sends no neighbour solicitation for forwarded packets: the first IPv6 packets through a
/// router would be lost. A new link copies its settings from `default`; the kernel obeys the
/// larger of `all` and the link's own, and `all` is 0 in a new namespace.
const IPV6_DEFAULT_ACCEPT_DAD: &str = "/proc/sys/net/ipv6/conf/default/accept_dad";

/// The name the hidden namespace of the relay goes by in errors.
pub(crate) const RELAY: &str = "relay";

/// IPv6 off in the relay's namespace, for the links made there: its ends must send nothing of
/// their own (no link-local address, router solicitation or MLD report). Writing `all` sets
/// `default` too, which the links made later copy.
const IPV6_DISABLE: &str = "/proc/sys/net/ipv6/conf/all/disable_ipv6";

/// The namespaces of a built network.
#[derive(Debug)]
pub(crate) struct Built {
    /// One per [`Plan::nodes`], in the same order. For the `host` node, an fd of the namespace
    /// [`apply`] was called in.
    pub nodes: Vec<OwnedFd>,
    /// The hidden namespace of all the bridges, if the plan has any.
    pub switches: Option<OwnedFd>,
    /// The interface indexes `(a, b)` of the ends of each of [`Plan::veths`].
    pub veths: Vec<(u32, u32)>,
    /// The relay, if any link is relayed (see `kernel/relay`).
    pub relay: Option<Arc<Relay>>,
    /// Per [`Plan::veths`], its number in the relay, if it is relayed.
    pub relayed: Vec<Option<usize>>,
    /// What was asked to carry `delay=` and `loss=`.
    pub impair: Choice,
}

/// Builds the network of `plan` and waits until every link is up.
///
/// Must be called on a thread whose network namespace is the test's `host` namespace, as uid 0
/// of a user namespace that owns it. On return, with `Ok` or not, the thread is still there.
/// On error, whatever was created goes away with the namespace fds, which are dropped.
///
/// `impair` chooses how links with `delay=` or `loss=` get them: the kernel's netem, or the
/// relay (see `kernel/relay`).
pub(crate) fn apply(plan: &Plan, impair: Choice) -> Result<Built> {
    // The relay's namespace is made on the relay's own thread, while this one makes the rest.
    let relay_setup = spawn_relay(plan, impair)?;
    let mut built = create_namespaces(plan)?;
    built.impair = impair;
    if !plan.nodes.iter().any(|node| node.is_host) {
        // The body starts here even when the topology does not name `host`: its loopback works.
        loopback_up_here()?;
    }
    let mut spaces = open_spaces(plan, &built)?;
    if plan.nodes.is_empty() {
        return Ok(built);
    }
    // Taken before waiting for the relay's thread, which may still be making its namespace.
    let first = first_free_index(&mut spaces)?;
    let mut relay_space = match relay_setup {
        Some(setup) => setup.wait(impair)?,
        None => None,
    };
    let relayed: Vec<bool> = (plan.veths.iter())
        .map(|veth| relay_space.is_some() && relay::impairs(&veth.settings))
        .collect();
    let layout = Layout::new(plan, first, &relayed);

    let relay_fd = relay_space.as_ref().map(|space| space.fd.as_fd());
    create_links(plan, &built, &layout, relay_fd, &mut spaces[0].socket)?;
    // The relay's thread binds its sockets to its ends, which exist now, while this one
    // configures the nodes.
    let relay_awaited = match &mut relay_space {
        Some(space) => start_relay(plan, &layout, space)?,
        None => Vec::new(),
    };
    configure(plan, &layout, &mut spaces)?;
    shape_links(plan, &layout, &mut spaces)?;
    built.relayed = if relay_space.is_some() {
        let mut number = 0;
        (layout.relays.iter())
            .map(|ends| {
                ends.map(|_| {
                    number += 1;
                    number - 1
                })
            })
            .collect()
    } else {
        vec![None; plan.veths.len()]
    };
    let mut watches: Vec<Watch<'_>> = (spaces.iter_mut().zip(expected_up(plan, &layout)))
        .map(|(space, awaited)| Watch {
            socket: &mut space.socket,
            space: &space.name,
            awaited,
        })
        .collect();
    if let Some(space) = &mut relay_space {
        watches.push(Watch {
            socket: &mut space.socket,
            space: RELAY,
            awaited: relay_awaited,
        });
    }
    wait_until_ready(&mut watches)?;
    if let Some(space) = relay_space {
        let relay = space.thread.finish(space.fd).map_err(|source| Error::Io {
            what: "cannot start the relay that impairs links (packet sockets in its namespace)"
                .to_string(),
            source,
        })?;
        built.relay = Some(Arc::new(relay));
    }
    built.veths = layout.veths;
    Ok(built)
}

/// The relay's namespace, a socket in it, and its thread, waiting for the links.
struct RelaySpace {
    fd: OwnedFd,
    socket: Socket,
    thread: Starting,
    /// The namespace again, for the relay's thread to enter, if this thread made it.
    hand_over: Option<OwnedFd>,
}

/// The relay's namespace with a socket in it, or `None` if netem impairs the links.
type Made = Result<Option<(OwnedFd, Socket)>>;

/// The relay's thread, about to make its namespace (see [`relay_setup`]).
///
/// Whichever of the two threads comes to it first makes the namespace: the relay's, as soon
/// as it runs, or the building thread, once it has made the nodes' and the relay's has not
/// started yet (on a busy machine a new thread can wait a millisecond or more for a core; the
/// building thread then does the work itself rather than wait, and the relay's thread enters
/// the namespace when it is given its links).
struct RelaySetup {
    thread: Starting,
    /// Set by the first thread to start on the namespace.
    claimed: Arc<AtomicBool>,
    /// What the relay's thread made, or `None` if it found the namespace claimed.
    made: mpsc::Receiver<Option<Made>>,
}

impl RelaySetup {
    /// The relay's namespace, made by its thread or, if that has not started on it yet, here;
    /// `None` if the links go to netem.
    fn wait(self, impair: Choice) -> Result<Option<RelaySpace>> {
        if !self.claimed.swap(true, Ordering::AcqRel) {
            let Some((fd, socket)) = relay_setup_beside(impair)? else {
                return Ok(None);
            };
            let hand_over = fd.try_clone().map_err(|source| Error::Io {
                what: "cannot duplicate the fd of the relay's namespace".to_string(),
                source,
            })?;
            return Ok(Some(RelaySpace {
                fd,
                socket,
                thread: self.thread,
                hand_over: Some(hand_over),
            }));
        }
        let made = self.made.recv().ok().flatten().ok_or_else(|| Error::Io {
            what: "the relay's thread ended before it made the relay's namespace".to_string(),
            source: std::io::Error::other("thread ended"),
        })??;
        Ok(made.map(|(fd, socket)| RelaySpace {
            fd,
            socket,
            thread: self.thread,
            hand_over: None,
        }))
    }
}

/// Starts the relay's thread, making the relay's namespace, if `plan` has a link to impair and
/// `impair` may send it to the relay (not [`Choice::Netem`]).
fn spawn_relay(plan: &Plan, impair: Choice) -> Result<Option<RelaySetup>> {
    if impair == Choice::Netem || !plan.veths.iter().any(|v| relay::impairs(&v.settings)) {
        return Ok(None);
    }
    let claimed = Arc::new(AtomicBool::new(false));
    let thread_claimed = Arc::clone(&claimed);
    let (thread, made) = Starting::spawn(move || {
        (!thread_claimed.swap(true, Ordering::AcqRel)).then(|| relay_setup(impair))
    })
    .map_err(|source| Error::Io {
        what: "cannot start the relay's thread".to_string(),
        source,
    })?;
    Ok(Some(RelaySetup {
        thread,
        claimed,
        made,
    }))
}

/// On the relay's thread: makes the relay's namespace, moves the thread into it for good, and
/// prepares it (see [`prepare`]).
fn relay_setup(impair: Choice) -> Made {
    let fd = netns::create().map_err(|source| Error::CreateNamespace {
        node: RELAY.to_string(),
        source,
    })?;
    netns::enter(fd.as_fd()).map_err(|source| Error::EnterNamespace {
        node: RELAY.to_string(),
        source,
    })?;
    let ready = prepare(impair);
    Ok(ready?.map(|socket| (fd, socket)))
}

/// On the building thread: makes the relay's namespace and prepares it (see [`prepare`]) from
/// inside, then comes back.
fn relay_setup_beside(impair: Choice) -> Made {
    let fd = netns::create().map_err(|source| Error::CreateNamespace {
        node: RELAY.to_string(),
        source,
    })?;
    let entered_error = |source| Error::EnterNamespace {
        node: RELAY.to_string(),
        source,
    };
    let entered = Entered::new(fd.as_fd()).map_err(entered_error)?;
    let ready = prepare(impair);
    entered.leave().map_err(entered_error)?;
    Ok(ready?.map(|socket| (fd, socket)))
}

/// In the relay's new namespace: turns IPv6 off and opens a socket. Returns `None` for
/// [`Choice::Auto`] if the kernel takes a netem qdisc on the namespace's `lo`: then netem
/// impairs the links.
fn prepare(impair: Choice) -> Result<Option<Socket>> {
    let mut socket = Socket::open().map_err(|source| Error::Netlink {
        what: "opening a netlink socket in the relay's namespace".to_string(),
        source,
    })?;
    std::fs::write(IPV6_DISABLE, "1").map_err(|source| Error::Sysctl {
        node: RELAY.to_string(),
        path: Path::new(IPV6_DISABLE).to_path_buf(),
        source,
    })?;
    if impair == Choice::Auto && relay::netem_present(&mut socket)? {
        return Ok(None);
    }
    Ok(Some(socket))
}

/// Sets up the relay's ends that were made down (those facing a bridge port: see
/// `create_relayed`) and has the relay's thread open its sockets on every end; returns the
/// ends to wait for.
fn start_relay(plan: &Plan, layout: &Layout, space: &mut RelaySpace) -> Result<Vec<Awaited>> {
    let mut links = Vec::new();
    let mut settings = Vec::new();
    let mut awaited = Vec::new();
    let mut queued = false;
    for (k, (veth, ends)) in plan.veths.iter().zip(&layout.relays).enumerate() {
        let Some((a, b)) = *ends else {
            continue;
        };
        for (index, side_b, end) in [(a, false, &veth.a), (b, true, &veth.b)] {
            let label = format!("relay end {} of link {}", relay::end_name(k, side_b), k);
            if matches!(end.place, Place::Bridge(_)) {
                space
                    .socket
                    .set_link(netlink::up_message(index), format!("setting {label} up"));
                queued = true;
            }
            awaited.push(Awaited::new(index, label, false));
        }
        links.push((a, b));
        settings.push(Direction::of(&veth.settings));
    }
    if queued {
        space.socket.flush()?;
    }
    space.thread.start(links, settings, space.hand_over.take());
    Ok(awaited)
}

/// Sets `lo` up in the calling thread's namespace.
fn loopback_up_here() -> Result<()> {
    let mut socket = Socket::open().map_err(|source| Error::Netlink {
        what: "opening a netlink socket in the test's own namespace".to_string(),
        source,
    })?;
    socket.set_link(
        netlink::up_message(netlink::LOOPBACK_INDEX),
        "setting `lo` up in the test's own namespace".to_string(),
    );
    socket.flush()
}

/// One namespace of the network with a socket in it: a node, or the switches.
pub(super) struct Space {
    /// For errors and reports: the node's name, or [`SWITCHES`].
    pub(super) name: String,
    pub(super) socket: Socket,
}

fn create_namespaces(plan: &Plan) -> Result<Built> {
    let host = netns::current().map_err(|source| Error::Io {
        what: "cannot open the network namespace of the calling thread".to_string(),
        source: source.into(),
    })?;
    let nodes = plan
        .nodes
        .iter()
        .map(|node| {
            if node.is_host {
                host.try_clone().map_err(|source| Error::Io {
                    what: "cannot duplicate the fd of the host namespace".to_string(),
                    source,
                })
            } else {
                netns::create().map_err(|source| Error::CreateNamespace {
                    node: node.name.clone(),
                    source,
                })
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let switches = if plan.bridges.is_empty() {
        None
    } else {
        Some(netns::create().map_err(|source| Error::CreateNamespace {
            node: SWITCHES.to_string(),
            source,
        })?)
    };
    Ok(Built {
        nodes,
        switches,
        veths: Vec::new(),
        relay: None,
        relayed: Vec::new(),
        impair: Choice::Auto,
    })
}

/// Opens a socket in every namespace (the nodes', then the switches'), and sets the
/// nodes' sysctls (see [`set_sysctls`]) while the thread is inside them anyway.
fn open_spaces(plan: &Plan, built: &Built) -> Result<Vec<Space>> {
    let mut spaces = Vec::with_capacity(plan.nodes.len() + 1);
    for (node, fd) in plan.nodes.iter().zip(&built.nodes) {
        let socket = if node.is_host {
            set_sysctls(node)?;
            Socket::open().map_err(|source| Error::Netlink {
                what: format!("opening a netlink socket in node `{}`", node.name),
                source,
            })?
        } else {
            let index = spaces.len();
            let nat = plan.nats.iter().find(|nat| nat.node == index);
            inside(fd.as_fd(), node, nat)?
        };
        spaces.push(Space {
            name: node.name.clone(),
            socket,
        });
    }
    if let Some(switches) = &built.switches {
        spaces.push(Space {
            name: SWITCHES.to_string(),
            socket: Socket::open_in(switches.as_fd(), SWITCHES)?,
        });
    }
    Ok(spaces)
}

/// With the thread inside `ns` (node `node`): opens a socket there and sets the node's sysctls,
/// and if the node is a NAT, installs its rules (which name interfaces, so they need no link to
/// exist yet). The thread is back on return.
fn inside(ns: BorrowedFd<'_>, node: &NodePlan, nat: Option<&NatPlan>) -> Result<Socket> {
    let entered_error = |source| Error::EnterNamespace {
        node: node.name.clone(),
        source,
    };
    let entered = Entered::new(ns).map_err(entered_error)?;
    let socket = Socket::open().map_err(|source| Error::Netlink {
        what: format!("opening a netlink socket in node `{}`", node.name),
        source,
    });
    let sysctl = set_sysctls(node);
    let rules = nat.map_or(Ok(()), |nat| netfilter::install(nat, node));
    entered.leave().map_err(entered_error)?;
    sysctl?;
    rules?;
    socket
}

/// Sets the node's sysctls in the calling thread's namespace, before its links exist: for a
/// router, forwarding on for each family the node has (IPv4 unless `[ipv4=off]`, IPv6 unless
/// `[ipv6=off]`); with IPv6, no duplicate address detection.
fn set_sysctls(node: &NodePlan) -> Result<()> {
    let ipv6 = node.has_ipv6();
    let sysctls = [
        (IP_FORWARD, "1", node.forwarding && node.has_ipv4()),
        (IPV6_FORWARDING, "1", node.forwarding && ipv6),
        (IPV6_DEFAULT_ACCEPT_DAD, "0", ipv6),
    ];
    for (path, value, wanted) in sysctls {
        if wanted {
            std::fs::write(path, value).map_err(|source| Error::Sysctl {
                node: node.name.clone(),
                path: Path::new(path).to_path_buf(),
                source,
            })?;
        }
    }
    Ok(())
}
