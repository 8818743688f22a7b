//! Tests of the language's declarations, explicit addresses and IPv6, from text to plan.

use crate::Topology;
use crate::tests::support::assert_errors;
use crate::tests::support::{plan_of, show};

#[test]
fn every_link_is_dual_stack_mirroring_the_ipv4_numbers() {
    let plan = plan_of("client -- gateway -- server");
    assert_eq!(
        show(&plan, "client"),
        "eth0 10.0.1.1/24 fd00:0:0:1::1/64, default via 10.0.1.254, default via fd00:0:0:1::254"
    );
    assert_eq!(
        show(&plan, "gateway"),
        "eth0 10.0.1.254/24 fd00:0:0:1::254/64, eth1 10.0.2.254/24 fd00:0:0:2::254/64, forwarding"
    );
    assert_eq!(plan.segment_subnet6(1), "fd00:0:0:2::/64".parse().ok());
    let plan = plan_of("a -- r1 -- r2 -- b");
    assert_eq!(
        show(&plan, "r1"),
        "eth0 10.0.1.254/24 fd00:0:0:1::254/64, eth1 10.0.2.254/24 fd00:0:0:2::254/64, \
         10.0.3.0/24 via 10.0.2.253, fd00:0:0:3::/64 via fd00:0:0:2::253, forwarding"
    );
    // The tenth automatic subnet is written `10`, like the IPv4 one.
    let chain: Vec<String> = (0..11).map(|n| format!("n{n}")).collect();
    let plan = plan_of(&chain.join(" -- "));
    assert_eq!(plan.segment_subnet6(9), "fd00:0:0:10::/64".parse().ok());
}

#[test]
fn explicit_ipv6_subnets() {
    let plan = plan_of("a -- b [subnet6=fd00:abcd::/64]; c -- d");
    assert_eq!(show(&plan, "b"), "eth0 10.0.1.2/24 fd00:abcd::2/64");
    assert_eq!(show(&plan, "c"), "eth0 10.0.2.1/24 fd00:0:0:1::1/64");
    // A mirrored number that does not fit takes the plain one.
    let names: Vec<String> = (0..10).map(|n| format!("h{n}")).collect();
    let text = format!(
        "switch s; {{{}}} -- s [subnet6=fd00::/124]",
        names.join(" ")
    );
    let plan = plan_of(&text);
    assert_eq!(show(&plan, "h8"), "eth0 10.0.1.9/24 fd00::9/124");
    assert_eq!(show(&plan, "h9"), "eth0 10.0.1.10/24 fd00::a/124");
    // Automatic subnets skip the explicit ones.
    let plan = plan_of("a -- b [subnet6=fd00:0:0:1::/64]; c -- d");
    assert_eq!(plan.segment_subnet6(1), "fd00:0:0:2::/64".parse().ok());
    assert_errors(
        "a -- b [subnet6=fd00::/32]; «c -- d»",
        &[
            "no automatic IPv6 subnet is left in fd00::/48 beside the explicit ones; give this \
           segment a `[subnet6=...]`",
        ],
    );
}

#[test]
fn ipv6_off() {
    let topology: Topology = "[ipv6=off]\na -- r -- b".parse().unwrap();
    let plan = topology.plan();
    assert!(!topology.has_ipv6());
    assert_eq!(show(plan, "a"), "eth0 10.0.1.1/24, default via 10.0.1.254");
    assert!(plan.nodes.iter().all(|n| n.routes6.is_empty()));
    assert_eq!(plan.segment_subnet6(0), None);
    assert_eq!(topology.to_string(), "a -- r; r -- b; [ipv6=off]");
    assert!(
        plan_of("a -- b; [ipv6=on]").nodes[0].interfaces[0]
            .ipv6
            .is_some()
    );
}

#[test]
fn keywords_declare_only_before_a_name() {
    let plan = plan_of("client -- router -- server");
    assert!(plan.node("router").unwrap().forwarding);
    let topology = Topology::parse("router; host; router r1; r1 -- a; host -- b").unwrap();
    let names: Vec<&str> = topology.node_names().collect();
    assert_eq!(names, ["router", "host", "r1", "a", "b"]);
    assert!(topology.plan().node("host").unwrap().is_host);
    let topology = Topology::parse("host h1; h1 -- a").unwrap();
    assert!(!topology.plan().node("h1").unwrap().is_host);
    assert_eq!(topology.node_names().collect::<Vec<_>>(), ["h1", "a"]);
}

#[test]
fn declared_roles_override_the_count_of_links() {
    let plan = plan_of("router edge; lone -- edge");
    assert_eq!(
        show(&plan, "edge"),
        "eth0 10.0.1.254/24 fd00:0:0:1::254/64, forwarding"
    );
    assert_eq!(
        show(&plan, "lone"),
        "eth0 10.0.1.1/24 fd00:0:0:1::1/64, default via 10.0.1.254, default via fd00:0:0:1::254"
    );
    // A host with two links: low addresses, no forwarding, a default route through the first
    // router of its segments; routers do not route through it.
    let plan = plan_of("host h\nr1 -- h -- b\nr1 -- c");
    assert_eq!(
        show(&plan, "h"),
        "eth0 10.0.1.1/24 fd00:0:0:1::1/64, eth1 10.0.2.1/24 fd00:0:0:2::1/64, \
         default via 10.0.1.254, default via fd00:0:0:1::254"
    );
    assert_eq!(
        show(&plan, "r1"),
        "eth0 10.0.1.254/24 fd00:0:0:1::254/64, eth1 10.0.3.254/24 fd00:0:0:3::254/64, forwarding"
    );
}

#[test]
fn explicit_addresses_override_one_end() {
    let plan =
        plan_of("switch lan\n{a b@10.0.5.1 c} -- lan\nr@10.0.5.253@fd00:0:0:1::99 -- lan\nr -- d");
    assert_eq!(
        show(&plan, "a"),
        "eth0 10.0.5.2/24 fd00:0:0:1::2/64, default via 10.0.5.253, default via fd00:0:0:1::99"
    );
    assert_eq!(
        show(&plan, "b"),
        "eth0 10.0.5.1/24 fd00:0:0:1::1/64, default via 10.0.5.253, default via fd00:0:0:1::99"
    );
    assert_eq!(
        show(&plan, "c"),
        "eth0 10.0.5.3/24 fd00:0:0:1::3/64, default via 10.0.5.253, default via fd00:0:0:1::99"
    );
    assert_eq!(
        show(&plan, "r"),
        "eth0 10.0.5.253/24 fd00:0:0:1::99/64, eth1 10.0.1.254/24 fd00:0:0:2::254/64, forwarding"
    );
    // In an explicit subnet; an IPv6 address alone gives the /64 around it.
    let plan = plan_of("a@192.168.1.10@fd12:3456::10 -- b [subnet=192.168.1.0/24]");
    assert_eq!(show(&plan, "a"), "eth0 192.168.1.10/24 fd12:3456::10/64");
    assert_eq!(show(&plan, "b"), "eth0 192.168.1.1/24 fd12:3456::1/64");
    // A mirrored address that is taken moves on.
    let plan = plan_of("a -- b@fd00:0:0:1::1");
    assert_eq!(show(&plan, "a"), "eth0 10.0.1.1/24 fd00:0:0:1::2/64");
}

#[test]
fn the_new_statements_round_trip() {
    for text in [
        "router r1 r2; host h; a -- r1 -- h -- r2",
        "a@10.0.9.9@fd00::9 -- b@10.0.9.1 [subnet6=fd00::/64]; [ipv6=on]",
        "switch lan; {a@172.16.0.5 b} -- lan [subnet=172.16.0.0/16]; lan -- r",
        "[ipv6=off]; router lone",
    ] {
        let topology = Topology::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let shown = topology.to_string();
        let again = Topology::parse(&shown).unwrap_or_else(|e| panic!("{shown:?}: {e}"));
        assert_eq!(again, topology, "{text:?} was shown as {shown:?}");
    }
    assert_eq!(
        Topology::parse("router r; r -- a").unwrap().to_string(),
        "r -- a; router r"
    );
}

#[test]
fn address_errors() {
    let choose = "choose one from `10.0.100.1` to `10.0.100.254`";
    assert_errors(
        "a@«10.0.200.7» -- b [subnet=10.0.100.0/24]",
        &[&format!(
            "address `10.0.200.7` is outside `10.0.100.0/24`, the subnet of its segment; {choose}"
        )],
    );
    assert_errors(
        "a@«10.0.100.0» -- b [subnet=10.0.100.0/24]",
        &[&format!(
            "address `10.0.100.0` is the network address of `10.0.100.0/24`; {choose}"
        )],
    );
    assert_errors(
        "a@«10.0.100.255» -- b",
        &[&format!(
            "address `10.0.100.255` is the broadcast address of `10.0.100.0/24`; {choose}"
        )],
    );
    assert_errors(
        "a@10.0.100.7 -- b@«10.0.100.7»",
        &[
            "address `10.0.100.7` is used twice on this segment; every interface needs an address of its own",
        ],
    );
    assert_errors(
        "a@10.0.7.1 -- b; c@«10.0.7.2» -- d",
        &[
            "address `10.0.7.2` puts its segment in `10.0.7.0/24`, already the subnet of another segment; give this segment a subnet of its own",
        ],
    );
    assert_errors(
        "switch lan; a -- «lan@10.0.0.1»",
        &[
            "`lan` is a switch, which has no address; write addresses on the nodes linked to it, as in `a@10.0.100.7 -- lan`",
        ],
    );
    assert_errors(
        "«a@10.0.0.1»",
        &[
            "an address is for one end of a link, and `a` has no link here; write it in a link, as in `a@10.0.100.7 -- b`",
        ],
    );
    assert_errors(
        "x -- «b@10.0.1.5» -- {c d}",
        &[
            "`b@10.0.1.5` has 3 links in this chain, and an address is for one end of one link; write each link on its own, as in `x -- b@10.0.1.5; b -- c; b -- d`",
        ],
    );
    assert_errors(
        "a@10.0.0.1@«10.0.0.2» -- b",
        &[
            "`a` has two IPv4 addresses; an end of a link takes one of each family, as in `a@10.0.100.7@fd00::7`",
        ],
    );
    assert_errors(
        "a@«server» -- b",
        &["`server` is not an IP address; write one as in `a@10.0.100.7` or `a@fd00::7`"],
    );
    assert_errors(
        "a@«10.0.0.1/24» -- b",
        &[
            "write the address alone, as in `a@10.0.0.1`: its prefix length is that of the segment's subnet (`[subnet=...]`)",
        ],
    );
    assert_errors(
        "a«@» -- b",
        &["`@` needs an address after it, as in `a@10.0.100.7` or `a@fd00::7`"],
    );
    assert_errors(
        "router r«@»10.0.0.1",
        &["unexpected `@`: an address follows a name in a link, as in `a@10.0.100.7 -- b`"],
    );
}

#[test]
fn ipv6_errors() {
    assert_errors(
        "a@«fd00:1::7» -- b [subnet6=fd00::/64]",
        &[
            "address `fd00:1::7` is outside `fd00::/64`, the IPv6 subnet of its segment; choose one inside it, such as `fd00::1`",
        ],
    );
    assert_errors(
        "a@«fd00::» -- b [subnet6=fd00::/64]",
        &[
            "address `fd00::` is the subnet-router anycast address of `fd00::/64` (its host bits are all zero); choose another, such as `fd00::1`",
        ],
    );
    assert_errors(
        "a -- b [subnet6=fd00::/48]; c -- d [subnet6=«fd00:0:0:1::/64»]",
        &[
            "subnet6 `fd00:0:0:1::/64` overlaps `fd00::/48`, the subnet of another segment; every segment needs a subnet of its own",
        ],
    );
    assert_errors(
        "a -- b [subnet6=«fd00::/127»]",
        &[
            "subnet6 `fd00::/127` is too small: its segment needs 2 addresses and a /127 has 1 usable; use a /126 or larger",
        ],
    );
    assert_errors(
        "[ipv6=off]; a -- b [subnet6=«fd00::/64»]; c@«fd00::7» -- d",
        &[
            "`subnet6=fd00::/64` is given, but this topology has `[ipv6=off]`; remove one of them",
            "an IPv6 address, `fd00::7`, is given, but this topology has `[ipv6=off]`; remove one of them",
        ],
    );
    assert_errors(
        "a -- b [ipv6=«off»]",
        &[
            "`ipv6=off` is an option of the whole topology, not of a link; write it on a line of its own: `[ipv6=off]`",
        ],
    );
    assert_errors(
        "[ipv6=off]; [ipv6=«off»]; a",
        &["`ipv6` is given twice in this topology; give it once"],
    );
    assert_errors(
        "[ipv6=«no»]; a",
        &["`ipv6` is `on` or `off`, not `no`: write `[ipv6=off]`"],
    );
    assert_errors(
        "[subnet=«10.0.0.0/24»]; a -- b",
        &[
            "`subnet` is an attribute of a link's segment, and this `[...]` stands alone; write it after a link, as in `a -- b [subnet=...]`",
        ],
    );
    assert_errors(
        "[ipv6=off] «a» -- b",
        &["options such as `[ipv6=off]` stand on a line of their own; end the statement after `]`"],
    );
    assert_errors(
        "switch lan; a -- lan [subnet6=fd00::/64]; b -- lan [subnet6=«fd00:1::/64»]",
        &[
            "switch `lan` already has subnet6 `fd00::/64`; a switch is one segment with one subnet6, so `fd00:1::/64` cannot be its subnet6 too",
        ],
    );
}

#[test]
fn role_errors() {
    assert_errors(
        "router r1; host «r1»; a -- r1",
        &[
            "`r1` is declared both `router` and `host`; a node is one or the other: keep `router r1` or `host r1`",
        ],
    );
    assert_errors(
        "router r1; router «r1»; a -- r1",
        &["`r1` is declared `router` twice; once is enough"],
    );
    assert_errors(
        "switch lan; router «lan»; a -- lan",
        &[
            "`lan` is a switch, and only nodes are declared `router`; name a node, or link a router to the switch: `lan -- r1`",
        ],
    );
    assert_errors(
        "router r1 «--» a",
        &[
            "a `router` statement only declares routers; link `r1` in a statement of its own, as in `router r1; r1 -- a`",
        ],
    );
    assert_errors(
        "«routr» r1",
        &["unknown keyword `routr`: did you mean `router`?"],
    );
}
