//! A NAT rebinding: every inside endpoint that has a mapping gets a new outside port, as when a
//! NAT's binding changes under a flow that goes on (RFC 9000 section 9.3 calls it NAT
//! rebinding; QUIC servers must take a peer's new address in their stride).
//!
//! Pure: from the mappings the NAT's `mapping` set has ([`bindings`]: every endpoint whose
//! mapping lives, whether conntrack still has its flows or not, so that a second rebinding
//! with no packet since moves the ports again, and one after a flow-forgetting address move
//! still finds them), the elements the `mapping` set (and `taken`) get once the NAT has
//! forgotten everything, so that the next packet of each endpoint goes out through its new
//! port. The new port is the next one after the old that no other mapping or
//! port forward has, from 1024 up, wrapping round; so it always differs from the old.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::message::Element;
use super::pieces::number;
use crate::topology::{Mapping, NatMapping, NatPlan, Protocol};

/// One field of a set's key or data as the registers hold it: padded to 4 bytes.
fn register(bytes: &[u8]) -> [u8; 4] {
    let mut register = [0; 4];
    register[..bytes.len()].copy_from_slice(bytes);
    register
}

/// What the `mapping` and `taken` sets of `nat` get after a rebinding of `mappings`: `None`
/// for a NAT without a `mapping` set (address-and-port-dependent mapping, whose every new flow
/// takes a random port anyway).
pub(super) fn elements(
    nat: &NatPlan,
    mappings: &[NatMapping],
) -> Option<(Vec<Element>, Vec<Element>)> {
    let by_address = match nat.behaviour.mapping {
        Mapping::EndpointIndependent => false,
        Mapping::AddressDependent => true,
        Mapping::AddressAndPortDependent => return None,
    };
    let timeout_ms = nat.timeout.as_secs().max(1) * 1000;
    let forwarded = |m: &NatMapping| {
        (nat.forwards.iter()).any(|f| {
            f.protocol == m.protocol
                && f.outside_port == m.outside.port()
                && f.port == m.inside.port()
        })
    };
    let source_translated: Vec<&NatMapping> = (mappings.iter()).filter(|m| !forwarded(m)).collect();
    let mut used: HashSet<(Protocol, u16)> = (mappings.iter())
        .map(|m| (m.protocol, m.outside.port()))
        .chain(nat.forwards.iter().map(|f| (f.protocol, f.outside_port)))
        .collect();
    let mut seen: HashSet<(Protocol, SocketAddrV4, Option<Ipv4Addr>)> = HashSet::new();
    let (mut mapping, mut taken) = (Vec::new(), Vec::new());
    for m in source_translated {
        let remote = by_address.then(|| *m.remote.ip());
        if !seen.insert((m.protocol, m.inside, remote)) {
            continue;
        }
        let old = m.outside.port();
        let new = (1..=u16::MAX)
            .map(|step| next(old, step))
            .find(|&port| !used.contains(&(m.protocol, port)))?;
        used.insert((m.protocol, new));
        let proto = register(&[number(m.protocol)]);
        // The key of `mapping`: inside address . protocol . inside port [. remote address].
        let mut key = [
            m.inside.ip().octets(),
            proto,
            register(&m.inside.port().to_be_bytes()),
        ]
        .concat();
        if let Some(remote) = remote {
            key.extend(remote.octets());
        }
        mapping.push(Element {
            key,
            data: Some(new.to_be_bytes().to_vec()),
            timeout_ms,
        });
        if !by_address {
            taken.push(Element {
                key: [proto, register(&new.to_be_bytes())].concat(),
                data: None,
                timeout_ms,
            });
        }
    }
    Some((mapping, taken))
}

/// The mappings the `mapping` set's `elements` are (as a dump gives them, keys and data as
/// [`elements`] writes them), as [`elements`] takes them: each inside endpoint, its outside
/// port on `nat`'s outside address, and, for an address-dependent mapping, the remote address
/// (port 0). An element that is not of this shape is skipped.
pub(super) fn bindings(nat: &NatPlan, elements: &[Element]) -> Vec<NatMapping> {
    let field =
        |bytes: &[u8], at: usize| -> Option<[u8; 4]> { bytes.get(at..at + 4)?.try_into().ok() };
    (elements.iter())
        .filter_map(|element| {
            let inside = Ipv4Addr::from(field(&element.key, 0)?);
            let protocol = match field(&element.key, 4)?[0] {
                p if p == number(Protocol::Tcp) => Protocol::Tcp,
                p if p == number(Protocol::Udp) => Protocol::Udp,
                _ => return None,
            };
            let [a, b, ..] = field(&element.key, 8)?;
            let remote = field(&element.key, 12).map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from);
            let data = element.data.as_deref()?;
            let outside = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
            Some(NatMapping {
                protocol,
                inside: SocketAddrV4::new(inside, u16::from_be_bytes([a, b])),
                outside: SocketAddrV4::new(nat.outside_ipv4, outside),
                remote: SocketAddrV4::new(remote, 0),
            })
        })
        .collect()
}

/// The port `step` places after `port` among 1024 to 65535, wrapping round.
fn next(port: u16, step: u16) -> u16 {
    let span = u32::from(u16::MAX) - 1024 + 1;
    let from = u32::from(port.max(1024)) - 1024;
    (1024 + (from + u32::from(step)) % span) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::netfilter::rules::tests::plan;
    use crate::topology::{PortForward, Preset};

    fn mapping(inside: &str, outside: &str, remote: &str) -> NatMapping {
        NatMapping {
            protocol: Protocol::Udp,
            inside: inside.parse().unwrap(),
            outside: outside.parse().unwrap(),
            remote: remote.parse().unwrap(),
        }
    }

    fn port_of(element: &Element) -> u16 {
        let data = element.data.as_ref().unwrap();
        u16::from_be_bytes([data[0], data[1]])
    }

    #[test]
    fn each_endpoint_gets_the_next_free_port() {
        let nat = plan(Preset::PortRestricted);
        let mappings = [
            mapping("192.168.1.1:4000", "203.0.113.2:4000", "198.51.100.7:3478"),
            // The same endpoint to another remote: one mapping, endpoint-independent.
            mapping("192.168.1.1:4000", "203.0.113.2:4000", "198.51.100.8:3478"),
            // Another endpoint whose next port the first takes.
            mapping("192.168.1.2:4000", "203.0.113.2:4001", "198.51.100.7:3478"),
            mapping("192.168.1.3:5000", "203.0.113.2:65535", "198.51.100.7:3478"),
        ];
        let (mapping, taken) = elements(&nat, &mappings).unwrap();
        let ports: Vec<u16> = mapping.iter().map(port_of).collect();
        assert_eq!(ports, [4002, 4003, 1024]);
        assert_eq!(
            mapping[0].key,
            [192, 168, 1, 1, 17, 0, 0, 0, 0x0f, 0xa0, 0, 0],
            "inside address . protocol . inside port, a register each"
        );
        assert_eq!(taken[0].key, [17, 0, 0, 0, 0x0f, 0xa2, 0, 0]);
        assert_eq!(mapping[0].timeout_ms, nat.timeout.as_secs() * 1000);
    }

    #[test]
    fn the_set_s_elements_read_back_as_the_mappings_they_record() {
        let nat = plan(Preset::PortRestricted);
        let mappings = [
            mapping("192.168.1.1:4000", "203.0.113.2:4000", "198.51.100.7:3478"),
            mapping("192.168.1.2:5000", "203.0.113.2:5000", "198.51.100.7:3478"),
        ];
        let (mapping, _) = elements(&nat, &mappings).unwrap();
        let read = bindings(&nat, &mapping);
        let seen: Vec<(SocketAddrV4, u16)> =
            read.iter().map(|m| (m.inside, m.outside.port())).collect();
        assert_eq!(
            seen,
            [
                ("192.168.1.1:4000".parse().unwrap(), 4001),
                ("192.168.1.2:5000".parse().unwrap(), 5001)
            ]
        );
        assert!(read.iter().all(|m| *m.outside.ip() == nat.outside_ipv4));
        // Rebinding what was read moves every port on again.
        let (again, _) = elements(&nat, &read).unwrap();
        assert_eq!(again.iter().map(port_of).collect::<Vec<_>>(), [4002, 5002]);
        let mut adm = plan(Preset::PortRestricted);
        adm.behaviour.mapping = Mapping::AddressDependent;
        let (by_address, _) = elements(&adm, &mappings[..1]).unwrap();
        let read = bindings(&adm, &by_address);
        assert_eq!(*read[0].remote.ip(), Ipv4Addr::new(198, 51, 100, 7));
    }

    #[test]
    fn port_forwards_keep_their_port_and_symmetric_nats_have_no_set() {
        let mut nat = plan(Preset::FullCone);
        nat.forwards.push(PortForward {
            protocol: Protocol::Udp,
            outside_port: 27015,
            node: 0,
            address: "192.168.1.9".parse().unwrap(),
            port: 27015,
        });
        let mappings = [
            mapping(
                "192.168.1.9:27015",
                "203.0.113.2:27015",
                "198.51.100.7:5000",
            ),
            mapping(
                "192.168.1.1:27014",
                "203.0.113.2:27014",
                "198.51.100.7:3478",
            ),
        ];
        let (mapping, _) = elements(&nat, &mappings).unwrap();
        assert_eq!(mapping.iter().map(port_of).collect::<Vec<_>>(), [27016]);
        assert!(elements(&plan(Preset::Symmetric), &mappings).is_none());
        let mut adm = plan(Preset::PortRestricted);
        adm.behaviour.mapping = Mapping::AddressDependent;
        let (mapping, taken) = elements(&adm, &mappings[1..]).unwrap();
        assert_eq!(
            mapping[0].key.len(),
            16,
            "the remote address is part of the key"
        );
        assert!(taken.is_empty());
    }
}
