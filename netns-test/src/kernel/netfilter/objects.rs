//! The nf_tables objects a NAT's rules are made of, as data: hooks and chains, the fields of
//! set keys, sets, rules, and the few expressions (meta, payload, cmp, bitwise, immediate, ct,
//! lookup, dynset, nat, verdicts), with how each expression is written as attributes.
//!
//! The numbers are the kernel's uapi (`nf_tables.h`, `nf_nat.h`); every integer attribute of
//! nf_tables is big-endian.

use super::message::{NFPROTO_IPV4, Writer};

/// Netfilter hooks (`enum nf_inet_hooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hook {
    Prerouting = 0,
    Input = 1,
    Forward = 2,
    Postrouting = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ChainKind {
    Nat,
    Filter,
}

/// A base chain of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Chain {
    pub(super) name: &'static str,
    pub(super) kind: ChainKind,
    pub(super) hook: Hook,
    pub(super) priority: i32,
}

/// The data types of set keys and values, with nft's type ids (so that `nft list` names them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    /// `ipv4_addr`: 4 bytes.
    Ipv4,
    /// `inet_proto`: 1 byte, 4 in a register.
    Proto,
    /// `inet_service`: 2 bytes, 4 in a register.
    Port,
}

impl Field {
    fn type_id(self) -> u32 {
        match self {
            Field::Ipv4 => 7,
            Field::Proto => 12,
            Field::Port => 13,
        }
    }

    fn len(self) -> u32 {
        match self {
            Field::Ipv4 => 4,
            Field::Proto => 1,
            Field::Port => 2,
        }
    }
}

/// nft's id of a concatenation: the fields' ids, 6 bits each, the first highest.
pub(super) fn concat_type(fields: &[Field]) -> u32 {
    fields.iter().fold(0, |id, f| id << 6 | f.type_id())
}

/// The length of a key: every field but a lone one takes a whole 4-byte register.
pub(super) fn key_len(fields: &[Field]) -> u32 {
    match fields {
        [one] => one.len(),
        _ => 4 * fields.len() as u32,
    }
}

/// A map's data length: as nft writes it, the bare length of a single field.
pub(super) fn data_len(fields: &[Field]) -> u32 {
    key_len(fields)
}

/// A dynamic set or map (`flags dynamic,timeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Set {
    pub(super) name: &'static str,
    pub(super) key: &'static [Field],
    /// The value's fields, for a map.
    pub(super) data: Option<&'static [Field]>,
}

/// A rule: its chain, a description for errors, its expressions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Rule {
    pub(super) chain: &'static str,
    pub(super) what: String,
    pub(super) exprs: Vec<Expr>,
}

impl Rule {
    /// The feature a failure of this rule most likely lacks: NAT, then conntrack, then sets.
    pub(super) fn needs(&self) -> &'static str {
        use super::features as f;
        let has = |p: fn(&Expr) -> bool| self.exprs.iter().any(p);
        if has(|e| matches!(e, Expr::Nat { .. })) {
            f::NAT
        } else if has(|e| matches!(e, Expr::Ct { .. })) {
            f::CONNTRACK
        } else if has(|e| matches!(e, Expr::Lookup { .. } | Expr::Dynset { .. })) {
            f::SETS
        } else {
            f::NF_TABLES
        }
    }
}

/// 32-bit registers: `NFT_REG32_00` is 8 (the 16-byte `NFT_REG_1`'s first word).
pub(super) const fn reg(n: u32) -> u32 {
    8 + n
}

/// `NFT_META_*` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MetaKey {
    Mark = 3,
    Iifname = 6,
    Oifname = 7,
    Nfproto = 15,
    L4proto = 16,
}

/// `NFT_CT_*` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CtKey {
    State = 0,
    Direction = 1,
    Status = 2,
    ProtoSrc = 11,
    SrcIp = 19,
}

/// `NFT_PAYLOAD_*_HEADER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Base {
    Network = 1,
    Transport = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Accept,
    Drop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NatKind {
    Snat = 0,
    Dnat = 1,
}

/// `NF_NAT_RANGE_PROTO_SPECIFIED`: the port comes from a register.
const PROTO_SPECIFIED: u32 = 0x2;
/// `NF_NAT_RANGE_PROTO_RANDOM_FULLY`.
pub(super) const RANDOM_FULLY: u32 = 0x10;

/// The expressions the rules use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Expr {
    Meta {
        key: MetaKey,
        dreg: u32,
    },
    /// `meta KEY set` from a register.
    MetaSet {
        key: MetaKey,
        sreg: u32,
    },
    Cmp {
        sreg: u32,
        /// `NFT_CMP_EQ` (0) when false, `NFT_CMP_NEQ` (1) when true.
        not: bool,
        data: Vec<u8>,
    },
    /// `dreg = sreg & mask` (xor 0).
    Bitwise {
        reg: u32,
        mask: Vec<u8>,
    },
    Payload {
        base: Base,
        offset: u32,
        len: u32,
        dreg: u32,
    },
    Immediate {
        dreg: u32,
        data: Vec<u8>,
    },
    Verdict(Verdict),
    Ct {
        key: CtKey,
        dreg: u32,
        /// The original direction's tuple, rather than the packet's own direction.
        original: bool,
    },
    Lookup {
        set: &'static str,
        sreg: u32,
        dreg: Option<u32>,
    },
    /// `update @set { key timeout T : data }`.
    Dynset {
        set: &'static str,
        sreg_key: u32,
        sreg_data: Option<u32>,
        timeout_ms: u64,
    },
    Nat {
        kind: NatKind,
        addr: u32,
        proto: Option<u32>,
        flags: u32,
    },
}

impl Expr {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Expr::Meta { .. } | Expr::MetaSet { .. } => "meta",
            Expr::Cmp { .. } => "cmp",
            Expr::Bitwise { .. } => "bitwise",
            Expr::Payload { .. } => "payload",
            Expr::Immediate { .. } | Expr::Verdict(_) => "immediate",
            Expr::Ct { .. } => "ct",
            Expr::Lookup { .. } => "lookup",
            Expr::Dynset { .. } => "dynset",
            Expr::Nat { .. } => "nat",
        }
    }

    pub(super) fn encode(&self, m: &mut Writer<'_>) {
        match self {
            Expr::Meta { key, dreg } => {
                m.be32(2, *key as u32).be32(1, *dreg);
            }
            Expr::MetaSet { key, sreg } => {
                m.be32(2, *key as u32).be32(3, *sreg);
            }
            Expr::Cmp { sreg, not, data } => {
                m.be32(1, *sreg).be32(2, *not as u32).data(3, data);
            }
            Expr::Bitwise { reg, mask } => {
                m.be32(1, *reg)
                    .be32(2, *reg)
                    .be32(3, mask.len() as u32)
                    .data(4, mask)
                    .data(5, &vec![0; mask.len()]);
            }
            Expr::Payload {
                base,
                offset,
                len,
                dreg,
            } => {
                m.be32(1, *dreg)
                    .be32(2, *base as u32)
                    .be32(3, *offset)
                    .be32(4, *len);
            }
            Expr::Immediate { dreg, data } => {
                m.be32(1, *dreg).data(2, data);
            }
            Expr::Verdict(verdict) => {
                let code: u32 = match verdict {
                    Verdict::Accept => 1,
                    Verdict::Drop => 0,
                };
                // NFT_REG_VERDICT, then NFTA_DATA_VERDICT { NFTA_VERDICT_CODE }.
                m.be32(1, 0);
                m.nest(2).nest(2).be32(1, code).end_nest().end_nest();
            }
            Expr::Ct {
                key,
                dreg,
                original,
            } => {
                m.be32(2, *key as u32).be32(1, *dreg);
                if *original {
                    m.bytes(3, &[0]);
                }
            }
            Expr::Lookup { set, sreg, dreg } => {
                m.be32(2, *sreg).string(1, set);
                if let Some(dreg) = dreg {
                    m.be32(3, *dreg);
                }
            }
            Expr::Dynset {
                set,
                sreg_key,
                sreg_data,
                timeout_ms,
            } => {
                // NFT_DYNSET_OP_UPDATE: add, or refresh the timeout of an element there.
                m.be32(4, *sreg_key);
                if let Some(data) = sreg_data {
                    m.be32(5, *data);
                }
                m.be32(3, 1).be64(6, *timeout_ms).string(1, set);
            }
            Expr::Nat {
                kind,
                addr,
                proto,
                flags,
            } => {
                m.be32(1, *kind as u32)
                    .be32(2, NFPROTO_IPV4 as u32)
                    .be32(3, *addr);
                let mut flags = *flags;
                if let Some(proto) = proto {
                    m.be32(5, *proto);
                    flags |= PROTO_SPECIFIED;
                }
                if flags != 0 {
                    m.be32(7, flags);
                }
            }
        }
    }
}
