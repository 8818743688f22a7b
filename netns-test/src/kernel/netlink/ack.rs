//! The kernel's answers to requests: finding the acks in a datagram, matching them to the
//! [`Pending`] requests that asked for them, and turning a failure into an [`Error`] that names
//! what was being done.

use std::io;

use netlink_packet_core::{NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_ERROR, NlasIterator};
use nix::libc;

use crate::Error;

/// `NLMSGERR_ATTR_MSG`: the extended ack's human-readable message.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A queued request, as needed to match its ack and to explain its failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) seq: u32,
    /// Where its bytes end in [`Socket::out`](super::socket::Socket::out).
    pub(super) end: usize,
    /// What it does, naming the node and interface: `creating veth ...`.
    pub(super) what: String,
    /// The link kind (`veth`) or qdisc module (`sch_netem`) it needs, if any: failures to
    /// create something the kernel does not have become [`Error::KernelLacks`].
    pub(super) creates: Option<&'static str>,
}

/// What the kernel said about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ack {
    pub(crate) seq: u32,
    /// 0 for success, else a positive errno.
    pub(crate) errno: i32,
    /// The extended ack message (`Error: ...` in `ip`'s output), when the kernel sent one.
    pub(crate) message: Option<String>,
}

/// The netlink messages of one datagram, each with its header. Stops at a malformed length.
pub(crate) fn messages(datagram: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = datagram;
    std::iter::from_fn(move || {
        let len = u32::from_ne_bytes(rest.get(0..4)?.try_into().ok()?) as usize;
        if len < 16 || len > rest.len() {
            return None;
        }
        let message = &rest[..len];
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some(message)
    })
}

/// The ack in `message`, if it is an `NLMSG_ERROR` (which, with code 0, is how acks come).
pub(crate) fn parse_ack(message: &[u8]) -> Option<Ack> {
    let message_type = u16::from_ne_bytes(message.get(4..6)?.try_into().ok()?);
    if message_type != NLMSG_ERROR {
        return None;
    }
    let flags = u16::from_ne_bytes(message.get(6..8)?.try_into().ok()?);
    let seq = u32::from_ne_bytes(message.get(8..12)?.try_into().ok()?);
    let code = i32::from_ne_bytes(message.get(16..20)?.try_into().ok()?);
    // The request's header follows the code; then, unless the ack is capped, the rest of the
    // request; then the extended ack attributes.
    let mut tlvs = 36;
    if flags & NLM_F_CAPPED == 0 {
        let request_len = u32::from_ne_bytes(message.get(20..24)?.try_into().ok()?) as usize;
        tlvs = 20 + request_len.next_multiple_of(4);
    }
    let text = if flags & NLM_F_ACK_TLVS != 0 {
        message.get(tlvs..).and_then(extack_message)
    } else {
        None
    };
    Some(Ack {
        seq,
        errno: code.saturating_abs(),
        message: text,
    })
}

/// The `NLMSGERR_ATTR_MSG` string among extended ack attributes.
fn extack_message(attributes: &[u8]) -> Option<String> {
    NlasIterator::new(attributes)
        .filter_map(|nla| nla.ok())
        .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
        .map(|nla| {
            let value = nla.value();
            let text = value.split(|&b| b == 0).next().unwrap_or_default();
            String::from_utf8_lossy(text).into_owned()
        })
        .filter(|text| !text.is_empty())
}

/// The error for the first failed request of `chunk` (in queue order), if any failed.
pub(super) fn first_failure(chunk: &[Pending], acks: &[Ack]) -> Option<Error> {
    chunk.iter().find_map(|pending| {
        let ack = acks.iter().find(|ack| ack.seq == pending.seq)?;
        (ack.errno != 0).then(|| error_for(pending, ack))
    })
}

/// Turns a failed ack into the crate's error, naming what was being done.
fn error_for(pending: &Pending, ack: &Ack) -> Error {
    let source = io::Error::from_raw_os_error(ack.errno);
    if let Some(feature) = pending.creates {
        // A link kind the kernel lacks (no module, or not built): `rtnl_newlink` answers
        // EOPNOTSUPP with the extended message "Unknown device type".
        let unknown_kind = ack.message.as_deref() == Some("Unknown device type");
        // A qdisc kind the kernel lacks: `qdisc_create` answers ENOENT with "Specified qdisc
        // kind is unknown".
        let unknown_qdisc = feature.starts_with("sch_") && ack.errno == libc::ENOENT;
        if ack.errno == libc::EOPNOTSUPP || unknown_kind || unknown_qdisc {
            let needed_for = pending.what.clone();
            return Error::KernelLacks {
                feature,
                needed_for,
                source,
            };
        }
    }
    let what = match &ack.message {
        Some(message) => format!("{} (the kernel says: {message})", pending.what),
        None => pending.what.clone(),
    };
    Error::Netlink { what, source }
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};

    use super::*;

    fn pending(seq: u32, what: &str, creates: Option<&'static str>) -> Pending {
        Pending {
            seq,
            end: 0,
            what: what.to_string(),
            creates,
        }
    }

    fn ack(seq: u32, errno: i32, message: Option<&str>) -> Ack {
        Ack {
            seq,
            errno,
            message: message.map(str::to_string),
        }
    }

    /// Builds an `NLMSG_ERROR` datagram as the kernel does, capped or not, with an optional
    /// extended ack message.
    fn error_message(seq: u32, code: i32, capped: bool, text: Option<&str>) -> Vec<u8> {
        let request_len: u32 = 40;
        let mut flags = 0u16;
        let mut body = Vec::new();
        body.extend_from_slice(&code.to_ne_bytes());
        // The request's header: length, type RTM_NEWLINK, flags, seq, port.
        body.extend_from_slice(&request_len.to_ne_bytes());
        body.extend_from_slice(&16u16.to_ne_bytes());
        body.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        body.extend_from_slice(&seq.to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes());
        if capped {
            flags |= NLM_F_CAPPED;
        } else {
            body.extend_from_slice(&[0xAA; 24]);
        }
        if let Some(text) = text {
            flags |= NLM_F_ACK_TLVS;
            let value_len = text.len() + 1;
            body.extend_from_slice(&((4 + value_len) as u16).to_ne_bytes());
            body.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
            body.extend_from_slice(text.as_bytes());
            body.push(0);
            body.resize(body.len().next_multiple_of(4), 0);
        }
        let mut message = Vec::new();
        message.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        message.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        message.extend_from_slice(&flags.to_ne_bytes());
        message.extend_from_slice(&seq.to_ne_bytes());
        message.extend_from_slice(&0u32.to_ne_bytes());
        message.extend_from_slice(&body);
        message
    }

    #[test]
    fn acks_are_parsed_with_their_sequence_number_and_errno() {
        let datagram = [
            error_message(7, 0, true, None),
            error_message(8, -libc::EEXIST, true, Some("File exists")),
            error_message(9, -libc::EOPNOTSUPP, false, Some("Unknown device type")),
        ]
        .concat();
        let acks: Vec<Ack> = messages(&datagram).filter_map(parse_ack).collect();
        assert_eq!(
            acks,
            [
                ack(7, 0, None),
                ack(8, libc::EEXIST, Some("File exists")),
                ack(9, libc::EOPNOTSUPP, Some("Unknown device type")),
            ]
        );
    }

    #[test]
    fn a_truncated_datagram_yields_only_whole_messages() {
        let mut datagram = error_message(1, 0, true, None);
        let whole = datagram.len();
        datagram.extend_from_slice(&error_message(2, 0, true, None)[..10]);
        assert_eq!(messages(&datagram).count(), 1);
        assert_eq!(messages(&datagram[..whole - 1]).count(), 0);
    }

    #[test]
    fn the_first_failure_in_queue_order_is_reported() {
        let chunk = [
            pending(10, "creating veth a", Some("veth")),
            pending(11, "adding 10.0.1.1/24 to node `a` eth0", None),
            pending(12, "adding a route in node `a`", None),
        ];
        // Acks may be read in any order; the failure of seq 11 comes first in the queue.
        let acks = [
            ack(12, libc::ENETUNREACH, None),
            ack(10, 0, None),
            ack(11, libc::ENODEV, None),
        ];
        match first_failure(&chunk, &acks) {
            Some(Error::Netlink { what, source }) => {
                assert_eq!(what, "adding 10.0.1.1/24 to node `a` eth0");
                assert_eq!(source.raw_os_error(), Some(libc::ENODEV));
            }
            other => panic!("expected a netlink error, got {other:?}"),
        }
        let fine = [ack(10, 0, None), ack(11, 0, None), ack(12, 0, None)];
        assert!(first_failure(&chunk, &fine).is_none());
    }

    #[test]
    fn an_unknown_link_kind_means_the_kernel_lacks_it() {
        let creating = pending(1, "creating veth x", Some("veth"));
        let error = error_for(
            &creating,
            &ack(1, libc::EOPNOTSUPP, Some("Unknown device type")),
        );
        match error {
            Error::KernelLacks {
                feature,
                needed_for,
                source,
            } => {
                assert_eq!(feature, "veth");
                assert_eq!(needed_for, "creating veth x");
                assert_eq!(source.raw_os_error(), Some(libc::EOPNOTSUPP));
            }
            other => panic!("expected KernelLacks, got {other:?}"),
        }
        // The same errno for a request that creates no link kind is a plain netlink error.
        let setting = pending(2, "setting lo up in node `a`", None);
        assert!(matches!(
            error_for(&setting, &ack(2, libc::EOPNOTSUPP, None)),
            Error::Netlink { .. }
        ));
        // A qdisc kind the kernel lacks is ENOENT.
        let netem = pending(3, "`delay=5ms` on node `a` eth0", Some("sch_netem"));
        let lacks = error_for(
            &netem,
            &ack(3, libc::ENOENT, Some("Specified qdisc kind is unknown")),
        );
        assert_eq!(
            lacks.to_string(),
            "this kernel lacks sch_netem, needed for `delay=5ms` on node `a` eth0"
        );
        // Another failure to create a link keeps the kernel's own message.
        match error_for(&creating, &ack(1, libc::EEXIST, Some("File exists"))) {
            Error::Netlink { what, source } => {
                assert_eq!(what, "creating veth x (the kernel says: File exists)");
                assert_eq!(source.raw_os_error(), Some(libc::EEXIST));
            }
            other => panic!("expected a netlink error, got {other:?}"),
        }
    }
}
