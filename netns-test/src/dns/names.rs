//! The names of a test: one table, from the plan, behind both `/etc/hosts` and the DNS answers.
//!
//! [`Names::of`] is the one place that decides which name has which address; the hosts file
//! ([`Names::hosts_file`]) and the responder ([`Names::lookup`]) both read its table, so the two
//! cannot disagree.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::wire::{Rdata, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_PTR};
use crate::topology::Plan;

/// Every name of a test and its addresses, as lines of a hosts file: an address, then its
/// names, the first one canonical.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    lines: Vec<(IpAddr, Vec<String>)>,
}

/// What a name has.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// The name exists; these are its records of the type asked (maybe none).
    Records(Vec<Rdata>),
    /// No such name.
    Nothing,
}

impl Names {
    /// The names of `plan`: `localhost`, then each node by the addresses of its first
    /// interface, IPv4 first: an A and an AAAA record, or only the one of the
    /// family the network has (`[ipv4=off]`, `[ipv6=off]`). A node without interfaces has no name.
    pub(crate) fn of(plan: &Plan) -> Names {
        let mut lines = vec![
            (
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                vec!["localhost".to_string()],
            ),
            (
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                ["localhost", "ip6-localhost", "ip6-loopback"]
                    .map(String::from)
                    .to_vec(),
            ),
        ];
        for node in &plan.nodes {
            if let Some(interface) = node.interfaces.first() {
                let ipv4 = interface.ipv4.map(|a| IpAddr::V4(a.addr()));
                let ipv6 = interface.ipv6.map(|a| IpAddr::V6(a.addr()));
                for addr in [ipv4, ipv6].into_iter().flatten() {
                    lines.push((addr, vec![node.name.clone()]));
                }
            }
        }
        Names { lines }
    }

    /// The text of `/etc/hosts`.
    pub(crate) fn hosts_file(&self) -> String {
        let mut text = String::new();
        for (addr, names) in &self.lines {
            let _ = writeln!(text, "{addr}\t{}", names.join(" "));
        }
        text
    }

    /// The records of `name` (lowercase, without the final dot) of type `qtype`: addresses for
    /// `A`, `AAAA` (both for `ANY`), the canonical name of an address for `PTR` of its
    /// `in-addr.arpa` or `ip6.arpa` name.
    pub(crate) fn lookup(&self, name: &str, qtype: u16) -> Found {
        if let Some(addr) = reverse(name) {
            return match self.lines.iter().find(|(a, _)| *a == addr) {
                Some((_, names)) if matches!(qtype, TYPE_PTR | TYPE_ANY) => {
                    Found::Records(vec![Rdata::Ptr(names[0].clone())])
                }
                Some(_) => Found::Records(Vec::new()),
                None => Found::Nothing,
            };
        }
        let mut exists = false;
        let mut records = Vec::new();
        for (addr, names) in &self.lines {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            exists = true;
            match (addr, qtype) {
                (IpAddr::V4(v4), TYPE_A | TYPE_ANY) => records.push(Rdata::A(*v4)),
                (IpAddr::V6(v6), TYPE_AAAA | TYPE_ANY) => records.push(Rdata::Aaaa(*v6)),
                _ => {}
            }
        }
        if exists {
            Found::Records(records)
        } else {
            Found::Nothing
        }
    }
}

/// The address of a reverse name: `2.0.0.10.in-addr.arpa` is 10.0.0.2, and 32 nibbles before
/// `ip6.arpa` an IPv6 address. Anything else (a partial reverse name too) is `None`.
fn reverse(name: &str) -> Option<IpAddr> {
    if let Some(digits) = name.strip_suffix(".in-addr.arpa") {
        let mut octets: Vec<u8> = digits
            .split('.')
            .map(|part| part.parse().ok())
            .collect::<Option<_>>()?;
        octets.reverse();
        let octets: [u8; 4] = octets.try_into().ok()?;
        return Some(IpAddr::V4(Ipv4Addr::from(octets)));
    }
    let nibbles = name.strip_suffix(".ip6.arpa")?;
    let mut value: u128 = 0;
    let mut count = 0;
    for part in nibbles.split('.').rev() {
        if part.len() != 1 {
            return None;
        }
        value = (value << 4) | u128::from(part.chars().next()?.to_digit(16)?);
        count += 1;
    }
    (count == 32).then(|| IpAddr::V6(Ipv6Addr::from(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Topology;

    fn names(topology: &str) -> Names {
        Names::of(Topology::parse(topology).expect("a topology").plan())
    }

    fn addresses(names: &Names, name: &str) -> (Vec<IpAddr>, Vec<IpAddr>) {
        let pick = |qtype| match names.lookup(name, qtype) {
            Found::Records(records) => records
                .into_iter()
                .map(|record| match record {
                    Rdata::A(a) => IpAddr::V4(a),
                    Rdata::Aaaa(a) => IpAddr::V6(a),
                    Rdata::Ptr(p) => panic!("a PTR for {name}: {p}"),
                })
                .collect(),
            Found::Nothing => panic!("no {name}"),
        };
        (pick(TYPE_A), pick(TYPE_AAAA))
    }

    #[test]
    fn names_resolve_to_each_family_the_network_has() {
        let hosts = |topology: &str| -> Vec<String> {
            names(topology)
                .hosts_file()
                .lines()
                .skip(2)
                .map(String::from)
                .collect()
        };
        assert_eq!(
            hosts("a -- r -- b"),
            [
                "10.0.1.1\ta",
                "fd00:0:0:1::1\ta",
                "10.0.1.254\tr",
                "fd00:0:0:1::254\tr",
                "10.0.2.1\tb",
                "fd00:0:0:2::1\tb"
            ]
        );
        assert_eq!(hosts("[ipv6=off]; a -- b"), ["10.0.1.1\ta", "10.0.1.2\tb"]);
        assert_eq!(
            hosts("[ipv4=off]; a -- b; lone"),
            ["fd00:0:0:1::1\ta", "fd00:0:0:1::2\tb"]
        );
        assert!(addresses(&names("[ipv4=off]; a -- b"), "a").0.is_empty());
    }

    /// The hosts file and the answers are the same table.
    #[test]
    fn every_line_of_the_hosts_file_is_answered() {
        let names = names("client -- gateway -- server");
        let hosts = names.hosts_file();
        assert!(hosts.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost"));
        let mut lines = 0;
        for line in hosts.lines() {
            let (addr, names_here) = line.split_once('\t').unwrap();
            let addr: IpAddr = addr.parse().unwrap();
            for name in names_here.split(' ') {
                let (v4, v6) = addresses(&names, name);
                assert!(v4.contains(&addr) || v6.contains(&addr), "{name} {addr}");
                lines += 1;
            }
        }
        // localhost twice and two more names of ::1, then each node's two addresses.
        assert_eq!(lines, 4 + 3 * 2);
    }

    #[test]
    fn a_node_has_one_address_of_each_family() {
        let names = names("client -- server");
        let (v4, v6) = addresses(&names, "SERVER");
        assert_eq!(v4.len(), 1);
        assert_eq!(v6.len(), 1);
        assert!(matches!(names.lookup("server", 15), Found::Records(r) if r.is_empty()));
        assert_eq!(names.lookup("sever", TYPE_A), Found::Nothing);
        assert_eq!(names.lookup("server.example", TYPE_A), Found::Nothing);
    }

    #[test]
    fn without_ipv6_a_node_has_no_aaaa_but_still_exists() {
        let names = names("[ipv6=off]; client -- server");
        let (v4, v6) = addresses(&names, "server");
        assert_eq!((v4.len(), v6.len()), (1, 0));
    }

    #[test]
    fn reverse_names_give_the_canonical_name() {
        let names = names("client -- server");
        let (v4, v6) = addresses(&names, "server");
        let IpAddr::V4(v4) = v4[0] else { panic!() };
        let [a, b, c, d] = v4.octets();
        let ptr = |name: &str| names.lookup(name, TYPE_PTR);
        let server = Found::Records(vec![Rdata::Ptr("server".into())]);
        assert_eq!(ptr(&format!("{d}.{c}.{b}.{a}.in-addr.arpa")), server);
        let IpAddr::V6(v6) = v6[0] else { panic!() };
        let nibbles: Vec<String> = format!("{:032x}", u128::from(v6))
            .chars()
            .rev()
            .map(String::from)
            .collect();
        assert_eq!(ptr(&format!("{}.ip6.arpa", nibbles.join("."))), server);
        assert_eq!(
            ptr("1.0.0.127.in-addr.arpa"),
            Found::Records(vec![Rdata::Ptr("localhost".into())])
        );
        assert_eq!(ptr("9.9.9.9.in-addr.arpa"), Found::Nothing);
        assert_eq!(ptr("0.0.0.0.in-addr.arpa"), Found::Nothing);
        assert_eq!(reverse("0.10.in-addr.arpa"), None);
    }
}
