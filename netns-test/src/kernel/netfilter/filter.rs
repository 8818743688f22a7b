//! The filter chains of a NAT's table: what gets through the router from outside, and what
//! must not leave it. Nothing unsolicited crosses from outside; the exceptions (established
//! flows, port forwards, IPv6 pinholes) are said where each rule is made.

use super::objects::{CtKey, Expr, MetaKey, Rule, Verdict, reg};
use super::pieces::{
    TCP, UDP, ct_bits, eq, interface, ip6_daddr, ipv4, ipv6, l4proto, number, rule, th_dport,
};
use crate::topology::NatPlan;

/// `ct state` bits: `invalid` (1), `established` (2), `related` (4), `new` (8).
const INVALID: u32 = 0x1;
const ESTABLISHED_OR_RELATED: u32 = 0x2 | 0x4;
const NEW: u32 = 0x8;
/// `ct status dnat` (`IPS_DST_NAT`).
const DST_NAT: u32 = 0x20;

/// Nothing unsolicited crosses the NAT from outside: only established and related flows, and
/// those a dnat rule let in. IPv6 is not translated; the home router's stateful firewall
/// (`firewall6`) lets it in only on established flows, and to the ports of its pinholes.
pub(super) fn forward(nat: &NatPlan) -> Vec<Rule> {
    let chain = "forward";
    let o = nat.outside.as_str();
    let from_o = || -> Vec<Expr> { interface(MetaKey::Iifname, o).into() };
    let mut drop = from_o();
    if !nat.behaviour.firewall6 {
        drop.extend(ipv4());
    }
    drop.push(Expr::Verdict(Verdict::Drop));
    let pinholes = (nat.pinholes.iter()).flat_map(|pinhole| {
        let proto = number(pinhole.protocol);
        let protocol = pinhole.protocol.name();
        (pinhole.addresses.iter()).map(move |address| {
            rule(
                chain,
                format!(
                    "iifname {o} ip6 daddr {address} {protocol} dport {} accept",
                    pinhole.port
                ),
                vec![
                    from_o(),
                    ipv6().into(),
                    vec![ip6_daddr(reg(0)), eq(reg(0), &address.octets())],
                    l4proto(proto).into(),
                    vec![
                        th_dport(reg(0)),
                        eq(reg(0), &pinhole.port.to_be_bytes()),
                        Expr::Verdict(Verdict::Accept),
                    ],
                ],
            )
        })
    });
    let mut rules = vec![
        rule(
            chain,
            format!("iifname {o} ct state established,related accept"),
            vec![
                from_o(),
                ct_bits(CtKey::State, ESTABLISHED_OR_RELATED).into(),
                vec![Expr::Verdict(Verdict::Accept)],
            ],
        ),
        rule(
            chain,
            format!("iifname {o} ct status dnat accept"),
            vec![
                from_o(),
                ct_bits(CtKey::Status, DST_NAT).into(),
                vec![Expr::Verdict(Verdict::Accept)],
            ],
        ),
    ];
    rules.extend(pinholes);
    rules.extend([
        rule(chain, format!("iifname {o} drop"), vec![drop]),
        // A packet conntrack cannot place (a TCP connection the NAT forgot: idle past its
        // timeout, or flushed) is not translated: it would leave with its inside address.
        rule(
            chain,
            format!("oifname {o} ip ct state invalid drop"),
            vec![
                interface(MetaKey::Oifname, o).into(),
                ipv4().into(),
                ct_bits(CtKey::State, INVALID).into(),
                vec![Expr::Verdict(Verdict::Drop)],
            ],
        ),
    ]);
    rules
}

/// New TCP and UDP flows from outside to the router itself are dropped silently, before
/// conntrack confirms them: a confirmed conntrack entry for an unsolicited packet to a port
/// that has no mapping yet would take the tuple a later mapping's replies need (hole
/// punching). So are the packets of a TCP connection the NAT forgot (`ct state invalid`),
/// which the router's own stack would otherwise answer with a reset. Pings stay answered.
pub(super) fn input(nat: &NatPlan) -> Vec<Rule> {
    let o = nat.outside.as_str();
    [(TCP, "tcp"), (UDP, "udp")]
        .into_iter()
        .map(|(proto, name)| {
            let mut exprs: Vec<Expr> = interface(MetaKey::Iifname, o).into();
            if !nat.behaviour.firewall6 {
                exprs.extend(ipv4());
            }
            exprs.extend(l4proto(proto));
            exprs.extend(ct_bits(CtKey::State, NEW | INVALID));
            exprs.push(Expr::Verdict(Verdict::Drop));
            Rule {
                chain: "input",
                what: format!("iifname {o} {name} ct state new,invalid drop"),
                exprs,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::netfilter::rules::tests::plan;
    use crate::topology::{Pinhole, Preset, Protocol};

    #[test]
    fn a_pinhole_is_an_accept_per_address_before_the_drop() {
        let mut nat = plan(Preset::PortRestricted);
        nat.pinholes.push(Pinhole {
            protocol: Protocol::Udp,
            node: 0,
            addresses: vec!["2001:db8:0:2::1".parse().unwrap()],
            port: 4433,
        });
        let whats: Vec<String> = forward(&nat).into_iter().map(|rule| rule.what).collect();
        assert_eq!(
            whats,
            [
                "iifname eth1 ct state established,related accept",
                "iifname eth1 ct status dnat accept",
                "iifname eth1 ip6 daddr 2001:db8:0:2::1 udp dport 4433 accept",
                "iifname eth1 drop",
                "oifname eth1 ip ct state invalid drop",
            ]
        );
    }
}
