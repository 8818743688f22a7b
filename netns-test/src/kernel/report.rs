//! What a failing test prints: the network as the kernel sees it now.
//!
//! Everything is read live, by netlink dumps inside each node (and `/proc/sys` for
//! forwarding), not taken from the plan: the point is to show what the test body actually ran
//! against, including anything it changed. The layout follows `ip -br addr` and `ip route`:
//!
//! ```text
//! node `client` (forwarding off)
//!   lo    UNKNOWN  mtu 65536  127.0.0.1/8 ::1/128
//!   eth0  UP       mtu 1500   10.0.1.1/24 fd00:0:0:1::1/64
//!   default via 10.0.1.254 dev eth0
//!   10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.1
//!   fd00:0:0:1::/64 dev eth0 proto kernel metric 256
//!   default via fd00:0:0:1::254 dev eth0 metric 1024
//! ```
//!
//! When the topology does not name `host`, the test's own namespace comes first, with its
//! interfaces (only `lo`), routes and processes: the body runs there, and so does a program
//! started with a plain `std::process::Command`, which then finds no network. The processes of
//! `host` are listed in any case.
//!
//! IPv6 link-local addresses (`fe80::/10`, which every interface gets), the routes to them and
//! to multicast, and routes outside the main table are left out to keep it short. The bridges of the hidden switch namespace follow,
//! each with its ports. (A bridge's own state may read `UNKNOWN` for up to a second after it is
//! made: the kernel updates it lazily, and frames cross it from port to port regardless.) Nothing here panics: what cannot be read is said
//! in the text instead.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_route::link::BridgePortState;
use netlink_packet_route::route::{RouteProtocol, RouteScope, RouteType};

use crate::kernel::apply::{Built, SWITCHES};
use crate::kernel::netlink::{self, Address, Link, Route, Socket};
use crate::kernel::netns::Entered;
use crate::kernel::sockets;
use crate::topology::Plan;

/// The main routing table, the one `ip route` shows.
pub(crate) const MAIN_TABLE: u32 = 254;

/// The network of `plan`, as built in `built`, read from the kernel now; `host` is the test's
/// own namespace, shown first when the topology does not name it (the body and a plain
/// `std::process::Command` run there, and users look for them).
pub(crate) fn describe(plan: &Plan, built: &Built, host: BorrowedFd<'_>) -> String {
    let mut text = String::new();
    if !plan.nodes.iter().any(|node| node.is_host) {
        text.push_str(
            "`host` (the test's own namespace, not in the topology: the body and a plain \
             std::process::Command run here; use Node::command to run a program in a node)\n",
        );
        describe_namespace(&mut text, host, "host");
        text.push_str("  processes:\n");
        for line in process_lines(host).lines() {
            let _ = writeln!(text, "  {line}");
        }
    }
    for (node, fd) in plan.nodes.iter().zip(&built.nodes) {
        let forwarding = match forwarding(fd.as_fd(), node.has_ipv4(), node.has_ipv6()) {
            Ok(forwarding) => forwarding,
            Err(error) => format!("forwarding unknown: {error}"),
        };
        let host = if node.is_host {
            ", the test's own namespace"
        } else {
            ""
        };
        let _ = writeln!(text, "node `{}` ({forwarding}{host})", node.name);
        describe_namespace(&mut text, fd.as_fd(), &node.name);
        if node.is_host {
            text.push_str("  processes:\n");
            for line in process_lines(fd.as_fd()).lines() {
                let _ = writeln!(text, "  {line}");
            }
        }
    }
    if let Some(switches) = &built.switches {
        let _ = writeln!(text, "switches (a hidden namespace)");
        describe_switches(&mut text, plan, switches.as_fd());
    }
    text
}

/// The processes and threads whose network namespace is `ns`, one indented line each.
pub(crate) fn process_lines(ns: BorrowedFd<'_>) -> String {
    match sockets::processes_in(ns) {
        Ok(lines) if lines.is_empty() => "  (none)\n".to_string(),
        Ok(lines) => lines.iter().map(|line| format!("  {line}\n")).collect(),
        Err(error) => format!("  (cannot list the processes: {error})\n"),
    }
}

/// Whether forwarding is on in the namespace `ns`, for the families the node has: IPv4
/// (`net.ipv4.ip_forward`) with `ipv4`, IPv6 (`net.ipv6.conf.all.forwarding`) with `ipv6`.
/// `forwarding on` or `off` when they agree, else each family's.
fn forwarding(ns: BorrowedFd<'_>, ipv4: bool, ipv6: bool) -> Result<String, String> {
    let files = [
        ("IPv4", ipv4, "/proc/sys/net/ipv4/ip_forward"),
        ("IPv6", ipv6, "/proc/sys/net/ipv6/conf/all/forwarding"),
    ];
    let entered = Entered::new(ns).map_err(|e| format!("cannot enter the namespace: {e}"))?;
    let values: Vec<_> = (files.iter())
        .filter(|(_, wanted, _)| *wanted)
        .map(|&(family, _, path)| (family, path, std::fs::read_to_string(path)))
        .collect();
    entered
        .leave()
        .map_err(|e| format!("cannot come back from the namespace: {e}"))?;
    let mut on = Vec::new();
    for (family, path, value) in values {
        let value = value.map_err(|e| format!("cannot read {path}: {e}"))?;
        on.push((family, value.trim() == "1"));
    }
    let word = |on: bool| if on { "on" } else { "off" };
    Ok(match on.as_slice() {
        [] => "forwarding off".to_string(),
        [(_, first), rest @ ..] if rest.iter().all(|(_, o)| o == first) => {
            format!("forwarding {}", word(*first))
        }
        families => {
            let each: Vec<String> = (families.iter())
                .map(|&(family, on)| format!("{} for {family}", word(on)))
                .collect();
            format!("forwarding {}", each.join(", "))
        }
    })
}

pub(crate) fn open(ns: BorrowedFd<'_>, name: &str) -> Result<Socket, String> {
    Socket::open_in(ns, name).map_err(|error| {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            let _ = write!(text, ": {cause}");
            source = cause.source();
        }
        text
    })
}

/// Appends the interfaces and routes of the namespace `ns`.
pub(crate) fn describe_namespace(text: &mut String, ns: BorrowedFd<'_>, name: &str) {
    let mut socket = match open(ns, name) {
        Ok(socket) => socket,
        Err(error) => {
            let _ = writeln!(text, "  ({error})");
            return;
        }
    };
    let links = match socket.links() {
        Ok(links) => links,
        Err(error) => {
            let _ = writeln!(text, "  (cannot list the links: {error})");
            Vec::new()
        }
    };
    let addresses = socket.addresses().unwrap_or_else(|error| {
        let _ = writeln!(text, "  (cannot list the addresses: {error})");
        Vec::new()
    });
    interface_lines(text, &links, &addresses);
    for routes in [socket.ipv4_routes(), socket.ipv6_routes()] {
        match routes {
            Ok(routes) => {
                for route in routes.iter().filter(|r| is_shown(r)) {
                    let _ = writeln!(text, "  {}", route_line(route, &links));
                }
            }
            Err(error) => {
                let _ = writeln!(text, "  (cannot list the routes: {error})");
            }
        }
    }
}

/// Whether a route is worth showing: in the main table, and not to IPv6 link-local or
/// multicast addresses, which every interface has.
fn is_shown(route: &Route) -> bool {
    let local = match route.destination {
        Some((IpAddr::V6(v6), _)) => is_link_local(IpAddr::V6(v6)) || v6.is_multicast(),
        _ => false,
    };
    route.table == MAIN_TABLE && !local
}

/// One `ip -br addr` line per link, columns aligned.
fn interface_lines(text: &mut String, links: &[Link], addresses: &[Address]) {
    let name_width = links.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let rows: Vec<(String, String, String)> = links
        .iter()
        .map(|link| {
            let state = if link.admin_up {
                netlink::state_name(link.state)
            } else {
                // `ip` shows the operational state; a link that is administratively down is
                // worth saying so plainly.
                "DOWN (admin)".to_string()
            };
            let mtu = format!("mtu {}", link.mtu);
            let addrs: Vec<String> = addresses
                .iter()
                .filter(|a| a.index == link.index && !is_link_local(a.addr))
                .map(|a| format!("{}/{}", a.addr, a.prefix_len))
                .collect();
            (state, mtu, addrs.join(" "))
        })
        .collect();
    let state_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let mtu_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (link, (state, mtu, addrs)) in links.iter().zip(&rows) {
        let master = match link.master {
            Some(index) => format!("  master {}", name_of(links, index)),
            None => String::new(),
        };
        let line = format!(
            "  {:name_width$}  {state:state_width$}  {mtu:mtu_width$}  {addrs}{master}",
            link.name
        );
        let _ = writeln!(text, "{}", line.trim_end());
    }
}

fn is_link_local(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

pub(crate) fn name_of(links: &[Link], index: u32) -> String {
    links
        .iter()
        .find(|l| l.index == index)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| format!("if{index}"))
}

/// A route as `ip route` prints it.
pub(crate) fn route_line(route: &Route, links: &[Link]) -> String {
    let mut line = String::new();
    if route.kind != RouteType::Unicast {
        let _ = write!(line, "{} ", format!("{:?}", route.kind).to_lowercase());
    }
    match route.destination {
        None => line.push_str("default"),
        Some((addr, len)) if (addr.is_ipv4() && len == 32) || len == 128 => {
            let _ = write!(line, "{addr}");
        }
        Some((addr, len)) => {
            let _ = write!(line, "{addr}/{len}");
        }
    }
    if let Some(gateway) = route.gateway {
        let _ = write!(line, " via {gateway}");
    }
    if let Some(oif) = route.oif {
        let _ = write!(line, " dev {}", name_of(links, oif));
    }
    if let Some(protocol) = protocol_name(route.protocol) {
        let _ = write!(line, " proto {protocol}");
    }
    if let Some(scope) = scope_name(route.scope) {
        let _ = write!(line, " scope {scope}");
    }
    if let Some(src) = route.prefsrc {
        let _ = write!(line, " src {src}");
    }
    if let Some(metric) = route.metric {
        let _ = write!(line, " metric {metric}");
    }
    if route.linkdown {
        line.push_str(" linkdown");
    }
    line
}

/// The protocol as `ip route` names it; `None` for `boot`, which it does not show.
fn protocol_name(protocol: RouteProtocol) -> Option<String> {
    Some(match protocol {
        RouteProtocol::Boot => return None,
        RouteProtocol::Unspec => "unspec".into(),
        RouteProtocol::IcmpRedirect => "redirect".into(),
        RouteProtocol::Kernel => "kernel".into(),
        RouteProtocol::Static => "static".into(),
        RouteProtocol::Dhcp => "dhcp".into(),
        RouteProtocol::Ra => "ra".into(),
        RouteProtocol::Other(n) => n.to_string(),
        other => format!("{other:?}").to_lowercase(),
    })
}

/// The scope as `ip route` names it; `None` for `global`, which it does not show.
fn scope_name(scope: RouteScope) -> Option<String> {
    Some(match scope {
        RouteScope::Universe => return None,
        RouteScope::Site => "site".into(),
        RouteScope::Link => "link".into(),
        RouteScope::Host => "host".into(),
        RouteScope::NoWhere => "nowhere".into(),
        RouteScope::Other(n) => n.to_string(),
        other => format!("{other:?}").to_lowercase(),
    })
}

/// Appends each bridge with its ports.
pub(crate) fn describe_switches(text: &mut String, plan: &Plan, ns: BorrowedFd<'_>) {
    let mut socket = match open(ns, SWITCHES) {
        Ok(socket) => socket,
        Err(error) => {
            let _ = writeln!(text, "  ({error})");
            return;
        }
    };
    let links = match socket.links() {
        Ok(links) => links,
        Err(error) => {
            let _ = writeln!(text, "  (cannot list the links: {error})");
            return;
        }
    };
    for bridge in links.iter().filter(|l| l.kind.as_deref() == Some("bridge")) {
        let switch = plan
            .bridges
            .iter()
            .find(|b| b.ifname == bridge.name)
            .map(|b| format!(" (switch `{}`)", b.switch))
            .unwrap_or_default();
        let ports: Vec<String> = links
            .iter()
            .filter(|l| l.master == Some(bridge.index))
            .map(|l| match l.port_state {
                // Only a forwarding port passes frames: say so when one does not.
                Some(state) if state != BridgePortState::Forwarding => {
                    let state = format!("{state:?}").to_lowercase();
                    format!("{} {} ({state})", l.name, link_state(l))
                }
                _ => format!("{} {}", l.name, link_state(l)),
            })
            .collect();
        let ports = if ports.is_empty() {
            "no ports".to_string()
        } else {
            format!("ports {}", ports.join(", "))
        };
        let _ = writeln!(
            text,
            "  {}{switch} {}: {ports}",
            bridge.name,
            link_state(bridge)
        );
    }
    let loose: Vec<&str> = links
        .iter()
        .filter(|l| l.kind.as_deref() == Some("veth") && l.master.is_none())
        .map(|l| l.name.as_str())
        .collect();
    if !loose.is_empty() {
        let _ = writeln!(text, "  not in any bridge: {}", loose.join(", "));
    }
}

fn link_state(link: &Link) -> String {
    if link.admin_up {
        netlink::state_name(link.state)
    } else {
        "DOWN (admin)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use netlink_packet_route::link::State;

    use super::*;

    fn link(index: u32, name: &str, state: State, mtu: u32) -> Link {
        Link {
            index,
            name: name.to_string(),
            admin_up: true,
            state,
            mtu,
            kind: None,
            master: None,
            port_state: None,
        }
    }

    fn route(destination: Option<(&str, u8)>) -> Route {
        Route {
            table: MAIN_TABLE,
            kind: RouteType::Unicast,
            destination: destination.map(|(a, l)| (a.parse().unwrap(), l)),
            gateway: None,
            oif: Some(2),
            protocol: RouteProtocol::Boot,
            scope: RouteScope::Universe,
            prefsrc: None,
            metric: None,
            linkdown: false,
        }
    }

    #[test]
    fn routes_read_like_ip_route() {
        let links = [link(2, "eth0", State::Up, 1500)];
        let default = Route {
            gateway: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 1, 254))),
            ..route(None)
        };
        assert_eq!(
            route_line(&default, &links),
            "default via 10.0.1.254 dev eth0"
        );
        let connected = Route {
            protocol: RouteProtocol::Kernel,
            scope: RouteScope::Link,
            prefsrc: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1))),
            ..route(Some(("10.0.1.0", 24)))
        };
        assert_eq!(
            route_line(&connected, &links),
            "10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.1"
        );
        let down = Route {
            gateway: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 1, 254))),
            linkdown: true,
            oif: Some(9),
            ..route(Some(("10.0.2.0", 24)))
        };
        assert_eq!(
            route_line(&down, &links),
            "10.0.2.0/24 via 10.0.1.254 dev if9 linkdown"
        );
    }

    #[test]
    fn interfaces_read_like_ip_brief_with_aligned_columns() {
        let links = [
            link(1, "lo", State::Unknown, 65536),
            link(2, "eth0", State::Up, 1500),
        ];
        let addresses = [
            Address {
                index: 1,
                addr: "127.0.0.1".parse().unwrap(),
                prefix_len: 8,
            },
            Address {
                index: 2,
                addr: "10.0.1.1".parse().unwrap(),
                prefix_len: 24,
            },
            Address {
                index: 2,
                addr: "fe80::1".parse().unwrap(),
                prefix_len: 64,
            },
        ];
        let mut text = String::new();
        interface_lines(&mut text, &links, &addresses);
        assert_eq!(
            text,
            "  lo    UNKNOWN  mtu 65536  127.0.0.1/8\n  eth0  UP       mtu 1500   10.0.1.1/24\n"
        );
    }

    #[test]
    fn link_local_and_multicast_routes_are_hidden() {
        let shown = |destination| is_shown(&route(Some(destination)));
        assert!(shown(("fd00:0:0:1::", 64)));
        assert!(shown(("10.0.1.0", 24)));
        assert!(!shown(("fe80::", 64)));
        assert!(!shown(("ff00::", 8)));
        assert!(is_shown(&route(None)));
        let local = Route {
            table: 255,
            ..route(Some(("fd00:0:0:1::1", 128)))
        };
        assert!(!is_shown(&local));
    }
}
