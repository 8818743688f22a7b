//! The ruleset of one NAT, computed from its [`NatPlan`]: pure data (sets, chains, rules), so it
//! is tested without a kernel. Why each rule is there is said where it is made.
//!
//! Registers: a concatenated key takes one 32-bit register per field (`NFT_REG32_00` on), each
//! field padded to 4 bytes, as the kernel lays out set keys.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::filter;
use super::objects::{
    Chain, ChainKind, CtKey, Expr, Field, Hook, MetaKey, RANDOM_FULLY, Rule, Set, reg,
};
use super::pieces::{
    TCP, UDP, address, ct_original, dnat, eq, interface, ip_daddr, ip_saddr, ipv4, l4proto, meta,
    number, proto_and_sport, rule, snat, th_dport, th_sport,
};
use crate::topology::{Filtering, Mapping, NatPlan};

/// `mapping`: (inside address . protocol . inside port) to the outside port.
pub(super) const MAPPING: Set = Set {
    name: "mapping",
    key: &[Field::Ipv4, Field::Proto, Field::Port],
    data: Some(&[Field::Port]),
};

/// `mapping` of an address-dependent NAT: the remote address is part of the key.
pub(super) const MAPPING_BY_ADDRESS: Set = Set {
    name: "mapping",
    key: &[Field::Ipv4, Field::Proto, Field::Port, Field::Ipv4],
    data: Some(&[Field::Port]),
};

/// `taken`: (protocol . outside port) of every mapping of an endpoint-independent NAT, so that a
/// new inside endpoint keeps its own port only when no other mapping has it. conntrack alone
/// would let two inside endpoints share an outside port as long as they talk to different
/// remotes, which an endpoint-independent mapping must not (the second endpoint's mapping would
/// then clash with the first's as soon as both talk to the same remote).
pub(super) const TAKEN: Set = Set {
    name: "taken",
    key: &[Field::Proto, Field::Port],
    data: None,
};

/// `reverse`: (protocol . outside port) to (inside address . inside port).
pub(super) const REVERSE: Set = Set {
    name: "reverse",
    key: &[Field::Proto, Field::Port],
    data: Some(&[Field::Ipv4, Field::Port]),
};

/// `allowed`: (protocol . outside port . remote address), for address-dependent filtering.
pub(super) const ALLOWED: Set = Set {
    name: "allowed",
    key: &[Field::Proto, Field::Port, Field::Ipv4],
    data: None,
};

/// The chain that fills the sets, after `srcnat` has rewritten the packet.
pub(super) const RECORD: &str = "record";

/// The packet mark a hairpinned flow's first packet carries from prerouting to postrouting,
/// where `iifname` is not known.
const HAIRPIN_MARK: u32 = 0x4e41_5450;

/// Everything `install` creates, in order.
#[derive(Debug)]
pub(super) struct Ruleset {
    pub(super) sets: Vec<Set>,
    pub(super) chains: Vec<Chain>,
    pub(super) rules: Vec<Rule>,
}

/// The sets a behaviour needs.
pub(super) fn sets(nat: &NatPlan) -> Vec<Set> {
    let b = nat.behaviour;
    let mut sets = Vec::new();
    match b.mapping {
        Mapping::EndpointIndependent => sets.extend([MAPPING, TAKEN]),
        Mapping::AddressDependent => sets.push(MAPPING_BY_ADDRESS),
        Mapping::AddressAndPortDependent => {}
    }
    if b.filtering != Filtering::AddressAndPortDependent || b.hairpin {
        sets.push(REVERSE);
    }
    if b.filtering == Filtering::AddressDependent {
        sets.push(ALLOWED);
    }
    sets
}

pub(super) fn ruleset(nat: &NatPlan) -> Ruleset {
    let chains = vec![
        Chain {
            name: "postrouting",
            kind: ChainKind::Nat,
            hook: Hook::Postrouting,
            priority: 100,
        },
        Chain {
            name: RECORD,
            kind: ChainKind::Filter,
            hook: Hook::Postrouting,
            priority: 200,
        },
        Chain {
            name: "prerouting",
            kind: ChainKind::Nat,
            hook: Hook::Prerouting,
            priority: -100,
        },
        Chain {
            name: "forward",
            kind: ChainKind::Filter,
            hook: Hook::Forward,
            priority: 0,
        },
        Chain {
            name: "input",
            kind: ChainKind::Filter,
            hook: Hook::Input,
            priority: 0,
        },
    ];
    let mut rules = postrouting(nat);
    rules.extend(record(nat, nat.timeout));
    rules.extend(prerouting(nat));
    rules.extend(filter::forward(nat));
    rules.extend(filter::input(nat));
    Ruleset {
        sets: sets(nat),
        chains,
        rules,
    }
}

/// A NAT that needs every set and expression, on `lo`: what [`probe`](super::probe) installs.
pub(super) fn probe_plan() -> NatPlan {
    NatPlan {
        node: 0,
        preset: None,
        behaviour: crate::topology::Behaviour {
            mapping: Mapping::EndpointIndependent,
            filtering: Filtering::AddressDependent,
            hairpin: true,
            firewall6: true,
        },
        timeout: Duration::from_secs(1),
        tcp_timeout: Duration::from_secs(1),
        outside: "lo".into(),
        outside_ipv4: Ipv4Addr::LOCALHOST,
        inside: vec!["lo".into()],
        forwards: Vec::new(),
        pinholes: Vec::new(),
    }
}

/// `snat ip to A : @mapping[key]`: the mapping's port when the inside endpoint has one; the
/// rule does not match when the lookup misses.
fn snat_by_mapping(nat: &NatPlan) -> Vec<Expr> {
    let mut exprs = vec![
        ip_saddr(reg(0)),
        meta(MetaKey::L4proto, reg(1)),
        th_sport(reg(2)),
    ];
    if nat.behaviour.mapping == Mapping::AddressDependent {
        exprs.push(ip_daddr(reg(3)));
    }
    exprs.extend([
        Expr::Lookup {
            set: MAPPING.name,
            sreg: reg(0),
            dreg: Some(reg(4)),
        },
        address(reg(5), nat.outside_ipv4),
        snat(reg(5), Some(reg(4)), 0),
    ]);
    exprs
}

fn postrouting(nat: &NatPlan) -> Vec<Rule> {
    let chain = "postrouting";
    let a = nat.outside_ipv4;
    let o = nat.outside.as_str();
    let has_mapping = nat.behaviour.mapping != Mapping::AddressAndPortDependent;
    // A port for every new flow, unless the mapping is endpoint-independent, where Linux keeps
    // the inside port when it is free on the outside (port preservation, as most home routers)
    // and no other mapping has it (`taken`).
    let fallback_flags = match nat.behaviour.mapping {
        Mapping::EndpointIndependent => 0,
        _ => RANDOM_FULLY,
    };
    // Where the inside port is another mapping's outside port, a random one instead.
    let taken = |prefix: Vec<Expr>, what: String| -> Option<Rule> {
        (nat.behaviour.mapping == Mapping::EndpointIndependent).then(|| {
            rule(
                chain,
                format!("{what}, a random port where the inside port is taken"),
                vec![
                    prefix,
                    proto_and_sport().into(),
                    vec![
                        Expr::Lookup {
                            set: TAKEN.name,
                            sreg: reg(0),
                            dreg: None,
                        },
                        address(reg(2), a),
                        snat(reg(2), None, RANDOM_FULLY),
                    ],
                ],
            )
        })
    };
    let out = || -> Vec<Expr> {
        let mut exprs: Vec<Expr> = interface(MetaKey::Oifname, o).into();
        exprs.extend(ipv4());
        exprs
    };
    let mut rules = Vec::new();
    if has_mapping {
        rules.push(rule(
            chain,
            format!("oifname {o} snat to {a} and the inside endpoint's mapped port"),
            vec![out(), snat_by_mapping(nat)],
        ));
    }
    rules.extend(taken(out(), format!("oifname {o} snat to {a}")));
    rules.push(rule(
        chain,
        format!("oifname {o} snat to {a}"),
        vec![
            out(),
            vec![address(reg(0), a), snat(reg(0), None, fallback_flags)],
        ],
    ));
    if nat.behaviour.hairpin {
        // A flow hairpinned in prerouting (marked there) leaves by an inside interface: from
        // the NAT's address, so that the receiver sees the sender's public endpoint and
        // answers through the NAT.
        let marked = || -> Vec<Expr> {
            vec![
                meta(MetaKey::Mark, reg(0)),
                eq(reg(0), &HAIRPIN_MARK.to_ne_bytes()),
            ]
        };
        let marked_ipv4 = || -> Vec<Expr> {
            let mut exprs = marked();
            exprs.extend(ipv4());
            exprs
        };
        if has_mapping {
            rules.push(rule(
                chain,
                format!("hairpin: snat to {a} and the sender's mapped port"),
                vec![marked_ipv4(), snat_by_mapping(nat)],
            ));
        }
        rules.extend(taken(marked_ipv4(), format!("hairpin: snat to {a}")));
        rules.push(rule(
            chain,
            format!("hairpin: snat to {a}"),
            vec![
                marked(),
                ipv4().into(),
                vec![address(reg(0), a), snat(reg(0), None, fallback_flags)],
            ],
        ));
    }
    rules
}

/// The rules that fill the sets from every packet an inside flow sends out (each refreshes
/// the element's timeout: RFC 4787 REQ-6), one rule per protocol. Runs after `srcnat`, so `th
/// sport` is the outside port; the inside endpoint comes from conntrack's original tuple.
pub(super) fn record(nat: &NatPlan, timeout: Duration) -> Vec<Rule> {
    let o = nat.outside.as_str();
    let timeout_ms = timeout.as_secs().max(1) * 1000;
    let b = nat.behaviour;
    let sets = sets(nat);
    if sets.is_empty() {
        return Vec::new();
    }
    let mut rules = Vec::new();
    for (proto, name) in [(TCP, "tcp"), (UDP, "udp")] {
        let mut exprs: Vec<Expr> = interface(MetaKey::Oifname, o).into();
        exprs.extend(ipv4());
        exprs.extend(l4proto(proto));
        // Only the original direction: the replies of a port-forwarded flow leave by the
        // outside interface too, and are no inside endpoint's mapping.
        exprs.extend([
            Expr::Ct {
                key: CtKey::Direction,
                dreg: reg(0),
                original: false,
            },
            eq(reg(0), &[0]),
        ]);
        if b.mapping != Mapping::AddressAndPortDependent {
            exprs.extend([
                ct_original(CtKey::SrcIp, reg(0)),
                meta(MetaKey::L4proto, reg(1)),
                ct_original(CtKey::ProtoSrc, reg(2)),
            ]);
            if b.mapping == Mapping::AddressDependent {
                exprs.push(ip_daddr(reg(3)));
            }
            exprs.extend([
                th_sport(reg(4)),
                Expr::Dynset {
                    set: MAPPING.name,
                    sreg_key: reg(0),
                    sreg_data: Some(reg(4)),
                    timeout_ms,
                },
            ]);
        }
        if sets.contains(&TAKEN) {
            exprs.extend(proto_and_sport());
            exprs.extend([Expr::Dynset {
                set: TAKEN.name,
                sreg_key: reg(0),
                sreg_data: None,
                timeout_ms,
            }]);
        }
        if sets.contains(&REVERSE) {
            exprs.extend(proto_and_sport());
            exprs.extend([
                ct_original(CtKey::SrcIp, reg(2)),
                ct_original(CtKey::ProtoSrc, reg(3)),
                Expr::Dynset {
                    set: REVERSE.name,
                    sreg_key: reg(0),
                    sreg_data: Some(reg(2)),
                    timeout_ms,
                },
            ]);
        }
        if sets.contains(&ALLOWED) {
            exprs.extend(proto_and_sport());
            exprs.extend([
                ip_daddr(reg(2)),
                Expr::Dynset {
                    set: ALLOWED.name,
                    sreg_key: reg(0),
                    sreg_data: None,
                    timeout_ms,
                },
            ]);
        }
        rules.push(Rule {
            chain: RECORD,
            what: format!("recording the {name} mappings leaving {o}"),
            exprs,
        });
    }
    rules
}

/// `dnat to @reverse[l4proto . th dport]`, after `prefix`; `extra` go between the lookup and
/// the translation.
fn dnat_by_reverse(prefix: Vec<Expr>, extra: Vec<Expr>) -> Vec<Expr> {
    let mut exprs = prefix;
    exprs.extend([
        meta(MetaKey::L4proto, reg(0)),
        th_dport(reg(1)),
        Expr::Lookup {
            set: REVERSE.name,
            sreg: reg(0),
            dreg: Some(reg(4)),
        },
    ]);
    exprs.extend(extra);
    exprs.push(dnat(reg(4), reg(5)));
    exprs
}

/// Sets the hairpin mark (from register 6, which no lookup uses).
fn mark_hairpin() -> Vec<Expr> {
    vec![
        Expr::Immediate {
            dreg: reg(6),
            data: HAIRPIN_MARK.to_ne_bytes().to_vec(),
        },
        Expr::MetaSet {
            key: MetaKey::Mark,
            sreg: reg(6),
        },
    ]
}

/// The chain must exist even when it has no rule: without a nat chain in prerouting, replies
/// are not translated back. NAT chains see only a flow's first packet, so established flows
/// never meet these rules.
fn prerouting(nat: &NatPlan) -> Vec<Rule> {
    let chain = "prerouting";
    let a = nat.outside_ipv4;
    let o = nat.outside.as_str();
    let to_a = |iif: &str| -> Vec<Expr> {
        let mut exprs: Vec<Expr> = interface(MetaKey::Iifname, iif).into();
        exprs.extend(ipv4());
        exprs.extend([ip_daddr(reg(0)), eq(reg(0), &a.octets())]);
        exprs
    };
    let mut rules = Vec::new();
    let mut from: Vec<(&str, bool)> = vec![(o, false)];
    if nat.behaviour.hairpin {
        from.extend(nat.inside.iter().map(|i| (i.as_str(), true)));
    }
    for forward in &nat.forwards {
        let proto = number(forward.protocol);
        for &(iif, hairpin) in &from {
            let mut exprs = to_a(iif);
            exprs.extend(l4proto(proto));
            exprs.extend([
                th_dport(reg(0)),
                eq(reg(0), &forward.outside_port.to_be_bytes()),
            ]);
            if hairpin {
                exprs.extend(mark_hairpin());
            }
            exprs.extend([
                address(reg(0), forward.address),
                Expr::Immediate {
                    dreg: reg(1),
                    data: forward.port.to_be_bytes().to_vec(),
                },
                dnat(reg(0), reg(1)),
            ]);
            rules.push(rule(
                chain,
                format!(
                    "iifname {iif} {} dport {} dnat to {}:{}",
                    forward.protocol.name(),
                    forward.outside_port,
                    forward.address,
                    forward.port
                ),
                vec![exprs],
            ));
        }
    }
    match nat.behaviour.filtering {
        Filtering::EndpointIndependent => rules.push(rule(
            chain,
            format!("iifname {o} dnat to the mapping's inside endpoint"),
            vec![dnat_by_reverse(to_a(o), Vec::new())],
        )),
        Filtering::AddressDependent => {
            let mut exprs = to_a(o);
            exprs.extend([
                meta(MetaKey::L4proto, reg(0)),
                th_dport(reg(1)),
                ip_saddr(reg(2)),
                Expr::Lookup {
                    set: ALLOWED.name,
                    sreg: reg(0),
                    dreg: None,
                },
            ]);
            rules.push(rule(
                chain,
                format!(
                    "iifname {o} from a contacted address dnat to the mapping's inside endpoint"
                ),
                vec![dnat_by_reverse(exprs, Vec::new())],
            ));
        }
        Filtering::AddressAndPortDependent => {}
    }
    if nat.behaviour.hairpin {
        for inside in &nat.inside {
            rules.push(rule(
                chain,
                format!("hairpin: iifname {inside} dnat to the mapping's inside endpoint"),
                vec![dnat_by_reverse(to_a(inside), mark_hairpin())],
            ));
        }
    }
    rules
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::topology::{DEFAULT_TCP_TIMEOUT, DEFAULT_TIMEOUT, Preset};

    pub(crate) fn plan(preset: Preset) -> NatPlan {
        NatPlan {
            node: 1,
            preset: Some(preset),
            behaviour: preset.behaviour(),
            timeout: DEFAULT_TIMEOUT,
            tcp_timeout: DEFAULT_TCP_TIMEOUT,
            outside: "eth1".into(),
            outside_ipv4: Ipv4Addr::new(203, 0, 113, 2),
            inside: vec!["eth0".into()],
            forwards: Vec::new(),
            pinholes: Vec::new(),
        }
    }

    fn names(sets: &[Set]) -> Vec<&str> {
        sets.iter().map(|s| s.name).collect()
    }

    #[test]
    fn each_behaviour_gets_only_the_sets_it_needs() {
        assert_eq!(
            names(&sets(&plan(Preset::FullCone))),
            ["mapping", "taken", "reverse"]
        );
        assert_eq!(
            names(&sets(&plan(Preset::RestrictedCone))),
            ["mapping", "taken", "reverse", "allowed"]
        );
        assert_eq!(
            names(&sets(&plan(Preset::PortRestricted))),
            ["mapping", "taken"]
        );
        assert_eq!(names(&sets(&plan(Preset::Symmetric))), Vec::<&str>::new());
        assert!(record(&plan(Preset::Symmetric), DEFAULT_TIMEOUT).is_empty());
        let mut adm = plan(Preset::PortRestricted);
        adm.behaviour.mapping = Mapping::AddressDependent;
        assert_eq!(sets(&adm), [MAPPING_BY_ADDRESS]);
    }

    /// An endpoint-independent NAT keeps the inside port unless another mapping has it, then
    /// takes a random one; the others take a random port for every new mapping.
    #[test]
    fn the_fallback_snat_is_random_fully_unless_the_mapping_is_endpoint_independent() {
        let flags = |preset: Preset| -> Vec<u32> {
            postrouting(&plan(preset))
                .iter()
                .flat_map(|r| r.exprs.iter())
                .filter_map(|e| match e {
                    Expr::Nat {
                        proto: None, flags, ..
                    } => Some(*flags),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(flags(Preset::PortRestricted), [RANDOM_FULLY, 0]);
        assert_eq!(flags(Preset::Symmetric), [RANDOM_FULLY]);
        // cgnat hairpins: the same again for hairpinned flows.
        assert_eq!(flags(Preset::Cgnat), [RANDOM_FULLY, 0, RANDOM_FULLY, 0]);
        let taken_first = postrouting(&plan(Preset::PortRestricted))
            .iter()
            .position(|r| {
                (r.exprs.iter())
                    .any(|e| matches!(e, Expr::Lookup { set, .. } if *set == TAKEN.name))
            });
        assert_eq!(
            taken_first,
            Some(1),
            "after the mapping's rule, before the fallback"
        );
    }

    #[test]
    fn timeouts_are_whole_seconds_of_at_least_one() {
        let rules = record(&plan(Preset::FullCone), Duration::from_millis(10));
        assert!(rules.iter().flat_map(|r| &r.exprs).all(|e| match e {
            Expr::Dynset { timeout_ms, .. } => *timeout_ms == 1000,
            _ => true,
        }));
    }
}
