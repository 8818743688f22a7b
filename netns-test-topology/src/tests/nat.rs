//! `nat` statements: realms, their addresses and routes, the plan's NATs, and every mistake.

use super::support::{assert_errors, plan_of, show, show_ipv4};
use crate::Topology;
use crate::nat::{DEFAULT_TCP_TIMEOUT, DEFAULT_TIMEOUT, Filtering, Mapping, Preset, Protocol};

/// Two homes on the same private subnet, on a public switch with a server.
const TWO_HOMES: &str = "switch internet
{home-a home-b server} -- internet
peer-a -- home-a
peer-b -- home-b
nat home-a [outside=internet, type=port-restricted]
nat home-b [outside=internet, type=symmetric]";

#[test]
fn two_homes_reuse_one_private_subnet_and_the_internet_is_public() {
    let plan = plan_of(TWO_HOMES);
    for line in [show_ipv4(&plan, "peer-a"), show_ipv4(&plan, "peer-b")] {
        assert_eq!(line, "eth0 192.168.1.1/24, default via 192.168.1.254");
    }
    assert_eq!(
        show_ipv4(&plan, "home-a"),
        "eth0 192.0.2.254/24, eth1 192.168.1.254/24, forwarding"
    );
    assert_eq!(show_ipv4(&plan, "server"), "eth0 192.0.2.1/24");
    let server = plan.node("server").unwrap();
    assert!(!server.interfaces[0].ipv4.unwrap().addr().is_private());
}

#[test]
fn nothing_outside_a_nat_has_an_ipv4_route_into_it_and_ipv6_is_routed() {
    let plan = plan_of("laptop -- home -- isp -- server; nat home [outside=isp]");
    assert_eq!(
        show_ipv4(&plan, "isp"),
        "eth0 192.0.2.253/24, eth1 198.51.100.254/24, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "home"),
        "eth0 192.168.1.254/24, eth1 192.0.2.254/24, \
         198.51.100.0/24 via 192.0.2.253, forwarding"
    );
    assert_eq!(
        show_ipv4(&plan, "server"),
        "eth0 198.51.100.1/24, default via 198.51.100.254"
    );
    // IPv6 is not translated: every address looks global, and the ISP routes to the home.
    let isp = show(&plan, "isp");
    assert!(
        isp.contains("2001:db8:0:1::/64 via 2001:db8:0:2::254"),
        "{isp}"
    );
}

#[test]
fn double_nat_gives_the_home_a_carrier_address_outside() {
    let plan = plan_of(
        "laptop -- home -- isp -- internet
         nat home [outside=isp]
         nat isp [outside=internet, type=cgnat]",
    );
    assert_eq!(
        show_ipv4(&plan, "laptop"),
        "eth0 192.168.1.1/24, default via 192.168.1.254"
    );
    assert_eq!(
        show_ipv4(&plan, "home"),
        "eth0 192.168.1.254/24, eth1 100.64.1.254/24, 192.0.2.0/24 via 100.64.1.253, forwarding"
    );
    assert_eq!(show_ipv4(&plan, "internet"), "eth0 192.0.2.1/24");
    let [home, isp] = &plan.nats[..] else {
        panic!("{:?}", plan.nats)
    };
    assert_eq!(
        (home.outside.as_str(), home.outside_ipv4.to_string()),
        ("eth1", "100.64.1.254".into())
    );
    assert_eq!(
        (isp.outside.as_str(), isp.outside_ipv4.to_string()),
        ("eth1", "192.0.2.254".into())
    );
    assert_eq!(isp.inside, ["eth0"]);
    assert_eq!(isp.preset, Some(Preset::Cgnat));
    assert!(isp.behaviour.hairpin && !isp.behaviour.firewall6);
    assert_eq!(home.describe(), "port-restricted");
}

#[test]
fn settings_override_the_preset_and_forwards_reach_the_inside_address() {
    let plan = plan_of(
        "switch lan; {pc server} -- lan -- home -- internet
         nat home [outside=internet, type=full-cone, filtering=address-dependent, hairpin=on,
                   timeout=30s, forward=tcp:8080:server:80, forward=udp:5000:pc]",
    );
    let nat = &plan.nats[0];
    assert_eq!(nat.behaviour.mapping, Mapping::EndpointIndependent);
    assert_eq!(nat.behaviour.filtering, Filtering::AddressDependent);
    assert!(nat.behaviour.hairpin);
    assert_eq!(nat.timeout.as_secs(), 30);
    assert_eq!(nat.tcp_timeout, DEFAULT_TCP_TIMEOUT);
    assert_eq!(nat.describe(), "EIM, ADF, hairpin");
    let tcp = plan_of("a -- home -- b; nat home [outside=b, tcp-timeout=45s]");
    assert_eq!(tcp.nats[0].tcp_timeout.as_secs(), 45);
    assert_eq!(tcp.nats[0].timeout, DEFAULT_TIMEOUT);
    let forwards: Vec<String> = nat
        .forwards
        .iter()
        .map(|f| {
            format!(
                "{:?} {} {}:{}",
                f.protocol, f.outside_port, f.address, f.port
            )
        })
        .collect();
    assert_eq!(
        forwards,
        ["Tcp 8080 192.168.1.2:80", "Udp 5000 192.168.1.1:5000"]
    );
    assert_eq!(nat.forwards[0].protocol, Protocol::Tcp);
}

#[test]
fn a_topology_with_nats_shows_as_text_that_parses_back() {
    for text in [
        TWO_HOMES,
        "switch lan; {pc server} -- lan -- home -- internet
         nat home [outside=internet, mapping=address-dependent, firewall6=off, timeout=2m,
                   tcp-timeout=90s, forward=tcp:8080:server:80]",
    ] {
        let topology = Topology::parse(text).unwrap();
        let shown = topology.to_string();
        let again = Topology::parse(&shown).unwrap_or_else(|e| panic!("{shown}\n{e}"));
        assert_eq!(again, topology, "{shown}");
    }
    let shown = Topology::parse("a -- home -- b; nat home [outside=b]")
        .unwrap()
        .to_string();
    assert_eq!(
        shown,
        "a -- home; home -- b; nat home [outside=b, type=port-restricted]"
    );
}

#[test]
fn explicit_subnets_may_repeat_across_homes_but_not_inside_one() {
    plan_of(
        "switch internet; {a b} -- internet
         x -- a [subnet=192.168.7.0/24]; y -- b [subnet=192.168.7.0/24]
         nat a [outside=internet]; nat b [outside=internet]",
    );
    assert_errors(
        "switch internet; {a b} -- internet [subnet=192.168.7.0/24]
         x -- a [subnet=«192.168.7.0/24»]
         nat a [outside=internet]",
        &[
            "subnet `192.168.7.0/24` is already the subnet of another segment; every segment \
           needs a subnet of its own",
        ],
    );
}

#[test]
fn mistakes_in_nat_statements() {
    assert_errors(
        "a -- home -- b; «nat home»",
        &[
            "`nat home` needs its outside: the neighbour its outside link goes to, one of `a`, \
           `b`, as in `nat home [outside=b]`",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=«c»]",
        &[
            "`outside=c`: the topology has no node or switch `c`; the outside is one of `home`'s \
           neighbours: `a`, `b`",
        ],
    );
    assert_errors(
        "a -- home -- isp; x; nat home [outside=«ips»]",
        &[
            "`outside=ips`: the topology has no node or switch `ips`; did you mean `isp`? the \
           outside is one of `home`'s neighbours: `a`, `isp`",
        ],
    );
    assert_errors(
        "a -- home -- b; x; nat home [outside=«x»]",
        &[
            "`outside=x`: `home` has no link to `x`; the outside is one of `home`'s neighbours: \
           `a`, `b`",
        ],
    );
    assert_errors(
        "a -- home; «nat home [outside=a]»",
        &[
            "`nat home`: `home` has one link, to `a`, and a NAT stands between an inside and an \
           outside: link it to its inside too, as in `laptop -- home`",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, type=«full-con»]",
        &[
            "unknown type `full-con`: did you mean `full-cone`? `type=` is one of `full-cone`, \
           `restricted-cone`, `port-restricted`, `symmetric`, `cgnat`",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, «subnet»=10.0.0.0/24]",
        &[
            "unknown attribute `subnet`; valid attributes of `nat`: `outside`, `type`, `mapping`, \
           `filtering`, `hairpin`, `firewall6`, `timeout`, `tcp-timeout`, `forward`, `pinhole`",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, timeout=«1.5s»]",
        &[
            "`timeout=1.5s` is not a whole number of seconds, and a NAT's timeouts are whole \
           seconds (as conntrack counts them); write `timeout=1s` or more, as in `timeout=30s`",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, tcp-timeout=«2d»]",
        &["`2d` has an unknown unit `d`: use `us`, `ms`, `s` or `m`, as in `30s`"],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, tcp-timeout=«1441m»]",
        &[
            "`tcp-timeout=1441m` is longer than a day, the longest a NAT keeps an idle flow here; \
           write `tcp-timeout=1440m` or less, as in `tcp-timeout=5m`",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, forward=«tcp:80:b»]",
        &[
            "`forward=tcp:80:b:80` reaches `b`, which is not inside `home`; a port forward \
           reaches a node inside it, one of `a`",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, forward=«sctp:80:a»]",
        &[
            "`sctp` in `forward=sctp:80:a` is not a protocol: a port forward is `tcp` or `udp`, \
           as in `forward=tcp:8080:server:80` (the outside port, then the node and its port) \
           or `forward=udp:5000:peer` (the same port)",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, forward=udp:53:a, forward=«udp:53:a:5353»]",
        &[
            "`forward=udp:53:a:5353`: udp port 53 of `home` is already forwarded; forward each \
           outside port once",
        ],
    );
    assert_errors(
        "a -- home -- b -- c -- a; «nat home [outside=b]»",
        &[
            "the inside of `nat home` is linked to its outside, `b`, by another way than through \
           `home`; a NAT must be the only way out of its inside: remove the other link, or make \
           its router a NAT too",
        ],
    );
    assert_errors(
        "switch lan; lan -- r; nat «lan» [outside=r]",
        &[
            "`lan` is a switch, and only a router can be a NAT; link a router to the switch and \
           declare it: `lan -- home; nat home [outside=lan]`",
        ],
    );
    assert_errors(
        "a -- home -- b; host home; nat «home» [outside=b]",
        &["`home` is declared `host`, and a NAT is a router that forwards: remove `host home`"],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b]; nat «home» [outside=a]",
        &["`home` is declared `nat` twice; declare it once, with all its settings in one `[...]`"],
    );
    assert_errors(
        "[ipv4=off]; a -- home -- b; «nat home [outside=b]»",
        &[
            "`nat home` translates IPv4, and this topology has `[ipv4=off]`; remove one of them \
           (IPv6 is never translated)",
        ],
    );
}

#[test]
fn a_pinhole_opens_a_port_of_a_node_inside_to_ipv6() {
    let plan = plan_of(
        "switch lan; {pc server} -- lan -- home -- internet; inner -- attic -- lan
         nat home [outside=internet, pinhole=tcp:server:80, pinhole=udp:inner:4433]
         nat attic [outside=lan]",
    );
    let nat = &plan.nats[0];
    let server = plan.nodes.iter().position(|n| n.name == "server").unwrap();
    assert_eq!(nat.pinholes[0].node, server);
    assert_eq!(nat.pinholes[0].protocol, Protocol::Tcp);
    assert_eq!(nat.pinholes[0].port, 80);
    let addresses: Vec<_> = (plan.nodes[server].interfaces.iter())
        .filter_map(|i| i.ipv6.map(|a| a.addr()))
        .collect();
    assert_eq!(nat.pinholes[0].addresses, addresses);
    // Further in, behind the attic's NAT: IPv6 is routed, so a pinhole reaches there too.
    assert_eq!(plan.nodes[nat.pinholes[1].node].name, "inner");
    let text = "a -- home -- b; nat home [outside=b, pinhole=tcp:a:22]";
    let topology = Topology::parse(text).unwrap();
    assert_eq!(Topology::parse(&topology.to_string()).unwrap(), topology);
    assert!(topology.to_string().contains("pinhole=tcp:a:22"));
    let picture = topology.picture();
    assert!(picture.ends_with(", pinhole tcp a:22\n"), "{picture}");
}

#[test]
fn mistakes_in_pinholes() {
    assert_errors(
        "a -- home -- b; nat home [outside=b, pinhole=«tcp:a»]",
        &[
            "`pinhole=tcp:a` is not a pinhole: write it as in `pinhole=tcp:server:80` (the \
           protocol, the node inside and its port)",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, pinhole=«tcp:a:0»]",
        &[
            "`0` in `pinhole=tcp:a:0` is not a port: a port is a number from 1 to 65535, as in \
           `pinhole=tcp:server:80` (the protocol, the node inside and its port)",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, firewall6=off, pinhole=«tcp:a:22»]",
        &[
            "`pinhole=tcp:a:22` opens a hole in the IPv6 firewall of `home`, which has none \
           (`firewall6=off`: all IPv6 gets in already); remove the pinhole, or write \
           `firewall6=on`",
        ],
    );
    assert_errors(
        "a -- isp -- b; nat isp [outside=b, type=cgnat, pinhole=«tcp:a:22»]",
        &[
            "`pinhole=tcp:a:22` opens a hole in the IPv6 firewall of `isp`, which has none \
           (a `cgnat` has none: all IPv6 gets in already); remove the pinhole, or write \
           `firewall6=on`",
        ],
    );
    assert_errors(
        "[ipv6=off]; a -- home -- b; nat home [outside=b, pinhole=«udp:a:53»]",
        &[
            "`pinhole=udp:a:53` opens a port to IPv6, and this topology has `[ipv6=off]`; \
           remove one of them (an IPv4 port is reached through `forward=`)",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, pinhole=«tcp:b:22»]",
        &[
            "`pinhole=tcp:b:22` reaches `b`, which is not inside `home`; a pinhole reaches a \
           node inside it, one of `a`",
        ],
    );
    assert_errors(
        "laptop -- home -- b; nat home [outside=b, pinhole=«tcp:lapton:22»]",
        &[
            "`pinhole=tcp:lapton:22`: the topology has no node `lapton`; did you mean `laptop`? \
           a pinhole reaches a node inside `home`, one of `laptop`",
        ],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, pinhole=tcp:a:22, pinhole=«tcp:a:22»]",
        &["`pinhole=tcp:a:22` is given twice; give it once"],
    );
    assert_errors(
        "a -- home -- b; nat home [outside=b, forward=«tcp:80:home»]",
        &[
            "`forward=tcp:80:home:80` reaches `home` itself; a port forward reaches a node \
           inside it, one of `a`",
        ],
    );
}

#[test]
fn pictures_say_which_routers_are_nats_and_which_side_is_out() {
    let topology = Topology::parse(
        "laptop -- home -- isp; nat home [outside=isp, forward=tcp:8080:laptop:80]",
    )
    .unwrap();
    let picture = topology.picture();
    assert!(
        picture.ends_with(
            "forwarding: home\nnat home: port-restricted, outside eth1 192.0.2.254/24, inside \
             eth0, tcp 8080 to laptop:80\n"
        ),
        "{picture}"
    );
    let dot = topology.to_dot();
    assert!(dot.contains("<i>NAT: port-restricted</i>"), "{dot}");
    assert!(dot.contains("eth1 192.0.2.254 <i>(outside)</i>"), "{dot}");
}
