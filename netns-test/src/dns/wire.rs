//! The DNS message format (RFC 1035), as much of it as a responder for a fixed table needs:
//! reading one question, writing one answer.
//!
//! A query is read up to its question (and an EDNS `OPT` record, if it carries one); the
//! answer copies the question's bytes back, so a name is returned exactly as it was asked
//! (`SERVER` gets `SERVER`), and each record points back to it (compression pointer `0xC00C`).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Record types the responder knows.
pub(crate) const TYPE_A: u16 = 1;
pub(crate) const TYPE_PTR: u16 = 12;
pub(crate) const TYPE_AAAA: u16 = 28;
const TYPE_OPT: u16 = 41;
pub(crate) const TYPE_ANY: u16 = 255;

/// The Internet class, and "any class".
const CLASS_IN: u16 = 1;
const CLASS_ANY: u16 = 255;

/// Response codes.
pub(crate) const NOERROR: u8 = 0;
const FORMERR: u8 = 1;
pub(crate) const NXDOMAIN: u8 = 3;
const NOTIMP: u8 = 4;
const REFUSED: u8 = 5;

/// How long a client may keep an answer: not at all. Names move while a test runs
/// (`Net::set_name`, `Nat::rebind_address`), and a caching resolver (Go's, hickory's) must see
/// the move at its next lookup; asking again costs a datagram on loopback.
const TTL: u32 = 0;

/// The largest answer over UDP announced in an `OPT` record (the size DNS flag day 2020 chose).
const EDNS_PAYLOAD: u16 = 1232;

const HEADER: usize = 12;

/// What a datagram asks.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request<'a> {
    /// A standard query with one question of class IN (or ANY).
    Query(Query<'a>),
    /// A message to answer with an error code only, such as a query of another opcode.
    Refuse { id: u16, rd: bool, rcode: u8 },
    /// Not a query at all (too short, or a response): no answer.
    Ignore,
}

/// One question.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Query<'a> {
    pub(crate) id: u16,
    /// Recursion desired, copied into the answer.
    pub(crate) rd: bool,
    /// The name asked for, lowercase, labels joined by dots, without the final dot (the root
    /// is the empty string).
    pub(crate) name: String,
    pub(crate) qtype: u16,
    /// The question as it was sent (name, type, class), copied into the answer.
    question: &'a [u8],
    /// The query has an EDNS `OPT` record, so the answer gets one.
    edns: bool,
}

/// The data of one answer record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rdata {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// A name, for `PTR`, dotted, without the final dot.
    Ptr(String),
}

/// Reads a datagram.
pub(crate) fn parse(packet: &[u8]) -> Request<'_> {
    if packet.len() < HEADER {
        return Request::Ignore;
    }
    let word = |at: usize| u16::from_be_bytes([packet[at], packet[at + 1]]);
    let (id, flags) = (word(0), word(2));
    if flags & 0x8000 != 0 {
        return Request::Ignore;
    }
    let rd = flags & 0x0100 != 0;
    let refuse = |rcode| Request::Refuse { id, rd, rcode };
    if (flags >> 11) & 0xF != 0 {
        return refuse(NOTIMP);
    }
    let (questions, answers, authority, additional) = (word(4), word(6), word(8), word(10));
    if questions != 1 {
        return refuse(FORMERR);
    }
    let Some((name, end)) = read_name(packet, HEADER) else {
        return refuse(FORMERR);
    };
    let Some(fixed) = packet.get(end..end + 4) else {
        return refuse(FORMERR);
    };
    let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let qclass = u16::from_be_bytes([fixed[2], fixed[3]]);
    if qclass != CLASS_IN && qclass != CLASS_ANY {
        return refuse(REFUSED);
    }
    let question = &packet[HEADER..end + 4];
    // A query's `OPT` record comes first after the question when there is nothing else: a
    // root name (one zero byte), then its type.
    let rest = &packet[end + 4..];
    let edns = answers == 0
        && authority == 0
        && additional > 0
        && rest.len() >= 3
        && rest[0] == 0
        && u16::from_be_bytes([rest[1], rest[2]]) == TYPE_OPT;
    Request::Query(Query {
        id,
        rd,
        name,
        qtype,
        question,
        edns,
    })
}

/// Reads the uncompressed name at `at`: the name, lowercase and dotted, and where it ends.
/// A query's only name is its question's, so compression (which points back) is refused.
fn read_name(packet: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    loop {
        let length = usize::from(*packet.get(at)?);
        at += 1;
        if length == 0 {
            return Some((name, at));
        }
        if length > 63 {
            return None;
        }
        let label = packet.get(at..at + length)?;
        if !name.is_empty() {
            name.push('.');
        }
        name.extend(
            label
                .iter()
                .map(|byte| char::from(byte.to_ascii_lowercase())),
        );
        if name.len() > 253 {
            return None;
        }
        at += length;
    }
}

impl Query<'_> {
    /// The answer: `rcode` with `records`, each for the name asked. Authoritative, and
    /// "recursion available", so that resolvers do not look elsewhere or warn.
    pub(crate) fn answer(&self, rcode: u8, records: &[Rdata]) -> Vec<u8> {
        let mut out = header(self.id, self.rd, rcode);
        let count = u16::try_from(records.len()).unwrap_or(u16::MAX);
        out[4..6].copy_from_slice(&1u16.to_be_bytes());
        out[6..8].copy_from_slice(&count.to_be_bytes());
        out[10..12].copy_from_slice(&u16::from(self.edns).to_be_bytes());
        out.extend_from_slice(self.question);
        for record in records {
            // The name: a pointer to the question's, at offset 12.
            out.extend_from_slice(&[0xC0, 0x0C]);
            let (rtype, data) = match record {
                Rdata::A(addr) => (TYPE_A, addr.octets().to_vec()),
                Rdata::Aaaa(addr) => (TYPE_AAAA, addr.octets().to_vec()),
                Rdata::Ptr(name) => (TYPE_PTR, encode_name(name)),
            };
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&TTL.to_be_bytes());
            out.extend_from_slice(&(data.len() as u16).to_be_bytes());
            out.extend_from_slice(&data);
        }
        if self.edns {
            // Root name, type OPT, the payload size in the class, no extended flags, no options.
            out.push(0);
            out.extend_from_slice(&TYPE_OPT.to_be_bytes());
            out.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        }
        out
    }
}

/// The answer to a message that gets only an error code (see [`Request::Refuse`]).
pub(crate) fn refusal(id: u16, rd: bool, rcode: u8) -> Vec<u8> {
    header(id, rd, rcode)
}

/// A response header with no records counted yet.
fn header(id: u16, rd: bool, rcode: u8) -> Vec<u8> {
    // QR (a response), AA (authoritative), RA (recursion available), then the code.
    let flags: u16 = 0x8000 | 0x0400 | (u16::from(rd) << 8) | 0x0080 | u16::from(rcode & 0xF);
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    out
}

/// A dotted name as labels (node names are short: each label fits).
fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split('.').filter(|label| !label.is_empty()) {
        let label = &label.as_bytes()[..label.len().min(63)];
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query as `dig` sends it: id, RD, one question, and with `edns` an `OPT` record.
    fn query(name: &str, qtype: u16, edns: bool) -> Vec<u8> {
        let mut out = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns)];
        out.extend(encode_name(name));
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        if edns {
            out.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]);
        }
        out
    }

    fn parsed(packet: &[u8]) -> Query<'_> {
        match parse(packet) {
            Request::Query(query) => query,
            other => panic!("not a query: {other:?}"),
        }
    }

    #[test]
    fn a_question_is_read_lowercase_with_its_type() {
        let packet = query("Server.Example", TYPE_AAAA, false);
        let query = parsed(&packet);
        assert_eq!(query.id, 0x1234);
        assert!(query.rd);
        assert_eq!(query.name, "server.example");
        assert_eq!(query.qtype, TYPE_AAAA);
        assert!(!query.edns);
        assert!(parsed(&self::query("server", TYPE_A, true)).edns);
    }

    #[test]
    fn an_answer_copies_the_question_and_points_to_its_name() {
        let packet = query("Server", TYPE_A, false);
        let answer = parsed(&packet).answer(NOERROR, &[Rdata::A(Ipv4Addr::new(10, 0, 0, 2))]);
        let question_end = packet.len();
        assert_eq!(&answer[..2], &[0x12, 0x34]);
        // QR, AA, RD, RA; NOERROR.
        assert_eq!(&answer[2..4], &[0x85, 0x80]);
        assert_eq!(&answer[4..12], &[0, 1, 0, 1, 0, 0, 0, 0]);
        assert_eq!(&answer[12..question_end], &packet[12..]);
        assert_eq!(
            &answer[question_end..],
            &[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 2],
            "the name, A, IN, a TTL of 0, four bytes of address"
        );
    }

    #[test]
    fn nxdomain_with_edns_has_no_records_and_an_opt() {
        let packet = query("nowhere", TYPE_A, true);
        let answer = parsed(&packet).answer(NXDOMAIN, &[]);
        assert_eq!(answer[3] & 0xF, NXDOMAIN);
        assert_eq!(&answer[4..12], &[0, 1, 0, 0, 0, 0, 0, 1]);
        let opt = &answer[packet.len() - 11..];
        assert_eq!(opt, &[0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn a_ptr_answer_carries_a_whole_name() {
        let packet = query("2.0.0.10.in-addr.arpa", TYPE_PTR, false);
        let answer = parsed(&packet).answer(NOERROR, &[Rdata::Ptr("server".into())]);
        let data = &answer[packet.len() + 10..];
        assert_eq!(data, b"\x00\x08\x06server\x00");
    }

    #[test]
    fn malformed_and_other_messages_are_refused_or_ignored() {
        assert_eq!(parse(&[0; 5]), Request::Ignore);
        let mut response = query("server", TYPE_A, false);
        response[2] |= 0x80;
        assert_eq!(parse(&response), Request::Ignore);
        let mut update = query("server", TYPE_A, false);
        update[2] |= 5 << 3;
        assert_eq!(
            parse(&update),
            Request::Refuse {
                id: 0x1234,
                rd: true,
                rcode: NOTIMP
            }
        );
        let truncated = &query("server", TYPE_A, false)[..16];
        assert!(matches!(
            parse(truncated),
            Request::Refuse { rcode: FORMERR, .. }
        ));
        let mut compressed = query("server", TYPE_A, false);
        compressed[12] = 0xC0;
        assert!(matches!(
            parse(&compressed),
            Request::Refuse { rcode: FORMERR, .. }
        ));
        let mut chaos = query("version.bind", 16, false);
        let class = chaos.len() - 1;
        chaos[class] = 3;
        assert!(matches!(
            parse(&chaos),
            Request::Refuse { rcode: REFUSED, .. }
        ));
        assert_eq!(
            refusal(7, false, FORMERR),
            vec![0, 7, 0x84, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }
}
