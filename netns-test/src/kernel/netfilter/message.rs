//! nfnetlink framing and the nf_tables messages this crate sends, encoded by hand: a batch of
//! messages (each with its sequence number and what it does, for errors) that make and flush
//! tables, chains, sets and rules. What those objects and their expressions are, and how each
//! is written as attributes, is in `objects.rs`.
//!
//! The numbers are the kernel's uapi (`linux/netfilter/nfnetlink.h`, `nf_tables.h`,
//! `nf_nat.h`); every integer attribute of nf_tables is big-endian, while the netlink header is
//! in host order.

use super::objects::{Chain, ChainKind, Rule, Set, concat_type, data_len, key_len};

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
    NewSetElem = 12,
    GetSetElem = 13,
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
    pub(super) fn data(&mut self, kind: u16, value: &[u8]) -> &mut Self {
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

/// An element of a set, as its key's registers lay it out (each field of a concatenation in a
/// 4-byte register), with a map's data and a timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Element {
    pub(super) key: Vec<u8>,
    pub(super) data: Option<Vec<u8>>,
    pub(super) timeout_ms: u64,
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

    /// Adds `elements` to `set` (`NFT_MSG_NEWSETELEM`): each key, its data for a map, and the
    /// element's timeout.
    pub(super) fn add_elements(&mut self, set: &str, elements: &[Element]) {
        let table = self.table;
        let mut m = self.message(
            MessageType::NewSetElem,
            NLM_F_CREATE,
            format!("adding {} elements to the set {set}", elements.len()),
            None,
        );
        m.string(1, table).string(2, set).nest(3);
        for element in elements {
            // In nft's order: the timeout, the key, the data.
            m.nest(1).be64(4, element.timeout_ms).data(1, &element.key);
            if let Some(data) = &element.data {
                m.data(2, data);
            }
            m.end_nest();
        }
        m.end_nest();
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
        dump_request(MessageType::GetSet, None, seq)
    }

    /// A dump of the elements of the table's set `set` (`NFT_MSG_GETSETELEM`), outside any
    /// batch.
    pub(super) fn get_elements(set: &str, seq: u32) -> Vec<u8> {
        dump_request(MessageType::GetSetElem, Some(set), seq)
    }
}

/// A dump request of `kind` about the table (and its set `set`).
fn dump_request(kind: MessageType, set: Option<&str>, seq: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut m = Writer::begin(
        &mut out,
        (NFNL_SUBSYS_NFTABLES as u16) << 8 | kind as u16,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        NFPROTO_INET,
        0,
    );
    m.string(1, TABLE);
    if let Some(set) = set {
        m.string(2, set);
    }
    m.finish();
    out
}

/// The attributes in `bytes`, one after another: each one's type (without the nested and
/// byte-order flags) and value. Stops at the first that does not fit.
pub(super) fn attributes(bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let len = u16::from_ne_bytes([*rest.first()?, *rest.get(1)?]) as usize;
        let kind = u16::from_ne_bytes([*rest.get(2)?, *rest.get(3)?]) & 0x3fff;
        if len < 4 || len > rest.len() {
            return None;
        }
        let value = &rest[4..len];
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some((kind, value))
    })
}

/// The elements of a `NFT_MSG_NEWSETELEM` message's payload (after its nfgenmsg), as a dump
/// gives them: each one's key and data (`NFTA_SET_ELEM_KEY`, `NFTA_SET_ELEM_DATA`), as
/// [`Batch::add_elements`] writes them.
pub(super) fn dumped_elements(payload: &[u8]) -> Vec<Element> {
    let value = |nested: &[u8]| {
        attributes(nested)
            .find(|&(k, _)| k == 1)
            .map(|(_, v)| v.to_vec())
    };
    let list = attributes(payload.get(4..).unwrap_or_default()).find(|&(kind, _)| kind == 3);
    let elements = list.into_iter().flat_map(|(_, list)| attributes(list));
    elements
        .filter(|&(kind, _)| kind == 1)
        .filter_map(|(_, element)| {
            let key = attributes(element)
                .find(|&(k, _)| k == 1)
                .and_then(|(_, v)| value(v))?;
            let data = attributes(element)
                .find(|&(k, _)| k == 2)
                .and_then(|(_, v)| value(v));
            Some(Element {
                key,
                data,
                timeout_ms: 0,
            })
        })
        .collect()
}
