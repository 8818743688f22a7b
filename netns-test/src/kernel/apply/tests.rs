//! The pure parts of applying: the indexes chosen, what is awaited, how a wait that failed reads.

use std::net::Ipv4Addr;

use netlink_packet_route::link::{BridgePortState, State};

use super::links::Layout;
use super::ready::{Awaited, describe_pending, expected_up};
use crate::kernel::netlink::Link;
use crate::topology::{BridgePlan, InterfacePlan, Ipv4Cidr, LinkSettings, NodePlan, VethPlan};
use crate::topology::{Place, Plan, VethEnd};

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
                ipv4: Some(cidr([10, 0, i as u8 + 1, 1], 24)),
                ipv6: None,
                segment: i,
                realm: 0,
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
        nats: Vec::new(),
        realm_parents: vec![None],
    }
}

#[test]
fn indexes_are_unique_and_start_at_the_first_free_one() {
    let plan = plan();
    let layout = Layout::new(&plan, 5, &[]);
    assert_eq!(layout.bridges, [5]);
    assert_eq!(layout.veths, [(6, 7), (8, 9), (10, 11)]);
    assert_eq!(layout.relays, [None, None, None]);
    assert_eq!(layout.interface(&plan, 0, "eth0"), Some(6));
    assert_eq!(layout.interface(&plan, 0, "eth1"), Some(10));
    assert_eq!(layout.interface(&plan, 1, "eth0"), Some(8));
    assert_eq!(layout.interface(&plan, 1, "eth1"), Some(11));
    assert_eq!(layout.interface(&plan, 1, "eth2"), None);
}

#[test]
fn relay_ends_are_numbered_after_every_veth() {
    let plan = plan();
    let layout = Layout::new(&plan, 5, &[false, true, true]);
    assert_eq!(layout.veths, [(6, 7), (8, 9), (10, 11)]);
    assert_eq!(layout.relays, [None, Some((12, 13)), Some((14, 15))]);
}

#[test]
fn every_veth_end_is_awaited_in_its_namespace() {
    let plan = plan();
    let expected = expected_up(&plan, &Layout::new(&plan, 2, &[]));
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
    let expected = [
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
        describe_pending(expected.iter().flatten()),
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
