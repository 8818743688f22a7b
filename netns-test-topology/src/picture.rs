//! [`Topology::picture`]: the network as a few lines of text, for the failure report.
//!
//! A person reads a picture faster than a table, so a failing test shows this above the live
//! state of its network:
//!
//! ```text
//! client(eth0 10.0.100.1/24) --- (eth0 10.0.100.254/24)gateway(eth1 192.168.100.254/24) --- (eth0 192.168.100.1/24)server
//! switch br0 10.0.1.0/24: net0(eth0 10.0.1.1/24) net1(eth0 10.0.1.2/24)
//! forwarding: gateway
//! ```
//!
//! - Links between nodes are drawn as paths: a path follows unused links for as long as it can,
//!   so a chain of any length is one line, and a node where paths branch appears on several.
//!   Each node shows the interface and address on each side where a link meets it.
//! - Each switch is one line listing its members with their interface and address.
//! - Nodes without links, and the nodes that forward (routers), close the picture, then one
//!   line per NAT: what kind it is, which interface is its outside, its port forwards and pinholes
//!   (`nat home: port-restricted, outside eth1 192.0.2.254/24, inside eth0`).
//!
//! It is computed from the plan, so it shows what was meant; the report below it shows what
//! the kernel has. Deterministic; `std` only (this module is compiled into the macro too).

use std::fmt::Write as _;

use crate::Topology;
use crate::plan::{Place, Plan, VethEnd};

impl Topology {
    /// The network as compact text: one line per path of links between nodes, one per switch.
    ///
    /// ```
    /// # use netns_test_topology::Topology;
    /// let topology = Topology::parse("client -- gateway -- server")?;
    /// assert_eq!(
    ///     topology.picture(),
    ///     "client(eth0 10.0.1.1/24) --- (eth0 10.0.1.254/24)gateway(eth1 10.0.2.254/24) \
    ///      --- (eth0 10.0.2.1/24)server\nforwarding: gateway\n"
    /// );
    /// # Ok::<(), netns_test_topology::TopologyError>(())
    /// ```
    pub fn picture(&self) -> String {
        render(self.plan())
    }
}

/// One end of a link: a node and its interface name.
type End<'p> = (usize, &'p str);

/// One link between two nodes.
#[derive(Clone, Copy)]
struct Edge<'p> {
    a: End<'p>,
    b: End<'p>,
}

impl<'p> Edge<'p> {
    /// The end at `node` and the far end, or `None` if the edge does not touch `node`.
    fn from(&self, node: usize) -> Option<(End<'p>, End<'p>)> {
        if self.a.0 == node {
            Some((self.a, self.b))
        } else if self.b.0 == node {
            Some((self.b, self.a))
        } else {
            None
        }
    }
}

fn render(plan: &Plan) -> String {
    let node_end = |end: &'_ VethEnd| match end.place {
        Place::Node(node) => Some(node),
        Place::Bridge(_) => None,
    };
    let edges: Vec<Edge<'_>> = plan
        .veths
        .iter()
        .filter_map(|veth| {
            Some(Edge {
                a: (node_end(&veth.a)?, veth.a.ifname.as_str()),
                b: (node_end(&veth.b)?, veth.b.ifname.as_str()),
            })
        })
        .collect();
    let mut text = String::new();
    let mut used = vec![false; edges.len()];
    for first in 0..edges.len() {
        if used[first] {
            continue;
        }
        used[first] = true;
        // Grown from `first` forwards, then (turned round) backwards, then turned back.
        let mut path: Vec<Hop<'_>> = vec![
            (None, edges[first].a.0, Some(edges[first].a.1)),
            (Some(edges[first].b.1), edges[first].b.0, None),
        ];
        extend(&edges, &mut used, &mut path);
        turn(&mut path);
        extend(&edges, &mut used, &mut path);
        turn(&mut path);
        let hops: Vec<String> = path
            .iter()
            .map(|&(arrive, node, leave)| {
                let side = |ifname: Option<&str>| {
                    ifname.map_or(String::new(), |name| interface(plan, node, name))
                };
                let arrive = side(arrive);
                let leave = side(leave);
                let name = &plan.nodes[node].name;
                let (arrive, leave) = (paren(&arrive), paren(&leave));
                format!("{arrive}{name}{leave}")
            })
            .collect();
        let _ = writeln!(text, "{}", hops.join(" --- "));
    }
    for (index, bridge) in plan.bridges.iter().enumerate() {
        let members: Vec<(usize, &str)> = plan
            .veths
            .iter()
            .filter(|veth| veth.b.place == Place::Bridge(index))
            .filter_map(|veth| Some((node_end(&veth.a)?, veth.a.ifname.as_str())))
            .collect();
        let subnet = members
            .first()
            .and_then(|&(node, ifname)| plan.nodes[node].interface(ifname))
            .map(|i| format!(" {}", i.shown_subnet()))
            .unwrap_or_default();
        let members: Vec<String> = members
            .iter()
            .map(|&(node, ifname)| {
                let name = &plan.nodes[node].name;
                format!("{name}({})", interface(plan, node, ifname))
            })
            .collect();
        let _ = writeln!(
            text,
            "switch {}{subnet}: {}",
            bridge.switch,
            members.join(" ")
        );
    }
    let names = |keep: &dyn Fn(&super::NodePlan) -> bool| {
        let names: Vec<&str> = (plan.nodes.iter())
            .filter(|n| keep(n))
            .map(|n| n.name.as_str())
            .collect();
        names.join(" ")
    };
    let lone = names(&|n| n.interfaces.is_empty());
    if !lone.is_empty() {
        let _ = writeln!(text, "no links: {lone}");
    }
    let routers = names(&|n| n.forwarding);
    if !routers.is_empty() {
        let _ = writeln!(text, "forwarding: {routers}");
    }
    for nat in &plan.nats {
        let node = &plan.nodes[nat.node];
        let forwards: Vec<String> = (nat.forwards.iter())
            .map(|f| {
                let to = &plan.nodes[f.node].name;
                format!(
                    ", {} {} to {to}:{}",
                    f.protocol.name(),
                    f.outside_port,
                    f.port
                )
            })
            .collect();
        let pinholes: Vec<String> = (nat.pinholes.iter())
            .map(|p| {
                let to = &plan.nodes[p.node].name;
                format!(", pinhole {} {to}:{}", p.protocol.name(), p.port)
            })
            .collect();
        let _ = writeln!(
            text,
            "nat {}: {}, outside {}, inside {}{}{}",
            node.name,
            nat.describe(),
            interface(plan, nat.node, &nat.outside),
            nat.inside.join(" "),
            forwards.concat(),
            pinholes.concat()
        );
    }
    text
}

/// One node on a path: `(arriving interface, node, leaving interface)`.
type Hop<'p> = (Option<&'p str>, usize, Option<&'p str>);

/// Grows `path` at its end along unused edges, the earliest first, until none is left there.
fn extend<'p>(edges: &[Edge<'p>], used: &mut [bool], path: &mut Vec<Hop<'p>>) {
    loop {
        let Some(&(arrive, node, _)) = path.last() else {
            return;
        };
        let next = (edges.iter().enumerate())
            .filter(|&(i, _)| !used[i])
            .find_map(|(i, edge)| Some((i, edge.from(node)?)));
        let Some((i, (here, there))) = next else {
            return;
        };
        used[i] = true;
        if let Some(last) = path.last_mut() {
            *last = (arrive, node, Some(here.1));
        }
        path.push((Some(there.1), there.0, None));
    }
}

/// Reverses a path, and so each hop's arriving and leaving sides.
fn turn(path: &mut [Hop<'_>]) {
    path.reverse();
    for hop in path {
        *hop = (hop.2, hop.1, hop.0);
    }
}

/// `eth0 10.0.1.1/24`: an interface of a node with its address.
fn interface(plan: &Plan, node: usize, ifname: &str) -> String {
    match plan.nodes[node].interface(ifname) {
        Some(interface) => format!("{ifname} {}", interface.shown()),
        None => ifname.to_owned(),
    }
}

fn paren(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("({text})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(text: &str) -> String {
        Topology::parse(text).unwrap().picture()
    }

    #[test]
    fn walkthrough_1_veth_pair() {
        assert_eq!(
            picture("net0 -- net1"),
            "net0(eth0 10.0.1.1/24) --- (eth0 10.0.1.2/24)net1\n"
        );
    }

    #[test]
    fn walkthrough_2_bridge() {
        assert_eq!(
            picture("switch br0; {net0 net1 net2} -- br0"),
            "switch br0 10.0.1.0/24: net0(eth0 10.0.1.1/24) net1(eth0 10.0.1.2/24) \
             net2(eth0 10.0.1.3/24)\n"
        );
    }

    #[test]
    fn walkthrough_3_router() {
        assert_eq!(
            picture(
                "client -- gateway [subnet=10.0.100.0/24]; \
                 gateway -- server [subnet=192.168.100.0/24]"
            ),
            "client(eth0 10.0.100.1/24) --- (eth0 10.0.100.254/24)gateway\
             (eth1 192.168.100.254/24) --- (eth0 192.168.100.1/24)server\n\
             forwarding: gateway\n"
        );
    }

    #[test]
    fn walkthrough_4_host_namespace() {
        assert_eq!(
            picture("host -- nstest [subnet=10.0.0.0/24]"),
            "host(eth0 10.0.0.1/24) --- (eth0 10.0.0.2/24)nstest\n"
        );
    }

    #[test]
    fn a_chain_written_backwards_is_still_one_line() {
        assert_eq!(
            picture("b -- c; a -- b"),
            "a(eth0 10.0.2.1/24) --- (eth1 10.0.2.254/24)b(eth0 10.0.1.254/24) \
             --- (eth0 10.0.1.1/24)c\nforwarding: b\n"
        );
    }

    #[test]
    fn switches_routers_and_lone_nodes() {
        assert_eq!(
            picture("switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan; lone"),
            "r1(eth1 10.0.2.254/24) --- (eth0 10.0.2.1/24)wan\n\
             switch lan 10.0.1.0/24: pc1(eth0 10.0.1.1/24) pc2(eth0 10.0.1.2/24) \
             r1(eth0 10.0.1.254/24)\n\
             no links: lone\n\
             forwarding: r1\n"
        );
    }

    #[test]
    fn every_link_is_drawn_once() {
        for text in crate::tests::support::EXAMPLES {
            let topology = Topology::parse(text).unwrap();
            let shown = topology.picture();
            let plan = topology.plan();
            let node_links = plan
                .veths
                .iter()
                .filter(|v| matches!(v.b.place, Place::Node(_)))
                .count();
            assert_eq!(shown.matches(" --- ").count(), node_links, "{text:?}");
            for node in &plan.nodes {
                for interface in &node.interfaces {
                    let written = format!("{} {}", interface.name, interface.shown());
                    assert_eq!(
                        shown.matches(&format!("({written})")).count(),
                        1,
                        "{text:?}: {written} of {} in\n{shown}",
                        node.name
                    );
                }
            }
        }
    }
}
