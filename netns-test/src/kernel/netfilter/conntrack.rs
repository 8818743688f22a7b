//! The kernel's conntrack table over ctnetlink: the flows a NAT translated, as [`NatMapping`]s,
//! and forgetting them all at once.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::features;
use super::message::{
    NFNL_SUBSYS_CTNETLINK, NFPROTO_IPV4, NFPROTO_UNSPEC, NLM_F_DUMP, NLM_F_REQUEST, Part, Writer,
};
use super::socket::{REQUEST_ACK, Socket};
use crate::topology::{NatMapping, Protocol};
use crate::{Error, Result};

/// `IPCTNL_MSG_CT_GET` and `_DELETE`.
const IPCTNL_MSG_CT_GET: u16 = 1;
const IPCTNL_MSG_CT_DELETE: u16 = 2;
/// `CTA_TUPLE_ORIG`, `CTA_TUPLE_REPLY`, `CTA_STATUS`; in a tuple `CTA_TUPLE_IP` and
/// `CTA_TUPLE_PROTO`; in those the addresses, protocol and ports.
const CTA_TUPLE_ORIG: u16 = 1;
const CTA_TUPLE_REPLY: u16 = 2;
const CTA_STATUS: u16 = 3;
const CTA_TUPLE_IP: u16 = 1;
const CTA_TUPLE_PROTO: u16 = 2;
const CTA_IP_V4_SRC: u16 = 1;
const CTA_IP_V4_DST: u16 = 2;
const CTA_PROTO_NUM: u16 = 1;
const CTA_PROTO_SRC_PORT: u16 = 2;
const CTA_PROTO_DST_PORT: u16 = 3;
/// `IPS_SRC_NAT` and `IPS_DST_NAT`.
const IPS_SRC_NAT: u32 = 1 << 4;
const IPS_DST_NAT: u32 = 1 << 5;

/// Every translated TCP and UDP flow of the calling thread's namespace.
pub(super) fn mappings(socket: &mut Socket) -> Result<Vec<NatMapping>> {
    Ok(dump(socket)?.iter().filter_map(|m| mapping(m)).collect())
}

/// The raw conntrack entries (IPv4), each the payload after the netlink header.
pub(super) fn dump(socket: &mut Socket) -> Result<Vec<Vec<u8>>> {
    let seq = socket.seq();
    let mut bytes = Vec::new();
    Writer::begin(
        &mut bytes,
        (NFNL_SUBSYS_CTNETLINK as u16) << 8 | IPCTNL_MSG_CT_GET,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        NFPROTO_IPV4,
        0,
    )
    .finish();
    socket
        .dump(&bytes, seq)
        .map_err(|source| lacks_ctnetlink(source, "reading the conntrack table"))
}

/// Deletes every conntrack entry (`IPCTNL_MSG_CT_DELETE` without a tuple).
pub(super) fn flush(socket: &mut Socket) -> Result<()> {
    let seq = socket.seq();
    let mut bytes = Vec::new();
    Writer::begin(
        &mut bytes,
        (NFNL_SUBSYS_CTNETLINK as u16) << 8 | IPCTNL_MSG_CT_DELETE,
        REQUEST_ACK,
        seq,
        NFPROTO_UNSPEC,
        0,
    )
    .finish();
    socket.request(
        bytes,
        Part {
            seq,
            what: "flushing the conntrack table".into(),
            needs: Some(features::CTNETLINK),
        },
    )
}

fn lacks_ctnetlink(source: io::Error, what: &str) -> Error {
    if source.raw_os_error() == Some(nix::libc::EOPNOTSUPP) {
        Error::KernelLacks {
            feature: features::CTNETLINK,
            needed_for: what.into(),
            source,
        }
    } else {
        Error::Netlink {
            what: what.into(),
            source,
        }
    }
}

/// The attributes in `bytes`, as (type without flags, value).
fn attributes(bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let len = u16::from_ne_bytes(rest.get(0..2)?.try_into().ok()?) as usize;
        let kind = u16::from_ne_bytes(rest.get(2..4)?.try_into().ok()?) & 0x3fff;
        if len < 4 || len > rest.len() {
            return None;
        }
        let value = &rest[4..len];
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some((kind, value))
    })
}

fn find(bytes: &[u8], kind: u16) -> Option<&[u8]> {
    attributes(bytes).find(|(k, _)| *k == kind).map(|(_, v)| v)
}

/// A tuple's protocol, source and destination.
fn tuple(bytes: &[u8]) -> Option<(u8, SocketAddrV4, SocketAddrV4)> {
    let ip = find(bytes, CTA_TUPLE_IP)?;
    let proto = find(bytes, CTA_TUPLE_PROTO)?;
    let addr = |kind| -> Option<Ipv4Addr> {
        let octets: [u8; 4] = find(ip, kind)?.try_into().ok()?;
        Some(Ipv4Addr::from(octets))
    };
    let port =
        |kind| -> Option<u16> { Some(u16::from_be_bytes(find(proto, kind)?.try_into().ok()?)) };
    let number = *find(proto, CTA_PROTO_NUM)?.first()?;
    let src = SocketAddrV4::new(addr(CTA_IP_V4_SRC)?, port(CTA_PROTO_SRC_PORT)?);
    let dst = SocketAddrV4::new(addr(CTA_IP_V4_DST)?, port(CTA_PROTO_DST_PORT)?);
    Some((number, src, dst))
}

/// The mapping one conntrack entry (after its nfgenmsg) is, if it was translated.
fn mapping(payload: &[u8]) -> Option<NatMapping> {
    let attrs = payload.get(4..)?;
    let status = u32::from_be_bytes(find(attrs, CTA_STATUS)?.try_into().ok()?);
    let (number, orig_src, orig_dst) = tuple(find(attrs, CTA_TUPLE_ORIG)?)?;
    let (_, reply_src, reply_dst) = tuple(find(attrs, CTA_TUPLE_REPLY)?)?;
    let protocol = match number {
        6 => Protocol::Tcp,
        17 => Protocol::Udp,
        _ => return None,
    };
    if status & IPS_DST_NAT != 0 {
        // Let in from outside: the original goes to the outside endpoint, the reply comes
        // from the inside one.
        Some(NatMapping {
            protocol,
            inside: reply_src,
            outside: orig_dst,
            remote: orig_src,
        })
    } else if status & IPS_SRC_NAT != 0 {
        Some(NatMapping {
            protocol,
            inside: orig_src,
            outside: reply_dst,
            remote: orig_dst,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    fn nested(kind: u16, parts: &[Vec<u8>]) -> Vec<u8> {
        attr(kind | 0x8000, &parts.concat())
    }

    fn tuple_attr(kind: u16, src: SocketAddrV4, dst: SocketAddrV4) -> Vec<u8> {
        nested(
            kind,
            &[
                nested(
                    CTA_TUPLE_IP,
                    &[
                        attr(CTA_IP_V4_SRC, &src.ip().octets()),
                        attr(CTA_IP_V4_DST, &dst.ip().octets()),
                    ],
                ),
                nested(
                    CTA_TUPLE_PROTO,
                    &[
                        attr(CTA_PROTO_NUM, &[17]),
                        attr(CTA_PROTO_SRC_PORT, &src.port().to_be_bytes()),
                        attr(CTA_PROTO_DST_PORT, &dst.port().to_be_bytes()),
                    ],
                ),
            ],
        )
    }

    #[test]
    fn a_source_translated_flow_reads_inside_outside_remote() {
        let inside: SocketAddrV4 = "192.168.1.2:4000".parse().unwrap();
        let outside: SocketAddrV4 = "203.0.113.2:4001".parse().unwrap();
        let remote: SocketAddrV4 = "198.51.100.7:3478".parse().unwrap();
        let mut payload = vec![2, 0, 0, 0];
        payload.extend(tuple_attr(CTA_TUPLE_ORIG, inside, remote));
        payload.extend(tuple_attr(CTA_TUPLE_REPLY, remote, outside));
        payload.extend(attr(CTA_STATUS, &(IPS_SRC_NAT | 0x8).to_be_bytes()));
        let found = mapping(&payload).unwrap();
        assert_eq!(
            found.to_string(),
            "udp 192.168.1.2:4000 -> 203.0.113.2:4001 -> 198.51.100.7:3478"
        );
        // The same flow let in from outside (a port forward) reads the same way round.
        let mut payload = vec![2, 0, 0, 0];
        payload.extend(tuple_attr(CTA_TUPLE_ORIG, remote, outside));
        payload.extend(tuple_attr(CTA_TUPLE_REPLY, inside, remote));
        payload.extend(attr(CTA_STATUS, &IPS_DST_NAT.to_be_bytes()));
        assert_eq!(mapping(&payload), Some(NatMapping { outside, ..found }));
        // A flow nobody translated is no mapping.
        let mut payload = vec![2, 0, 0, 0];
        payload.extend(tuple_attr(CTA_TUPLE_ORIG, inside, remote));
        payload.extend(tuple_attr(CTA_TUPLE_REPLY, remote, inside));
        payload.extend(attr(CTA_STATUS, &0x8u32.to_be_bytes()));
        assert_eq!(mapping(&payload), None);
    }
}
