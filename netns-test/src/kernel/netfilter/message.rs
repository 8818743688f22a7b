//! nfnetlink framing and the nf_tables messages this crate sends, encoded by hand: a batch of
//! messages (each with its sequence number and what it does, for errors), tables, chains, sets
//! and rules, and the few expressions a NAT's rules are made of.
//!
//! The numbers are the kernel's uapi (`linux/netfilter/nfnetlink.h`, `nf_tables.h`,
//! `nf_nat.h`); every integer attribute of nf_tables is big-endian, while the netlink header is
//! in host order.

/// `NFNL_MSG_BATCH_BEGIN` and `_END`: the frame of a transaction.
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
/// The nfnetlink subsystems: conntrack and nf_tables.
pub(super) const NFNL_SUBSYS_CTNETLINK: u8 = 1;
pub(super) const NFNL_SUBSYS_NFTABLES: u8 = 10;

pub(super) const NLM_F_REQUEST: u16 = 0x1;
pub(super) const NLM_F_ACK: u16 = 0x4;
pub(super) const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
const NLA_F_NESTED: u16 = 0x8000;

/// Address families of the nfgenmsg header.
pub(super) const NFPROTO_UNSPEC: u8 = 0;
pub(super) const NFPROTO_INET: u8 = 1;
pub(super) const NFPROTO_IPV4: u8 = 2;

/// `enum nf_tables_msg_types`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MessageType {
    NewTable = 0,
    DelTable = 2,
    NewChain = 3,
    NewRule = 6,
    DelRule = 8,
    NewSet = 9,
    GetSet = 10,
    DelSetElem = 14,
}

/// A netlink message being written: the header, the nfgenmsg, then attributes.
pub(super) struct Writer<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    nests: Vec<usize>,
}

impl<'a> Writer<'a> {
    /// Starts a message of `kind` (subsystem in the high byte) at the end of `out`.
    pub(super) fn begin(
        out: &'a mut Vec<u8>,
        kind: u16,
        flags: u16,
        seq: u32,
        family: u8,
        res_id: u16,
    ) -> Writer<'a> {
        let start = out.len();
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&seq.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.extend_from_slice(&[family, 0]);
        out.extend_from_slice(&res_id.to_be_bytes());
        Writer {
            out,
            start,
            nests: Vec::new(),
        }
    }

    pub(super) fn bytes(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let len = 4 + value.len();
        self.out.extend_from_slice(&(len as u16).to_ne_bytes());
        self.out.extend_from_slice(&kind.to_ne_bytes());
        self.out.extend_from_slice(value);
        self.pad();
        self
    }

    /// A NUL-terminated string.
    pub(super) fn string(&mut self, kind: u16, value: &str) -> &mut Self {
        let mut bytes = Vec::with_capacity(value.len() + 1);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        self.bytes(kind, &bytes)
    }

    pub(super) fn be32(&mut self, kind: u16, value: u32) -> &mut Self {
        self.bytes(kind, &value.to_be_bytes())
    }

    pub(super) fn be64(&mut self, kind: u16, value: u64) -> &mut Self {
        self.bytes(kind, &value.to_be_bytes())
    }

    pub(super) fn nest(&mut self, kind: u16) -> &mut Self {
        self.nests.push(self.out.len());
        self.out.extend_from_slice(&0u16.to_ne_bytes());
        self.out
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }

    pub(super) fn end_nest(&mut self) -> &mut Self {
        let start = self.nests.pop().expect("a nest to end");
        let len = (self.out.len() - start) as u16;
        self.out[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// `NFTA_DATA_VALUE` inside a nest of `kind`.
    fn data(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        self.nest(kind).bytes(1, value).end_nest()
    }

    fn pad(&mut self) {
        let len = self.out.len() - self.start;
        self.out.resize(self.start + len.next_multiple_of(4), 0);
    }

    /// Writes the message's length.
    pub(super) fn finish(self) {
        debug_assert!(self.nests.is_empty());
        let len = (self.out.len() - self.start) as u32;
        self.out[self.start..self.start + 4].copy_from_slice(&len.to_ne_bytes());
    }
}

/// One message of a batch, as needed to explain its failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Part {
    pub(super) seq: u32,
    /// What it does: `creating chain postrouting`.
    pub(super) what: String,
    /// The kernel feature it needs (see `features.rs`), named when the kernel lacks one;
    /// `None` for a message about objects that exist already (a flush), where `ENOENT` means
    /// they do not.
    pub(super) needs: Option<&'static str>,
}

/// An nf_tables transaction: everything between `BATCH_BEGIN` and `BATCH_END` is applied whole
/// or not at all.
pub(super) struct Batch {
    bytes: Vec<u8>,
    parts: Vec<Part>,
    next_seq: u32,
    /// [`TABLE`], or another name in tests.
    table: &'static str,
    /// The `NFTA_SET_ID` of the last set created: the kernel wants one per new set.
    set_id: u32,
}

/// The name of this crate's table in every NAT router.
pub(super) const TABLE: &str = "netns_test_nat";

impl Batch {
    pub(super) fn new() -> Batch {
        let mut bytes = Vec::with_capacity(4096);
        Writer::begin(
            &mut bytes,
            NFNL_MSG_BATCH_BEGIN,
            NLM_F_REQUEST,
            0,
            NFPROTO_UNSPEC,
            NFNL_SUBSYS_NFTABLES as u16,
        )
        .finish();
        Batch {
            bytes,
            parts: vec![Part {
                seq: 0,
                what: "starting an nf_tables transaction".into(),
                needs: Some(super::features::NF_TABLES),
            }],
            next_seq: 1,
            table: TABLE,
            set_id: 0,
        }
    }

    /// A batch about the table `table`, to compare with what `nft` sends for a table `t`.
    #[cfg(test)]
    pub(super) fn for_table(table: &'static str) -> Batch {
        Batch {
            table,
            ..Batch::new()
        }
    }

    /// Starts a message of this batch; the caller writes its attributes and finishes it.
    fn message(
        &mut self,
        kind: MessageType,
        flags: u16,
        what: String,
        needs: Option<&'static str>,
    ) -> Writer<'_> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.parts.push(Part { seq, what, needs });
        Writer::begin(
            &mut self.bytes,
            (NFNL_SUBSYS_NFTABLES as u16) << 8 | kind as u16,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            seq,
            NFPROTO_INET,
            0,
        )
    }

    /// The bytes to send: the messages and `BATCH_END`.
    pub(super) fn end(mut self) -> (Vec<u8>, Vec<Part>) {
        let seq = self.next_seq;
        Writer::begin(
            &mut self.bytes,
            NFNL_MSG_BATCH_END,
            NLM_F_REQUEST,
            seq,
            NFPROTO_UNSPEC,
            NFNL_SUBSYS_NFTABLES as u16,
        )
        .finish();
        (self.bytes, self.parts)
    }

    pub(super) fn new_table(&mut self) {
        let table = self.table;
        let mut m = self.message(
            MessageType::NewTable,
            NLM_F_CREATE,
            format!("creating table inet {table}"),
            Some(super::features::NF_TABLES),
        );
        m.string(1, table).be32(2, 0);
        m.finish();
    }

    pub(super) fn del_table(&mut self) {
        let table = self.table;
        let mut m = self.message(
            MessageType::DelTable,
            0,
            format!("deleting table inet {table}"),
            Some(super::features::NF_TABLES),
        );
        m.string(1, table);
        m.finish();
    }

    pub(super) fn new_chain(&mut self, chain: &Chain) {
        let table = self.table;
        let needs = match chain.kind {
            ChainKind::Nat => super::features::NAT,
            ChainKind::Filter => super::features::NF_TABLES,
        };
        let mut m = self.message(
            MessageType::NewChain,
            NLM_F_CREATE,
            format!("creating chain {}", chain.name),
            Some(needs),
        );
        let kind = match chain.kind {
            ChainKind::Nat => "nat",
            ChainKind::Filter => "filter",
        };
        m.string(1, table).string(3, chain.name).string(7, kind);
        m.nest(4)
            .be32(1, chain.hook as u32)
            .be32(2, chain.priority as u32)
            .end_nest();
        m.finish();
    }

    pub(super) fn new_set(&mut self, set: &Set) {
        let table = self.table;
        self.set_id += 1;
        let id = self.set_id;
        let mut m = self.message(
            MessageType::NewSet,
            NLM_F_CREATE,
            format!("creating the dynamic set {}", set.name),
            Some(super::features::SETS),
        );
        let map = set.data.is_some();
        // NFT_SET_TIMEOUT | NFT_SET_EVAL (`dynamic`), and NFT_SET_MAP for a map.
        let flags = 0x10 | 0x20 | if map { 0x08 } else { 0 };
        m.string(1, table)
            .string(2, set.name)
            .be32(3, flags)
            .be32(4, concat_type(set.key))
            .be32(5, key_len(set.key));
        if let Some(data) = set.data {
            m.be32(6, concat_type(data)).be32(7, data_len(data));
        }
        m.be32(10, id);
        m.finish();
    }

    /// Removes every element of `set` (`NFT_MSG_DELSETELEM` without elements).
    pub(super) fn flush_set(&mut self, set: &str) {
        let table = self.table;
        let mut m = self.message(
            MessageType::DelSetElem,
            0,
            format!("flushing the set {set} of table inet {table}"),
            None,
        );
        m.string(1, table).string(2, set);
        m.finish();
    }

    /// Removes every rule of `chain` (`NFT_MSG_DELRULE` without a handle).
    pub(super) fn flush_chain(&mut self, chain: &str) {
        let table = self.table;
        let mut m = self.message(
            MessageType::DelRule,
            0,
            format!("flushing chain {chain} of table inet {table}"),
            None,
        );
        m.string(1, table).string(2, chain);
        m.finish();
    }

    pub(super) fn new_rule(&mut self, rule: &Rule) {
        let table = self.table;
        let needs = rule.needs();
        let mut m = self.message(
            MessageType::NewRule,
            NLM_F_CREATE | NLM_F_APPEND,
            format!("adding to chain {} the rule {}", rule.chain, rule.what),
            Some(needs),
        );
        m.string(1, table).string(2, rule.chain);
        m.nest(4);
        for expr in &rule.exprs {
            m.nest(1); // NFTA_LIST_ELEM
            m.string(1, expr.name());
            m.nest(2);
            expr.encode(&mut m);
            m.end_nest().end_nest();
        }
        m.end_nest();
        m.finish();
    }

    /// A dump of the table's sets (`NFT_MSG_GETSET`), outside any batch.
    pub(super) fn get_sets(seq: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut m = Writer::begin(
            &mut out,
            (NFNL_SUBSYS_NFTABLES as u16) << 8 | MessageType::GetSet as u16,
            NLM_F_REQUEST | NLM_F_DUMP,
            seq,
            NFPROTO_INET,
            0,
        );
        m.string(1, TABLE);
        m.finish();
        out
    }
}

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
fn concat_type(fields: &[Field]) -> u32 {
    fields.iter().fold(0, |id, f| id << 6 | f.type_id())
}

/// The length of a key: every field but a lone one takes a whole 4-byte register.
fn key_len(fields: &[Field]) -> u32 {
    match fields {
        [one] => one.len(),
        _ => 4 * fields.len() as u32,
    }
}

/// A map's data length: as nft writes it, the bare length of a single field.
fn data_len(fields: &[Field]) -> u32 {
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
    fn needs(&self) -> &'static str {
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
    fn name(&self) -> &'static str {
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

    fn encode(&self, m: &mut Writer<'_>) {
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
