//! Properties of the topology parser and planner, over generated inputs.
//!
//! - Any text at all, or any bytes read as text: parsing never panics, and whatever parses
//!   prints back to an equal topology.
//! - Valid topologies generated from their structure (nodes, switches, links, chains, groups,
//!   explicit subnets, layouts): they parse; printing and parsing again gives an equal
//!   topology; and the plan is sound: every address unique and inside its segment's subnet,
//!   every interface name within 15 bytes, and every node reaches every address of every
//!   other node connected to it, by forwarding hop by hop over the planned routes.
//!
//! Each property runs 256 cases (proptest's default); `PROPTEST_CASES` changes that. They run
//! with the rest of the suite in CI, in well under a second each.

use std::collections::{BTreeSet, HashSet};
use std::net::Ipv4Addr;

use netns_test_topology::{Plan, Topology};
use proptest::prelude::*;

/// A generated network, before it is written as text.
#[derive(Clone, Debug)]
struct Network {
    nodes: usize,
    switches: usize,
    /// Links between nodes `(a, b)`, with an explicit subnet number or none.
    links: Vec<(usize, usize, Option<u8>)>,
    /// Per switch: its members, with an explicit subnet number or none.
    members: Vec<(Vec<usize>, Option<u8>)>,
}

fn node(n: usize) -> String {
    // `host` is a node like the others for the planner: let it appear.
    if n == 5 {
        "host".into()
    } else {
        format!("n{n}")
    }
}

fn network() -> impl Strategy<Value = Network> {
    (2..10usize, 0..3usize).prop_flat_map(|(nodes, switches)| {
        let pair = (0..nodes, 0..nodes, proptest::option::of(0..200u8));
        let links = proptest::collection::vec(pair, 0..12);
        let member_list = proptest::collection::vec(0..nodes, 1..5);
        let member = (member_list, proptest::option::of(0..200u8));
        let members = proptest::collection::vec(member, switches);
        (links, members).prop_map(move |(links, members)| {
            // Keep what a valid text can say: no self link, no link twice, subnets unique.
            let mut seen = HashSet::new();
            let mut subnets = HashSet::new();
            let mut unique_subnet = |s: Option<u8>| s.filter(|s| subnets.insert(*s));
            let links = links
                .into_iter()
                .filter(|&(a, b, _)| a != b && seen.insert((a.min(b), a.max(b))))
                .map(|(a, b, s)| (a, b, unique_subnet(s)))
                .collect();
            let members = members
                .into_iter()
                .map(|(list, s)| {
                    let list: Vec<usize> = list
                        .into_iter()
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    (list, unique_subnet(s))
                })
                .collect();
            Network {
                nodes,
                switches,
                links,
                members,
            }
        })
    })
}

/// How the text is laid out: separators and the chains it forms.
#[derive(Clone, Debug)]
struct Layout {
    separator: &'static str,
    chains: bool,
    groups: bool,
    comment: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop_oneof![Just("; "), Just("\n"), Just(" ;\n  "), Just(";")],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(separator, chains, groups, comment)| Layout {
            separator,
            chains,
            groups,
            comment,
        })
}

fn subnet(n: u8, switch: bool) -> String {
    // Explicit subnets live outside 10.0.0.0/8, where automatic ones are taken.
    format!("172.{}.{n}.0/24", if switch { 17 } else { 16 })
}

/// Writes `network` as topology text in `layout`.
fn text(network: &Network, layout: &Layout) -> String {
    let mut statements = Vec::new();
    if network.switches > 0 {
        let names: Vec<String> = (0..network.switches).map(|s| format!("s{s}")).collect();
        statements.push(format!("switch {}", names.join(" ")));
    }
    let mut links = network.links.iter().peekable();
    while let Some(&(a, b, s)) = links.next() {
        let mut chain = vec![node(a), node(b)];
        let mut last = b;
        // Links without subnets that continue a path can be written as one chain.
        if layout.chains && s.is_none() {
            while let Some(&&(c, d, None)) = links.peek() {
                if c != last || chain.contains(&node(d)) {
                    break;
                }
                chain.push(node(d));
                last = d;
                links.next();
            }
        }
        let mut statement = chain.join(" -- ");
        if let Some(s) = s {
            statement.push_str(&format!(" [subnet={}]", subnet(s, false)));
        }
        statements.push(statement);
    }
    for (switch, (members, s)) in network.members.iter().enumerate() {
        let names: Vec<String> = members.iter().map(|&m| node(m)).collect();
        let attributes = s
            .map(|s| format!(" [subnet={}]", subnet(s, true)))
            .unwrap_or_default();
        if layout.groups {
            statements.push(format!("{{{}}} -- s{switch}{attributes}", names.join(", ")));
        } else {
            for (i, name) in names.iter().enumerate() {
                let attributes = if i == 0 { attributes.as_str() } else { "" };
                statements.push(format!("s{switch} -- {name}{attributes}"));
            }
        }
    }
    // Every node is declared, linked or not.
    statements.push(format!(
        "{{{}}}",
        (0..network.nodes).map(node).collect::<Vec<_>>().join(" ")
    ));
    let text = statements.join(layout.separator);
    // A comment runs to the end of its line.
    if layout.comment {
        format!("# generated; n0 -- n1\n{text}")
    } else {
        text
    }
}

/// Parsing never panics; what parses prints back to an equal topology.
fn parses_or_fails_cleanly(text: &str) {
    match Topology::parse(text) {
        Ok(topology) => {
            assert_eq!(
                Topology::parse(&topology.to_string()).as_ref(),
                Ok(&topology)
            );
            let _ = (topology.to_dot(), topology.picture());
        }
        Err(error) => {
            for diagnostic in error.diagnostics() {
                assert!(
                    diagnostic.span.end <= text.len(),
                    "{text:?}: {diagnostic:?}"
                );
            }
        }
    }
}

/// Checks addresses, names and reachability in `plan`.
fn check_plan(plan: &Plan) -> Result<(), String> {
    let mut owner = std::collections::HashMap::new();
    for (n, node) in plan.nodes.iter().enumerate() {
        for interface in &node.interfaces {
            let subnet = plan
                .segment_subnet(interface.segment)
                .ok_or("a segment without subnet")?;
            let ipv4 = interface.ipv4.ok_or("an interface without IPv4")?;
            let addr = ipv4.addr();
            if !subnet.contains(addr) || ipv4.network() != subnet {
                return Err(format!("{ipv4} of {} is outside {subnet}", node.name));
            }
            if addr == subnet.addr() || owner.insert(addr, (n, interface.segment)).is_some() {
                return Err(format!("{addr} is the network address or is given twice"));
            }
            if interface.name.len() > 15 {
                return Err(format!("interface name {} is too long", interface.name));
            }
        }
    }
    for veth in &plan.veths {
        if veth.a.ifname.len() > 15 || veth.b.ifname.len() > 15 {
            return Err(format!("veth end names too long: {veth:?}"));
        }
    }
    let components = components(plan);
    for (from, source) in plan.nodes.iter().enumerate() {
        for (to, target) in plan.nodes.iter().enumerate() {
            if from == to || components[from] != components[to] {
                continue;
            }
            for interface in &target.interfaces {
                let addr = interface.ipv4.ok_or("an interface without IPv4")?.addr();
                deliver(plan, &owner, from, addr).map_err(|why| {
                    format!(
                        "{} cannot reach {addr} of {}: {why}",
                        source.name, target.name
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// Per node, a number shared by every node it is linked to, directly or through switches.
fn components(plan: &Plan) -> Vec<usize> {
    let mut component: Vec<usize> = (0..plan.nodes.len()).collect();
    fn root(component: &mut [usize], mut n: usize) -> usize {
        while component[n] != n {
            n = component[n];
        }
        n
    }
    // Nodes on one segment are connected: a link is a segment, a switch is one.
    let mut on_segment: std::collections::HashMap<usize, usize> = Default::default();
    for (n, node) in plan.nodes.iter().enumerate() {
        for interface in &node.interfaces {
            if let Some(&other) = on_segment.get(&interface.segment) {
                let (a, b) = (root(&mut component, n), root(&mut component, other));
                component[a] = b;
            } else {
                on_segment.insert(interface.segment, n);
            }
        }
    }
    (0..plan.nodes.len())
        .map(|n| root(&mut component, n))
        .collect()
}

/// Forwards a packet from node `from` to `addr` hop by hop, as the kernel would with the
/// planned addresses, routes and forwarding switches.
fn deliver(
    plan: &Plan,
    owner: &std::collections::HashMap<Ipv4Addr, (usize, usize)>,
    from: usize,
    addr: Ipv4Addr,
) -> Result<(), String> {
    let &(target, target_segment) = owner.get(&addr).ok_or("nobody has the address")?;
    let mut at = from;
    for _ in 0..=plan.nodes.len() {
        if at == target {
            return Ok(());
        }
        let node = &plan.nodes[at];
        if at != from && !node.forwarding {
            return Err(format!("{} would have to forward, and does not", node.name));
        }
        // A directly attached subnet first, then the longest matching route.
        if node
            .interfaces
            .iter()
            .filter_map(|i| i.ipv4)
            .any(|ipv4| ipv4.network().contains(addr))
        {
            let attached = node.interfaces.iter().any(|i| i.segment == target_segment);
            return attached
                .then_some(())
                .ok_or_else(|| "on-link subnet of another segment".into());
        }
        let route = node
            .routes
            .iter()
            .filter(|r| r.destination.is_none_or(|d| d.contains(addr)))
            .max_by_key(|r| r.destination.map_or(0, |d| d.prefix_len() as i32 + 1))
            .ok_or_else(|| format!("{} has no route", node.name))?;
        let &(next, next_segment) = owner.get(&route.gateway).ok_or("gateway has no owner")?;
        if !node.interfaces.iter().any(|i| i.segment == next_segment) {
            return Err(format!(
                "{}'s gateway {} is not on-link",
                node.name, route.gateway
            ));
        }
        at = next;
    }
    Err("a routing loop".into())
}

proptest! {
    #[test]
    fn any_text_parses_or_fails_cleanly(text in any::<String>()) {
        parses_or_fails_cleanly(&text);
    }

    #[test]
    fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        parses_or_fails_cleanly(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn topology_shaped_text_parses_or_fails_cleanly(
        text in "([a-c0-9 ]|host|switch|subnet|--|-|[{}\\[\\];=,#\n]|10\\.0\\.[0-9]\\.0/2[0-9]){0,30}"
    ) {
        parses_or_fails_cleanly(&text);
    }

    #[test]
    fn generated_topologies_round_trip_and_plan_soundly(
        network in network(),
        layout in layout(),
    ) {
        let text = text(&network, &layout);
        let topology = Topology::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}:\n{e}")))?;
        for shown in [format!("{topology}"), format!("{topology:#}")] {
            let again = Topology::parse(&shown).map_err(|e| TestCaseError::fail(format!("{shown:?}:\n{e}")))?;
            prop_assert_eq!(&again, &topology, "{:?} shown as {:?}", text, shown);
        }
        check_plan(topology.plan()).map_err(|why| TestCaseError::fail(format!("{text:?}: {why}")))?;
    }
}

/// The plan checker itself can fail: a plan with a route taken out, or an address given twice.
#[test]
fn the_plan_checker_catches_broken_plans() {
    let topology = Topology::parse("a -- r1 -- r2 -- b").unwrap();
    assert_eq!(check_plan(topology.plan()), Ok(()));
    let mut no_route = topology.plan().clone();
    no_route.nodes[1].routes.clear();
    let why = check_plan(&no_route).unwrap_err();
    assert!(why.contains("r1 has no route"), "{why}");
    let mut twice = topology.plan().clone();
    twice.nodes[3].interfaces[0].ipv4 = twice.nodes[0].interfaces[0].ipv4;
    assert!(check_plan(&twice).is_err());
    let mut no_forwarding = topology.plan().clone();
    no_forwarding.nodes[2].forwarding = false;
    let why = check_plan(&no_forwarding).unwrap_err();
    assert!(why.contains("r2 would have to forward"), "{why}");
}
