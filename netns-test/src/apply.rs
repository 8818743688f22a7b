//! Applying a [`Plan`]: namespaces, links, addresses, routes and forwarding, by netlink, then
//! waiting until every link is up.
//!
//! Applying decides nothing: every name, address and route comes from the plan. What this module
//! does decide is *how* to build it cheaply, because it runs before every test:
//!
//! - **One request per veth pair, both ends placed.** A veth is created with each end directly
//!   in its namespace (`IFLA_NET_NS_FD` on both), its main end up and, for a bridge port,
//!   already enslaved (`IFLA_MASTER`); the peer end is set up by its own namespace's batch (the
//!   kernel cannot open it in the creating request). Moving a link between namespaces costs 15
//!   to 31 ms and deleting one about 16 ms, so links are never moved nor deleted: dropping the
//!   namespace fds is the whole teardown.
//! - **Interface indexes chosen here.** Every link is created with an `ifindex` picked by this
//!   module, unique across all the namespaces of the network and above every index already in
//!   use in any of them. Addresses and bridge ports can then refer to links without any lookup,
//!   and the creation requests can all go from one socket: before creating a link, older
//!   kernels look the requested index (or, without one, the name) up in the *sender's*
//!   namespace and newer ones in the target namespace; a unique index is free in both.
//! - **Batches.** All links are created with one `send` (in chunks, see [`crate::netlink`]),
//!   then each namespace gets one batch: `lo` and the peer ends up, addresses, routes.
//! - **Waiting for `UP`.** A veth that was just set up is not ready at once: the kernel turns its
//!   carrier on and then, asynchronously (link watch), its operational state. A packet sent
//!   before that can lose its first ARP request, which is retried only after a second. So
//!   [`apply`] returns only once every veth end reports operstate `UP`, and every bridge port is
//!   also `forwarding`, polling link dumps (well under a millisecond in practice); it gives up
//!   after [`READY_TIMEOUT`]. Bridges themselves are not waited for (see [`expected_up`]).

use std::fmt::Write as _;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use netlink_packet_route::link::{BridgePortState, State};

use crate::netlink::{self, Link, Socket, VethSpec};
use crate::netns::{self, Entered};
use crate::qdisc::Shape;
use crate::topology::{NodePlan, Place, Plan, VethEnd, VethPlan};
use crate::{Error, Result};

/// How long the links may take to report `UP`.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

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
}

/// Builds the network of `plan` and waits until every link is up.
///
/// Must be called on a thread whose network namespace is the test's `host` namespace, as uid 0
/// of a user namespace that owns it. On return, with `Ok` or not, the thread is still there.
/// On error, whatever was created goes away with the namespace fds, which are dropped.
pub(crate) fn apply(plan: &Plan) -> Result<Built> {
    let mut built = create_namespaces(plan)?;
    if !plan.nodes.iter().any(|node| node.is_host) {
        // The body starts here even when the topology does not name `host`: its loopback works.
        loopback_up_here()?;
    }
    let mut spaces = open_spaces(plan, &built)?;
    if plan.nodes.is_empty() {
        return Ok(built);
    }
    let layout = Layout::new(plan, first_free_index(&mut spaces)?);

    create_links(plan, &built, &layout, &mut spaces[0].socket)?;
    configure(plan, &layout, &mut spaces)?;
    shape_links(plan, &layout, &mut spaces)?;
    wait_until_up(&mut spaces, expected_up(plan, &layout))?;
    built.veths = layout.veths;
    Ok(built)
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
struct Space {
    /// For errors and reports: the node's name, or [`SWITCHES`].
    name: String,
    socket: Socket,
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
            inside(fd.as_fd(), node)?
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

/// With the thread inside `ns` (node `node`): opens a socket there and sets the node's sysctls.
/// The thread is back on return.
fn inside(ns: BorrowedFd<'_>, node: &NodePlan) -> Result<Socket> {
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
    entered.leave().map_err(entered_error)?;
    sysctl?;
    socket
}

/// Sets the node's sysctls in the calling thread's namespace, before its links exist: for a
/// router, forwarding on (IPv4, and IPv6 if the node has it); with IPv6, no duplicate address
/// detection.
fn set_sysctls(node: &NodePlan) -> Result<()> {
    let ipv6 = node.interfaces.iter().any(|i| i.ipv6.is_some());
    let sysctls = [
        (IP_FORWARD, "1", node.forwarding),
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

/// The lowest interface index above every index in use in any of the namespaces.
fn first_free_index(spaces: &mut [Space]) -> Result<u32> {
    let mut highest = netlink::LOOPBACK_INDEX;
    for space in spaces {
        let links = space.socket.links().map_err(|source| Error::Netlink {
            what: format!("listing the links of node `{}`", space.name),
            source,
        })?;
        highest = links.iter().map(|link| link.index).fold(highest, u32::max);
    }
    Ok(highest + 1)
}

/// The interface index of every link of the plan.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    /// One per [`Plan::bridges`].
    bridges: Vec<u32>,
    /// One `(a, b)` per [`Plan::veths`].
    veths: Vec<(u32, u32)>,
}

impl Layout {
    /// Numbers the bridges, then both ends of each veth in order, from `first`.
    fn new(plan: &Plan, first: u32) -> Layout {
        let bridges: Vec<u32> = (0..plan.bridges.len() as u32).map(|i| first + i).collect();
        let after = first + bridges.len() as u32;
        let veths = (0..plan.veths.len() as u32)
            .map(|i| (after + 2 * i, after + 2 * i + 1))
            .collect();
        Layout { bridges, veths }
    }

    /// The index of interface `ifname` of node `node`.
    fn interface(&self, plan: &Plan, node: usize, ifname: &str) -> Option<u32> {
        plan.veths
            .iter()
            .zip(&self.veths)
            .find_map(|(veth, &(a, b))| {
                let is = |end: &VethEnd| end.place == Place::Node(node) && end.ifname == ifname;
                if is(&veth.a) {
                    Some(a)
                } else if is(&veth.b) {
                    Some(b)
                } else {
                    None
                }
            })
    }
}

/// The end of `veth` created as the main link, then its peer: a bridge port when there is one,
/// since only the main link can be enslaved in the creating request; else `a`. The `bool` says
/// whether `b` is the main end.
fn main_and_peer(veth: &VethPlan) -> (&VethEnd, &VethEnd, bool) {
    match (&veth.a.place, &veth.b.place) {
        (Place::Node(_), Place::Bridge(_)) => (&veth.b, &veth.a, true),
        _ => (&veth.a, &veth.b, false),
    }
}

/// `node `client` eth0` or `switch `lan` port b0p1`.
fn describe_end(plan: &Plan, end: &VethEnd) -> String {
    match end.place {
        Place::Node(n) => format!("node `{}` {}", plan.nodes[n].name, end.ifname),
        Place::Bridge(n) => format!("switch `{}` port {}", plan.bridges[n].switch, end.ifname),
    }
}

/// The namespace of one end of a veth.
fn namespace_of<'a>(built: &'a Built, place: &Place) -> BorrowedFd<'a> {
    match place {
        Place::Node(n) => built.nodes[*n].as_fd(),
        Place::Bridge(_) => built
            .switches
            .as_ref()
            .expect("a plan with bridge ports has bridges")
            .as_fd(),
    }
}

/// Creates every bridge and veth pair, from one socket, in one batch.
fn create_links(plan: &Plan, built: &Built, layout: &Layout, socket: &mut Socket) -> Result<()> {
    for (bridge, &index) in plan.bridges.iter().zip(&layout.bridges) {
        let switches = namespace_of(built, &Place::Bridge(0));
        socket.create_link(
            netlink::bridge_message(&bridge.ifname, index, switches),
            "bridge",
            format!(
                "creating bridge {} of switch `{}`",
                bridge.ifname, bridge.switch
            ),
        );
    }
    for (veth, &(a_index, b_index)) in plan.veths.iter().zip(&layout.veths) {
        let (main, peer, b_is_main) = main_and_peer(veth);
        let (main_index, peer_index) = if b_is_main {
            (b_index, a_index)
        } else {
            (a_index, b_index)
        };
        let controller = match main.place {
            Place::Bridge(n) => Some(layout.bridges[n]),
            Place::Node(_) => None,
        };
        let spec = VethSpec {
            name: &main.ifname,
            index: main_index,
            ns: namespace_of(built, &main.place),
            controller,
            peer: &peer.ifname,
            peer_index,
            peer_ns: namespace_of(built, &peer.place),
            mtu: veth.settings.mtu,
        };
        socket.create_link(
            spec.message(),
            "veth",
            format!(
                "creating the veth pair {} -- {}",
                describe_end(plan, &veth.a),
                describe_end(plan, &veth.b)
            ),
        );
    }
    socket.flush()
}

/// Queues and sends, namespace by namespace: `lo` and the peer ends up, the addresses, the
/// routes; in the switches, the peer ends that are bridge ports, enslaved and up.
fn configure(plan: &Plan, layout: &Layout, spaces: &mut [Space]) -> Result<()> {
    for (n, (node, space)) in plan.nodes.iter().zip(spaces.iter_mut()).enumerate() {
        let socket = &mut space.socket;
        socket.set_link(
            netlink::up_message(netlink::LOOPBACK_INDEX),
            format!("setting lo up in node `{}`", node.name),
        );
        for (peer, index) in peers(plan, layout).filter(|(end, _)| end.place == Place::Node(n)) {
            socket.set_link(
                netlink::up_message(index),
                format!("setting {} up", describe_end(plan, peer)),
            );
        }
        for interface in &node.interfaces {
            let index =
                layout
                    .interface(plan, n, &interface.name)
                    .ok_or_else(|| Error::Netlink {
                        what: format!(
                            "adding {} to node `{}` {}: the plan has no link for this interface",
                            interface.ipv4, node.name, interface.name
                        ),
                        source: io::Error::from_raw_os_error(nix::libc::ENODEV),
                    })?;
            socket.add_address(
                netlink::address_message(
                    index,
                    interface.ipv4.addr().into(),
                    interface.ipv4.prefix_len(),
                ),
                format!(
                    "adding {} to node `{}` {}",
                    interface.ipv4, node.name, interface.name
                ),
            );
            // `netlink::address_message` adds IPv6 addresses with IFA_F_NODAD, so that they
            // are usable at once instead of after duplicate address detection (1 to 2 s).
            if let Some(ipv6) = interface.ipv6 {
                socket.add_address(
                    netlink::address_message(index, ipv6.addr().into(), ipv6.prefix_len()),
                    format!("adding {ipv6} to node `{}` {}", node.name, interface.name),
                );
            }
        }
        for route in &node.routes {
            let destination = route.destination.map(|d| (d.addr(), d.prefix_len()));
            let shown = match route.destination {
                Some(d) => format!("{d} via {}", route.gateway),
                None => format!("default via {}", route.gateway),
            };
            socket.add_route(
                netlink::ipv4_route_message(destination, route.gateway),
                format!("adding the route `{shown}` in node `{}`", node.name),
            );
        }
        for route in &node.routes6 {
            let destination = route.destination.map(|d| (d.addr(), d.prefix_len()));
            let shown = match route.destination {
                Some(d) => format!("{d} via {}", route.gateway),
                None => format!("default via {}", route.gateway),
            };
            socket.add_route(
                netlink::ipv6_route_message(destination, route.gateway),
                format!("adding the route `{shown}` in node `{}`", node.name),
            );
        }
        socket.flush()?;
    }
    if let Some(switches) = spaces.get_mut(plan.nodes.len()) {
        let socket = &mut switches.socket;
        // Only a veth between two switches has a peer end on a bridge.
        for (peer, index) in peers(plan, layout) {
            if let Place::Bridge(m) = peer.place {
                socket.set_link(
                    netlink::port_message(index, layout.bridges[m]),
                    format!(
                        "adding {} to bridge {}",
                        describe_end(plan, peer),
                        plan.bridges[m].ifname
                    ),
                );
            }
        }
        socket.flush()?;
    }
    Ok(())
}

/// Gives both ends of every link with `rate=`, `delay=` or `loss=` its root qdisc (see
/// [`crate::qdisc`]), one batch per namespace. Plans without them send nothing.
fn shape_links(plan: &Plan, layout: &Layout, spaces: &mut [Space]) -> Result<()> {
    let switches = plan.nodes.len();
    let mut queued = vec![false; spaces.len()];
    for (veth, &(a, b)) in plan.veths.iter().zip(&layout.veths) {
        let shape = Shape::of(&veth.settings);
        for (end, index) in [(&veth.a, a), (&veth.b, b)] {
            let Some(message) = shape.message(index) else {
                continue;
            };
            let space = match end.place {
                Place::Node(n) => n,
                Place::Bridge(_) => switches,
            };
            let what = format!("{} on {}", shape.describe(), describe_end(plan, end));
            spaces[space].socket.qdisc(message, shape.feature(), what);
            queued[space] = true;
        }
    }
    for (space, queued) in spaces.iter_mut().zip(queued) {
        if queued {
            space.socket.flush()?;
        }
    }
    Ok(())
}

/// The peer end of every veth (see [`main_and_peer`]) with its index.
fn peers<'a>(plan: &'a Plan, layout: &'a Layout) -> impl Iterator<Item = (&'a VethEnd, u32)> {
    plan.veths
        .iter()
        .zip(&layout.veths)
        .map(|(veth, &(a, b))| match main_and_peer(veth) {
            (_, peer, true) => (peer, a),
            (_, peer, false) => (peer, b),
        })
}

/// A link that must be ready before the network is: operstate `UP` and, for a bridge port,
/// forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Awaited {
    index: u32,
    /// `node `client` eth0`, `switch `lan` port b0p0`.
    label: String,
    /// A bridge port, which must also be in the `forwarding` state.
    port: bool,
    /// What was last seen, for the error: `None` if the link was missing.
    last: Option<Link>,
}

impl Awaited {
    fn is_ready(&self) -> bool {
        self.last.as_ref().is_some_and(|link| {
            link.state == State::Up
                && (!self.port || link.port_state == Some(BridgePortState::Forwarding))
        })
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
fn expected_up(plan: &Plan, layout: &Layout) -> Vec<Vec<Awaited>> {
    let mut expected = vec![Vec::new(); plan.nodes.len() + 1];
    let switches = plan.nodes.len();
    for (veth, &(a, b)) in plan.veths.iter().zip(&layout.veths) {
        for (end, index) in [(&veth.a, a), (&veth.b, b)] {
            let (space, port) = match end.place {
                Place::Node(n) => (n, false),
                Place::Bridge(_) => (switches, true),
            };
            expected[space].push(Awaited {
                index,
                label: describe_end(plan, end),
                port,
                last: None,
            });
        }
    }
    expected
}

/// Polls link dumps until every awaited link is ready, or [`READY_TIMEOUT`] has passed.
fn wait_until_up(spaces: &mut [Space], mut expected: Vec<Vec<Awaited>>) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(50);
    loop {
        for (space, awaited) in spaces.iter_mut().zip(expected.iter_mut()) {
            if awaited.is_empty() {
                continue;
            }
            let links = space.socket.links().map_err(|source| Error::Netlink {
                what: format!("listing the links of node `{}`", space.name),
                source,
            })?;
            awaited.retain_mut(|awaited| {
                awaited.last = links.iter().find(|l| l.index == awaited.index).cloned();
                !awaited.is_ready()
            });
        }
        if expected.iter().all(Vec::is_empty) {
            return Ok(());
        }
        let waited = start.elapsed();
        if waited >= READY_TIMEOUT {
            return Err(Error::NotReady {
                waited_ms: waited.as_millis() as u64,
                pending: describe_pending(&expected),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(2));
    }
}

/// `node `client` eth0 (LOWERLAYERDOWN), switch `lan` port b0p1 (UP, port learning)`.
fn describe_pending(expected: &[Vec<Awaited>]) -> String {
    let mut text = String::new();
    for awaited in expected.iter().flatten() {
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::topology::{BridgePlan, InterfacePlan, Ipv4Cidr, LinkSettings, NodePlan, VethPlan};

    fn cidr(addr: [u8; 4], len: u8) -> Ipv4Cidr {
        Ipv4Cidr::new(Ipv4Addr::from(addr), len).unwrap()
    }

    fn node(name: &str, interfaces: &[&str]) -> NodePlan {
        NodePlan {
            name: name.to_string(),
            is_host: false,
            forwarding: false,
            interfaces: interfaces
                .iter()
                .enumerate()
                .map(|(i, name)| InterfacePlan {
                    name: name.to_string(),
                    ipv4: cidr([10, 0, i as u8 + 1, 1], 24),
                    ipv6: None,
                    segment: i,
                })
                .collect(),
            routes: Vec::new(),
            routes6: Vec::new(),
        }
    }

    fn end(place: Place, ifname: &str) -> VethEnd {
        VethEnd {
            place,
            ifname: ifname.to_string(),
        }
    }

    /// `a -- switch lan -- b`, and a direct `a -- b` link.
    fn plan() -> Plan {
        Plan {
            nodes: vec![node("a", &["eth0", "eth1"]), node("b", &["eth0", "eth1"])],
            bridges: vec![BridgePlan {
                switch: "lan".to_string(),
                ifname: "b0".to_string(),
            }],
            veths: vec![
                VethPlan {
                    a: end(Place::Node(0), "eth0"),
                    b: end(Place::Bridge(0), "b0p0"),
                    settings: LinkSettings::default(),
                },
                VethPlan {
                    a: end(Place::Node(1), "eth0"),
                    b: end(Place::Bridge(0), "b0p1"),
                    settings: LinkSettings::default(),
                },
                VethPlan {
                    a: end(Place::Node(0), "eth1"),
                    b: end(Place::Node(1), "eth1"),
                    settings: LinkSettings::default(),
                },
            ],
        }
    }

    #[test]
    fn indexes_are_unique_and_start_at_the_first_free_one() {
        let plan = plan();
        let layout = Layout::new(&plan, 5);
        assert_eq!(layout.bridges, [5]);
        assert_eq!(layout.veths, [(6, 7), (8, 9), (10, 11)]);
        assert_eq!(layout.interface(&plan, 0, "eth0"), Some(6));
        assert_eq!(layout.interface(&plan, 0, "eth1"), Some(10));
        assert_eq!(layout.interface(&plan, 1, "eth0"), Some(8));
        assert_eq!(layout.interface(&plan, 1, "eth1"), Some(11));
        assert_eq!(layout.interface(&plan, 1, "eth2"), None);
    }

    #[test]
    fn every_veth_end_is_awaited_in_its_namespace() {
        let plan = plan();
        let expected = expected_up(&plan, &Layout::new(&plan, 2));
        let labels: Vec<Vec<&str>> = expected
            .iter()
            .map(|space| space.iter().map(|a| a.label.as_str()).collect())
            .collect();
        assert_eq!(
            labels,
            [
                vec!["node `a` eth0", "node `a` eth1"],
                vec!["node `b` eth0", "node `b` eth1"],
                vec!["switch `lan` port b0p0", "switch `lan` port b0p1"],
            ]
        );
    }

    #[test]
    fn pending_links_are_named_with_their_last_state() {
        let link = |state, port_state| Link {
            index: 2,
            name: "x".to_string(),
            admin_up: true,
            state,
            mtu: 1500,
            kind: Some("veth".to_string()),
            master: None,
            port_state,
        };
        let awaited = |label: &str, port, last| Awaited {
            index: 2,
            label: label.to_string(),
            port,
            last,
        };
        let expected = vec![
            vec![awaited(
                "node `a` eth0",
                false,
                Some(link(State::LowerLayerDown, None)),
            )],
            vec![
                awaited(
                    "switch `lan` port b0p0",
                    true,
                    Some(link(State::Up, Some(BridgePortState::Learning))),
                ),
                awaited("switch `lan` port b0p1", true, None),
            ],
        ];
        assert_eq!(
            describe_pending(&expected),
            "node `a` eth0 (LOWERLAYERDOWN), switch `lan` port b0p0 (UP, port learning), \
             switch `lan` port b0p1 (missing)"
        );
        assert!(!expected[1][0].is_ready());
        let forwarding = awaited(
            "p",
            true,
            Some(link(State::Up, Some(BridgePortState::Forwarding))),
        );
        assert!(forwarding.is_ready());
        assert!(awaited("e", false, Some(link(State::Up, None))).is_ready());
        assert!(!awaited("e", true, Some(link(State::Up, None))).is_ready());
    }
}
