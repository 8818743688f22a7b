//! What the tests of the language share: parsing marked texts, showing plans, valid examples.

use std::ops::Range;

use crate::{Plan, Topology};

/// Parses `marked` without its `«»` marks and checks that the diagnostics span the marked
/// fragments, in order, with these messages.
#[track_caller]
pub(crate) fn assert_errors(marked: &str, messages: &[&str]) {
    let (mut text, mut spans, mut start) = (String::new(), Vec::new(), 0);
    for c in marked.chars() {
        match c {
            '«' => start = text.len(),
            '»' => spans.push(start..text.len()),
            c => text.push(c),
        }
    }
    assert_eq!(
        spans.len(),
        messages.len(),
        "one message per marked fragment"
    );
    let error = crate::Topology::parse(&text).expect_err(&text);
    let found: Vec<(Range<usize>, &str)> = error
        .diagnostics()
        .iter()
        .map(|d| (d.span.clone(), d.message.as_str()))
        .collect();
    let expected: Vec<(Range<usize>, &str)> =
        spans.into_iter().zip(messages.iter().copied()).collect();
    assert_eq!(found, expected, "in {text:?}");
}

/// The plan of `text`, which must parse.
pub(crate) fn plan_of(text: &str) -> Plan {
    match Topology::parse(text) {
        Ok(topology) => topology.plan().clone(),
        Err(error) => panic!("{text:?} does not parse:\n{error}"),
    }
}

/// A node as `ip` would show it, both families: addresses, routes and forwarding on one
/// line.
pub(crate) fn show(plan: &Plan, name: &str) -> String {
    show_families(plan, name, true)
}

/// [`show`] without IPv6 addresses and routes, for the tests of IPv4 alone.
pub(crate) fn show_ipv4(plan: &Plan, name: &str) -> String {
    show_families(plan, name, false)
}

fn show_families(plan: &Plan, name: &str, ipv6: bool) -> String {
    let node = plan.node(name).unwrap();
    let mut parts: Vec<String> = node
        .interfaces
        .iter()
        .map(|i| {
            let mut words = vec![i.name.clone()];
            words.extend(i.ipv4.map(|ipv4| ipv4.to_string()));
            words.extend(i.ipv6.filter(|_| ipv6).map(|ipv6| ipv6.to_string()));
            words.join(" ")
        })
        .collect();
    for route in &node.routes {
        let to = route
            .destination
            .map_or("default".into(), |d| d.to_string());
        parts.push(format!("{to} via {}", route.gateway));
    }
    if ipv6 {
        for route in &node.routes6 {
            let to = route
                .destination
                .map_or("default".into(), |d| d.to_string());
            parts.push(format!("{to} via {}", route.gateway));
        }
    }
    if node.forwarding {
        parts.push("forwarding".to_owned());
    }
    parts.join(", ")
}

/// Valid texts, for the round-trip and mutation tests.
pub(crate) const EXAMPLES: [&str; 23] = [
    "net0 -- net1",
    "switch br0; {net0 net1 net2} -- br0",
    "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]",
    "host -- nstest [subnet=10.0.0.0/24]",
    "client -- gateway -- server",
    "a -- r1 -- r2 -- r3 -- b",
    "switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan",
    "a -- b; c -- d [subnet=10.0.1.0/24]",
    "switch core; {r1 r2} -- core; a -- r1; r2 -- b; pc -- core",
    "{a b} -- {c d}",
    "a -- r1 -- b; c -- r2 -- d; lone",
    "{a b} -- c; x; d -- e [subnet=10.9.0.0/16]",
    "switch lan wan\n{a b} -- lan [subnet=172.16.0.0/12]\nlan -- gw -- wan\nwan -- {x, y}\n",
    "a",
    "host",
    "# a chain over lines\nclient --\n  gw1\n  -- gw2 -- # to the server\n  server\n",
    "switch s; a -- s -- b [subnet=10.0.0.0/29]; {host c} -- s",
    "router r1; host h; a -- r1 -- h -- b",
    "client@10.0.100.7@fd00::7 -- gw -- server@192.168.5.20",
    "a -- b [subnet6=fd00:0:0:100::/64, subnet=10.0.0.0/30]\n[ipv6=on]",
    "[ipv6=off]\nswitch lan; {pc1 pc2@10.0.9.9} -- lan; lan -- r1 -- wan",
    "a -- b -- c [mtu=1280, rate=1.5mbit]; c -- d [loss=0.5%, delay=20ms, subnet=10.9.0.0/24]",
    "switch lan; {a b} -- lan [mtu=9000]; lan -- c",
];
