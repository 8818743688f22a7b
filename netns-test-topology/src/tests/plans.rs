//! Plans: the addresses, routes and forwarding each topology gets.

use std::net::Ipv4Addr;

use crate::LinkSettings;
use crate::plan::*;
use crate::tests::support::{plan_of, show_ipv4};

fn end(place: Place, ifname: &str) -> VethEnd {
    VethEnd {
        place,
        ifname: ifname.to_owned(),
    }
}

#[test]
fn two_nodes() {
    let plan = plan_of("net0 -- net1");
    assert_eq!(show_ipv4(&plan, "net0"), "eth0 10.0.1.1/24");
    assert_eq!(show_ipv4(&plan, "net1"), "eth0 10.0.1.2/24");
    assert!(plan.bridges.is_empty());
    let veth = VethPlan {
        a: end(Place::Node(0), "eth0"),
        b: end(Place::Node(1), "eth0"),
        settings: LinkSettings::default(),
    };
    assert_eq!(plan.veths, [veth]);
    assert!(!plan.nodes[0].is_host);
    assert_eq!(plan.segment_subnet(0), "10.0.1.0/24".parse().ok());
    assert_eq!(plan.segment_subnet(1), None);
}

#[test]
fn three_nodes_on_a_switch() {
    let plan = plan_of("switch br0; {net0 net1 net2} -- br0");
    assert_eq!(show_ipv4(&plan, "net0"), "eth0 10.0.1.1/24");
    assert_eq!(show_ipv4(&plan, "net1"), "eth0 10.0.1.2/24");
    assert_eq!(show_ipv4(&plan, "net2"), "eth0 10.0.1.3/24");
    let bridge = BridgePlan {
        switch: "br0".to_owned(),
        ifname: "b0".to_owned(),
    };
    assert_eq!(plan.bridges, [bridge]);
    let veths: Vec<VethPlan> = (0..3)
        .map(|n| VethPlan {
            a: end(Place::Node(n), "eth0"),
            b: end(Place::Bridge(0), &format!("b0p{n}")),
            settings: LinkSettings::default(),
        })
        .collect();
    assert_eq!(plan.veths, veths);
    assert!(plan.nodes.iter().all(|n| n.interfaces[0].segment == 0));
}

#[test]
fn gateway_with_explicit_subnets() {
    let plan = plan_of(
        "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]",
    );
    assert_eq!(
        show_ipv4(&plan, "client"),
        "eth0 10.0.100.1/24, default via 10.0.100.254"
    );
    assert_eq!(
        show_ipv4(&plan, "gateway"),
        "eth0 10.0.100.254/24, eth1 192.168.100.254/24, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "server"),
        "eth0 192.168.100.1/24, default via 192.168.100.254"
    );
}

#[test]
fn host_gets_its_own_link() {
    let plan = plan_of("host -- nstest [subnet=10.0.0.0/24]");
    assert_eq!(show_ipv4(&plan, "host"), "eth0 10.0.0.1/24");
    assert_eq!(show_ipv4(&plan, "nstest"), "eth0 10.0.0.2/24");
    assert!(plan.nodes[0].is_host);
    assert!(!plan.nodes[1].is_host);
}

#[test]
fn gateway_with_automatic_subnets() {
    let plan = plan_of("client -- gateway -- server");
    assert_eq!(
        show_ipv4(&plan, "client"),
        "eth0 10.0.1.1/24, default via 10.0.1.254"
    );
    assert_eq!(
        show_ipv4(&plan, "gateway"),
        "eth0 10.0.1.254/24, eth1 10.0.2.254/24, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "server"),
        "eth0 10.0.2.1/24, default via 10.0.2.254"
    );
    assert_eq!(plan.nodes[1].interfaces[1].segment, 1);
}

#[test]
fn chain_of_routers_routes_both_ways() {
    let plan = plan_of("a -- r1 -- r2 -- r3 -- b");
    assert_eq!(
        show_ipv4(&plan, "a"),
        "eth0 10.0.1.1/24, default via 10.0.1.254"
    );
    assert_eq!(
        show_ipv4(&plan, "r1"),
        "eth0 10.0.1.254/24, eth1 10.0.2.254/24, \
         10.0.3.0/24 via 10.0.2.253, 10.0.4.0/24 via 10.0.2.253, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "r2"),
        "eth0 10.0.2.253/24, eth1 10.0.3.254/24, \
         10.0.1.0/24 via 10.0.2.254, 10.0.4.0/24 via 10.0.3.253, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "r3"),
        "eth0 10.0.3.253/24, eth1 10.0.4.254/24, \
         10.0.1.0/24 via 10.0.3.254, 10.0.2.0/24 via 10.0.3.254, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "b"),
        "eth0 10.0.4.1/24, default via 10.0.4.254"
    );
}

#[test]
fn switch_with_a_router() {
    let plan = plan_of("switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan");
    assert_eq!(
        show_ipv4(&plan, "pc1"),
        "eth0 10.0.1.1/24, default via 10.0.1.254"
    );
    assert_eq!(
        show_ipv4(&plan, "pc2"),
        "eth0 10.0.1.2/24, default via 10.0.1.254"
    );
    assert_eq!(
        show_ipv4(&plan, "r1"),
        "eth0 10.0.1.254/24, eth1 10.0.2.254/24, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "wan"),
        "eth0 10.0.2.1/24, default via 10.0.2.254"
    );
    let r1 = VethPlan {
        a: end(Place::Node(2), "eth0"),
        b: end(Place::Bridge(0), "b0p2"),
        settings: LinkSettings::default(),
    };
    assert_eq!(plan.veths[2], r1);
    let wan = VethPlan {
        a: end(Place::Node(2), "eth1"),
        b: end(Place::Node(3), "eth0"),
        settings: LinkSettings::default(),
    };
    assert_eq!(plan.veths[3], wan);
}

#[test]
fn automatic_subnets_skip_explicit_ones() {
    let plan = plan_of("a -- b; c -- d [subnet=10.0.1.0/24]; e -- f");
    assert_eq!(show_ipv4(&plan, "a"), "eth0 10.0.2.1/24");
    assert_eq!(show_ipv4(&plan, "c"), "eth0 10.0.1.1/24");
    assert_eq!(show_ipv4(&plan, "e"), "eth0 10.0.3.1/24");
    let plan = plan_of("a -- b; c -- d [subnet=10.0.0.0/23]");
    assert_eq!(show_ipv4(&plan, "a"), "eth0 10.0.2.1/24");
}

#[test]
fn routers_on_a_shared_switch_take_the_top_addresses() {
    let plan = plan_of("switch core; {r1 r2} -- core; a -- r1; r2 -- b; pc -- core");
    assert_eq!(
        show_ipv4(&plan, "pc"),
        "eth0 10.0.1.1/24, default via 10.0.1.254"
    );
    assert_eq!(
        show_ipv4(&plan, "r1"),
        "eth0 10.0.1.254/24, eth1 10.0.2.254/24, 10.0.3.0/24 via 10.0.1.253, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "r2"),
        "eth0 10.0.1.253/24, eth1 10.0.3.254/24, 10.0.2.0/24 via 10.0.1.254, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "b"),
        "eth0 10.0.3.1/24, default via 10.0.3.254"
    );
}

#[test]
fn ties_go_to_the_earlier_path() {
    // Two equally short paths from r1 to the b segment: through r2 (written first) and r3.
    let plan = plan_of("r1 -- r2 -- r4 -- b; r1 -- r3 -- r4");
    let r1 = plan.node("r1").unwrap();
    let to_b = &r1
        .routes
        .iter()
        .find(|r| r.destination == "10.0.3.0/24".parse().ok());
    assert_eq!(to_b.unwrap().gateway, Ipv4Addr::new(10, 0, 1, 253));
}

#[test]
fn unconnected_parts_get_no_routes_to_each_other() {
    let plan = plan_of("a -- r1 -- b; c -- r2 -- d; lone");
    assert_eq!(
        show_ipv4(&plan, "r1"),
        "eth0 10.0.1.254/24, eth1 10.0.2.254/24, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "r2"),
        "eth0 10.0.3.254/24, eth1 10.0.4.254/24, forwarding"
    );
    assert_eq!(show_ipv4(&plan, "lone"), "");
}

#[test]
fn groups_link_every_pair_in_order() {
    let plan = plan_of("{a b} -- {c d}");
    // Every node has two links, so all four are routers, in a square.
    assert_eq!(
        show_ipv4(&plan, "a"),
        "eth0 10.0.1.254/24, eth1 10.0.2.254/24, \
         10.0.3.0/24 via 10.0.1.253, 10.0.4.0/24 via 10.0.2.253, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "c"),
        "eth0 10.0.1.253/24, eth1 10.0.3.253/24, \
         10.0.2.0/24 via 10.0.1.254, 10.0.4.0/24 via 10.0.3.254, forwarding"
    );
    let names: Vec<(&str, &str)> = plan
        .veths
        .iter()
        .map(|v| (v.a.ifname.as_str(), v.b.ifname.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("eth0", "eth0"),
            ("eth1", "eth0"),
            ("eth0", "eth1"),
            ("eth1", "eth1")
        ]
    );
    assert_eq!(plan.nodes[2].interface("eth1").unwrap().segment, 2);
}

#[test]
fn link_settings_go_to_every_link_of_their_chain() {
    let plan =
        plan_of("switch lan; {a b} -- lan [mtu=1280, rate=1mbit]; lan -- c; c -- d [delay=5ms]");
    let mtus: Vec<Option<u32>> = plan.veths.iter().map(|v| v.settings.mtu).collect();
    assert_eq!(mtus, [Some(1280), Some(1280), None, None]);
    assert_eq!(
        plan.veths[1].settings.rate,
        Some(crate::Directed::both(1_000_000))
    );
    assert_eq!(
        plan.veths[3].settings.delay_us,
        Some(crate::Directed::both(5_000))
    );
    assert_eq!(plan.veths[3].settings.rate, None);
}

#[test]
fn a_rate_can_differ_per_direction() {
    let plan = plan_of("phone -- tower [rate=10mbit/1.5mbit]; tower -- net [rate=1gbit]");
    assert_eq!(
        plan.veths[0].settings.rate,
        Some(crate::Directed {
            ab: 10_000_000,
            ba: 1_500_000
        })
    );
    assert_eq!(
        plan.veths[1].settings.rate,
        Some(crate::Directed::both(1_000_000_000))
    );
}

#[test]
fn names_stay_within_ifnamsiz() {
    let text: String = (0..300).map(|n| format!("n{n} -- sw;")).collect();
    let plan = plan_of(&format!("switch sw; n -- sw [subnet=10.0.0.0/22]; {text}"));
    assert_eq!(plan.veths[300].b.ifname, "b0p300");
    assert_eq!(show_ipv4(&plan, "n299"), "eth0 10.0.1.45/22");
}
