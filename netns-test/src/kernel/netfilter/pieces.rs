//! The pieces rules are written with, each a few expressions: the matches (`iifname`,
//! `meta nfproto`, `meta l4proto`, `ct state` bits), the loads of a key's fields (addresses and
//! ports from the packet, from conntrack's original direction, an immediate address), and the
//! `snat` and `dnat` statements. `rules.rs` says which rule needs which and why.

use std::net::Ipv4Addr;

use super::objects::{Base, CtKey, Expr, MetaKey, NatKind, Rule, reg};
use crate::topology::Protocol;

/// The protocol numbers `meta l4proto` gives.
pub(super) const TCP: u8 = 6;
pub(super) const UDP: u8 = 17;

/// The number of `protocol`, as `meta l4proto` and the sets' keys have it.
pub(super) fn number(protocol: Protocol) -> u8 {
    match protocol {
        Protocol::Tcp => TCP,
        Protocol::Udp => UDP,
    }
}

pub(super) fn ifname(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.resize(16, 0);
    bytes
}

pub(super) fn meta(key: MetaKey, dreg: u32) -> Expr {
    Expr::Meta { key, dreg }
}

pub(super) fn eq(sreg: u32, data: &[u8]) -> Expr {
    Expr::Cmp {
        sreg,
        not: false,
        data: data.to_vec(),
    }
}

/// `iifname NAME` or `oifname NAME`.
pub(super) fn interface(key: MetaKey, name: &str) -> [Expr; 2] {
    [meta(key, reg(0)), eq(reg(0), &ifname(name))]
}

pub(super) fn ipv4() -> [Expr; 2] {
    [meta(MetaKey::Nfproto, reg(0)), eq(reg(0), &[2])]
}

pub(super) fn ipv6() -> [Expr; 2] {
    [meta(MetaKey::Nfproto, reg(0)), eq(reg(0), &[10])]
}

pub(super) fn l4proto(proto: u8) -> [Expr; 2] {
    [meta(MetaKey::L4proto, reg(0)), eq(reg(0), &[proto])]
}

/// `ct KEY & mask != 0`.
pub(super) fn ct_bits(key: CtKey, mask: u32) -> [Expr; 3] {
    [
        Expr::Ct {
            key,
            dreg: reg(0),
            original: false,
        },
        Expr::Bitwise {
            reg: reg(0),
            mask: mask.to_ne_bytes().to_vec(),
        },
        Expr::Cmp {
            sreg: reg(0),
            not: true,
            data: vec![0; 4],
        },
    ]
}

pub(super) fn ip_saddr(dreg: u32) -> Expr {
    payload(Base::Network, 12, 4, dreg)
}

pub(super) fn ip_daddr(dreg: u32) -> Expr {
    payload(Base::Network, 16, 4, dreg)
}

/// The IPv6 destination address, 16 bytes: four registers from `dreg` on.
pub(super) fn ip6_daddr(dreg: u32) -> Expr {
    payload(Base::Network, 24, 16, dreg)
}

pub(super) fn th_sport(dreg: u32) -> Expr {
    payload(Base::Transport, 0, 2, dreg)
}

/// The key `meta l4proto . th sport`, in registers 0 and 1.
pub(super) fn proto_and_sport() -> [Expr; 2] {
    [meta(MetaKey::L4proto, reg(0)), th_sport(reg(1))]
}

pub(super) fn th_dport(dreg: u32) -> Expr {
    payload(Base::Transport, 2, 2, dreg)
}

pub(super) fn payload(base: Base, offset: u32, len: u32, dreg: u32) -> Expr {
    Expr::Payload {
        base,
        offset,
        len,
        dreg,
    }
}

pub(super) fn ct_original(key: CtKey, dreg: u32) -> Expr {
    Expr::Ct {
        key,
        dreg,
        original: true,
    }
}

pub(super) fn address(dreg: u32, addr: Ipv4Addr) -> Expr {
    Expr::Immediate {
        dreg,
        data: addr.octets().to_vec(),
    }
}

pub(super) fn snat(addr: u32, proto: Option<u32>, flags: u32) -> Expr {
    Expr::Nat {
        kind: NatKind::Snat,
        addr,
        proto,
        flags,
    }
}

pub(super) fn dnat(addr: u32, proto: u32) -> Expr {
    Expr::Nat {
        kind: NatKind::Dnat,
        addr,
        proto: Some(proto),
        flags: 0,
    }
}

pub(super) fn rule(chain: &'static str, what: String, parts: Vec<Vec<Expr>>) -> Rule {
    Rule {
        chain,
        what,
        exprs: parts.into_iter().flatten().collect(),
    }
}
