//! Tests of `[ipv4=off]`: IPv6-only networks, from text to plan, and the settings it refuses.

use crate::Topology;
use crate::tests::support::{assert_errors, plan_of, show};

#[test]
fn a_routed_chain_has_ipv6_addresses_and_routes_only() {
    let topology: Topology = "[ipv4=off]\nclient -- gateway -- server".parse().unwrap();
    assert!(!topology.has_ipv4());
    assert!(topology.has_ipv6());
    let plan = topology.plan();
    assert_eq!(
        show(plan, "client"),
        "eth0 fd00:0:0:1::1/64, default via fd00:0:0:1::254"
    );
    assert_eq!(
        show(plan, "gateway"),
        "eth0 fd00:0:0:1::254/64, eth1 fd00:0:0:2::254/64, forwarding"
    );
    assert_eq!(
        show(plan, "server"),
        "eth0 fd00:0:0:2::1/64, default via fd00:0:0:2::254"
    );
    let interfaces = plan.nodes.iter().flat_map(|n| &n.interfaces);
    assert!(interfaces.clone().all(|i| i.ipv4.is_none()));
    assert!(interfaces.clone().all(|i| i.ipv6.is_some()));
    assert!(plan.nodes.iter().all(|n| n.routes.is_empty()));
    assert_eq!(plan.segment_subnet(0), None);
    assert_eq!(plan.segment_subnet6(1), "fd00:0:0:2::/64".parse().ok());
}

#[test]
fn routers_route_every_subnet_as_with_ipv4() {
    let plan = plan_of("[ipv4=off]; a -- r1 -- r2 -- b");
    assert_eq!(
        show(&plan, "r1"),
        "eth0 fd00:0:0:1::254/64, eth1 fd00:0:0:2::254/64, fd00:0:0:3::/64 via \
         fd00:0:0:2::253, forwarding"
    );
    assert_eq!(
        show(&plan, "b"),
        "eth0 fd00:0:0:3::1/64, default via fd00:0:0:3::254"
    );
    // The same numbers as the dual-stack plan, without its IPv4 half.
    let dual = plan_of("a -- r1 -- r2 -- b");
    for (only, both) in plan.nodes.iter().zip(&dual.nodes) {
        let ipv6 =
            |node: &crate::NodePlan| -> Vec<_> { node.interfaces.iter().map(|i| i.ipv6).collect() };
        assert_eq!(ipv6(only), ipv6(both), "{}", only.name);
        assert_eq!(only.routes6, both.routes6, "{}", only.name);
        assert_eq!(only.forwarding, both.forwarding, "{}", only.name);
    }
}

#[test]
fn explicit_ipv6_subnets_and_addresses_are_kept() {
    let plan = plan_of("[ipv4=off]; a@fd00:0:0:9::7 -- r; r -- b [subnet6=fd00:beef::/64]");
    assert_eq!(
        show(&plan, "a"),
        "eth0 fd00:0:0:9::7/64, default via fd00:0:0:9::254"
    );
    assert_eq!(
        show(&plan, "b"),
        "eth0 fd00:beef::1/64, default via fd00:beef::254"
    );
}

#[test]
fn a_switch_may_have_more_interfaces_than_an_ipv4_slash_24() {
    // 300 hosts would need a larger IPv4 subnet; without IPv4 the /64 is enough.
    let names: Vec<String> = (0..300).map(|n| format!("h{n}")).collect();
    let text = format!("[ipv4=off]; switch s; {{{}}} -- s", names.join(" "));
    let plan = plan_of(&text);
    let addresses: std::collections::HashSet<_> = plan
        .nodes
        .iter()
        .map(|n| n.interfaces[0].ipv6.unwrap().addr())
        .collect();
    assert_eq!(addresses.len(), 300);
    assert_eq!(show(&plan, "h0"), "eth0 fd00:0:0:1::1/64");
    assert_eq!(show(&plan, "h299"), "eth0 fd00:0:0:1::300/64");
}

#[test]
fn display_keeps_ipv4_off() {
    let topology = Topology::parse("[ipv4=off]\na -- r -- b").unwrap();
    assert_eq!(topology.to_string(), "a -- r; r -- b; [ipv4=off]");
    assert_eq!(Topology::parse(&topology.to_string()).unwrap(), topology);
    assert!(Topology::parse("a -- b; [ipv4=on]").unwrap().has_ipv4());
}

#[test]
fn pictures_show_the_ipv6_addresses() {
    let topology = Topology::parse("[ipv4=off]; switch lan; {a b} -- lan; a -- c").unwrap();
    let picture = topology.picture();
    assert!(
        picture.contains("a(eth1 fd00:0:0:2::254/64) --- (eth0 fd00:0:0:2::1/64)c"),
        "{picture}"
    );
    assert!(picture.contains("lan fd00:0:0:1::/64"), "{picture}");
    let dot = topology.to_dot();
    assert!(dot.contains("eth0 fd00:0:0:1::254"), "{dot}");
    assert!(!dot.contains("10.0."), "{dot}");
}

#[test]
fn ipv4_settings_are_refused_with_the_ipv6_one_to_write() {
    assert_errors(
        "[ipv4=off]; a -- b [subnet=«10.0.100.0/24»]",
        &[
            "`subnet=10.0.100.0/24` is an IPv4 subnet, and this topology has `[ipv4=off]`; give \
             the segment an IPv6 subnet instead, as in `subnet6=fd00:0:0:100::/64`, or remove \
             `[ipv4=off]`",
        ],
    );
    assert_errors(
        "a@«10.0.1.7»@fd00::7 -- b; [ipv4=off]",
        &[
            "`10.0.1.7` is an IPv4 address, and this topology has `[ipv4=off]`; write an IPv6 \
             address instead, as in `@fd00:0:0:1::7`, or remove `[ipv4=off]`",
        ],
    );
}

#[test]
fn a_network_keeps_one_family() {
    assert_errors(
        "[ipv6=off]; [ipv4=«off»]; a -- b",
        &[
            "`[ipv4=off]` and `[ipv6=off]` together leave the network without addresses; keep \
             one family: remove one of them",
        ],
    );
    assert_errors(
        "[ipv4=«off», ipv6=off]; a -- b",
        &[
            "`[ipv4=off]` and `[ipv6=off]` together leave the network without addresses; keep \
             one family: remove one of them",
        ],
    );
}

#[test]
fn ipv4_is_an_option_of_the_whole_topology() {
    assert_errors(
        "a -- b [ipv4=«off»]",
        &[
            "`ipv4=off` is an option of the whole topology, not of a link; write it on a line \
             of its own: `[ipv4=off]`",
        ],
    );
    assert_errors(
        "[ipv4=off]; [ipv4=«off»]; a",
        &["`ipv4` is given twice in this topology; give it once"],
    );
    assert_errors(
        "[ipv4=«none»]; a",
        &["`ipv4` is `on` or `off`, not `none`: write `[ipv4=off]`"],
    );
    assert_errors(
        "a -- b [«ipv»=off]",
        &[
            "unknown attribute `ipv`: did you mean `ipv6`? valid attributes: `subnet`, \
             `subnet6`, `ipv6`, `ipv4`, `mtu`, `rate`, `delay`, `loss`, `jitter`, `burst`, \
             `duplicate`, `reorder`, `corrupt`, `profile`",
        ],
    );
}

#[test]
fn an_mtu_below_the_ipv6_minimum_is_refused_where_ipv6_runs() {
    let message = "`mtu=1000` is below 1280, the least MTU IPv6 allows, and this topology has \
                   `[ipv4=off]`, so the link would carry nothing; use `mtu=1280` or more, or \
                   remove `[ipv4=off]`";
    assert_errors("[ipv4=off]; a -- b [mtu=«1000»]", &[message]);
    // `[ipv4=off]` may come after the link.
    assert_errors("a -- b [rate=1mbit, mtu=«1000»]\n[ipv4=off]", &[message]);
    assert_eq!(
        plan_of("[ipv4=off]; a -- b [mtu=1280]").veths[0]
            .settings
            .mtu,
        Some(1280)
    );
    // With both families, IPv6 could not run on the link either.
    assert_errors(
        "a -- b [mtu=«1000»]",
        &[
            "`mtu=1000` is below 1280, the least MTU IPv6 allows, and this topology has IPv6, \
           which Linux turns off on such a link; use `mtu=1280` or more, or add `[ipv6=off]` to \
           test IPv4 alone",
        ],
    );
    assert_eq!(
        plan_of("[ipv6=off]; a -- b [mtu=1000]").veths[0]
            .settings
            .mtu,
        Some(1000)
    );
}
