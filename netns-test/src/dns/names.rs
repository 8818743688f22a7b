//! The names of a test: one table, from the plan, behind both `/etc/hosts` and the DNS answers.
//!
//! [`Names::of`] is the one place that decides which name has which address; the hosts file
//! ([`Names::hosts_file`]) and the responder ([`Names::lookup`]) both read its table, so the two
//! cannot disagree.
//!
//! What a name resolves to depends on who asks once a topology has NATs, as on real networks:
//! two homes may both be `192.168.1.0/24`, so `peer-a` behind one and `peer-b` behind the other
//! may both be `192.168.1.1`, and a NAT router is one address to its inside and another to its
//! outside. Each asker sees the realms its IPv4 packets reach ([`Viewer`]): its own, the
//! realms its NATs lead out to, up to the public ones. A name resolves to the target's first
//! interface in the nearest of those realms; a node in no realm the asker reaches has no IPv4
//! address for it, only its IPv6 one (IPv6 is not translated and is routed everywhere). The
//! hosts file, one for every node of the test, can only hold the names that are the same for
//! every asker: all of them without NATs, the public nodes with NATs; the rest are answered
//! by the responder alone.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::wire::{Rdata, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_PTR};
use crate::topology::Plan;

/// Every name of a test and its addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    /// `localhost` and its aliases, as lines of a hosts file: an address, then its names.
    local: Vec<(IpAddr, Vec<String>)>,
    /// Per node of the plan, its name and the addresses of each interface.
    nodes: Vec<Entry>,
    /// Per realm, the realm its NAT leads out to (`None`: public).
    parents: Vec<Option<usize>>,
    /// The names a test added (`Net::set_name`), lowercase, each with the node it leads to.
    aliases: Vec<(String, usize)>,
}

/// One node's name and where it can be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    name: String,
    interfaces: Vec<Addresses>,
}

/// One interface's addresses and its realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Addresses {
    realm: usize,
    ipv4: Option<Ipv4Addr>,
    ipv6: Option<Ipv6Addr>,
}

/// Who asks: the realms whose IPv4 addresses the asker reaches, nearest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Viewer {
    realms: Vec<usize>,
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
    /// The names of `plan`: `localhost`, then each node by the addresses of one interface, an
    /// A and an AAAA record, or only the one of the family the network has (`[ipv4=off]`,
    /// `[ipv6=off]`). A node without interfaces has no name.
    pub(crate) fn of(plan: &Plan) -> Names {
        let local = vec![
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
        let nodes = (plan.nodes.iter())
            .map(|node| Entry {
                name: node.name.clone(),
                interfaces: (node.interfaces.iter())
                    .map(|interface| Addresses {
                        realm: interface.realm,
                        ipv4: interface.ipv4.map(|a| a.addr()),
                        ipv6: interface.ipv6.map(|a| a.addr()),
                    })
                    .collect(),
            })
            .collect();
        Names {
            local,
            nodes,
            parents: plan.realm_parents.clone(),
            aliases: Vec::new(),
        }
    }

    /// Whether `name` is a name the network gave (`localhost` and its aliases, a node's).
    pub(crate) fn is_given(&self, name: &str) -> bool {
        (self.local.iter()).any(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            || (self.nodes.iter()).any(|entry| entry.name.eq_ignore_ascii_case(name))
    }

    /// `name` (any case) leads to node number `node` from now on, as that node's own name does
    /// for each asker, wherever it led before.
    pub(crate) fn set_alias(&mut self, name: &str, node: usize) {
        let name = name.to_ascii_lowercase();
        self.aliases.retain(|(alias, _)| *alias != name);
        self.aliases.push((name, node));
    }

    /// `name` leads nowhere from now on; whether it led somewhere.
    pub(crate) fn remove_alias(&mut self, name: &str) -> bool {
        let before = self.aliases.len();
        self.aliases
            .retain(|(alias, _)| !alias.eq_ignore_ascii_case(name));
        self.aliases.len() != before
    }

    /// Node number `node`'s own name, then the names added for it.
    fn names_of(&self, node: usize) -> impl Iterator<Item = &str> {
        let aliases = (self.aliases.iter()).filter(move |(_, n)| *n == node);
        std::iter::once(self.nodes[node].name.as_str()).chain(aliases.map(|(a, _)| a.as_str()))
    }

    /// Node number `node` now has `new` where it had the IPv4 address `old` (a NAT that moved
    /// to a new outside address): its name and the reverse name of `new` lead there, and
    /// nothing leads to `old`.
    pub(crate) fn move_ipv4(&mut self, node: usize, old: Ipv4Addr, new: Ipv4Addr) {
        let interfaces = self
            .nodes
            .get_mut(node)
            .into_iter()
            .flat_map(|e| &mut e.interfaces);
        for interface in interfaces.filter(|i| i.ipv4 == Some(old)) {
            interface.ipv4 = Some(new);
        }
    }

    /// What node number `node` of the plan sees (`None`: `host` when the topology does not
    /// name it, which is in no realm): its interfaces' realms in their order, then the realms
    /// they lead out to, nearest first, then every public realm.
    pub(crate) fn viewer(&self, node: Option<usize>) -> Viewer {
        let mut realms: Vec<usize> = Vec::new();
        let own = node.and_then(|node| self.nodes.get(node));
        for interface in own.into_iter().flat_map(|entry| &entry.interfaces) {
            if !realms.contains(&interface.realm) {
                realms.push(interface.realm);
            }
        }
        let mut next = 0;
        while next < realms.len() {
            if let Some(Some(parent)) = self.parents.get(realms[next])
                && !realms.contains(parent)
            {
                realms.push(*parent);
            }
            next += 1;
        }
        for (realm, parent) in self.parents.iter().enumerate() {
            if parent.is_none() && !realms.contains(&realm) {
                realms.push(realm);
            }
        }
        Viewer { realms }
    }

    /// The addresses `entry` has for `viewer`: those of its first interface in the nearest
    /// realm the viewer reaches; with none, no IPv4 address and the IPv6 one of its first
    /// interface.
    fn published(entry: &Entry, viewer: &Viewer) -> (Option<Ipv4Addr>, Option<Ipv6Addr>) {
        let nearest = (entry.interfaces.iter())
            .filter_map(|i| Some((viewer.realms.iter().position(|&r| r == i.realm)?, i)))
            .min_by_key(|&(distance, _)| distance);
        match (nearest, entry.interfaces.first()) {
            (Some((_, interface)), _) => (interface.ipv4, interface.ipv6),
            (None, Some(first)) => (None, first.ipv6),
            (None, None) => (None, None),
        }
    }

    /// Whether every interface of `entry` is in a public realm: then it has the same addresses
    /// for every viewer.
    fn public(&self, entry: &Entry) -> bool {
        (entry.interfaces.iter()).all(|i| self.parents.get(i.realm).is_some_and(Option::is_none))
    }

    /// The text of `/etc/hosts`: `localhost`, then every node whose addresses are the same for
    /// every viewer (all of them in a topology without NATs), IPv4 line first, each with the
    /// names added for it after its own.
    pub(crate) fn hosts_file(&self) -> String {
        let mut text = String::new();
        for (addr, names) in &self.local {
            let _ = writeln!(text, "{addr}\t{}", names.join(" "));
        }
        for (node, entry) in self.nodes.iter().enumerate() {
            if !self.public(entry) {
                continue;
            }
            if let Some(first) = entry.interfaces.first() {
                let ipv4 = first.ipv4.map(IpAddr::V4);
                let ipv6 = first.ipv6.map(IpAddr::V6);
                let names: Vec<&str> = self.names_of(node).collect();
                for addr in [ipv4, ipv6].into_iter().flatten() {
                    let _ = writeln!(text, "{addr}\t{}", names.join(" "));
                }
            }
        }
        text
    }

    /// The records of `name` (lowercase, without the final dot) of type `qtype` for `viewer`:
    /// addresses for `A`, `AAAA` (both for `ANY`), the canonical name of an address for `PTR`
    /// of its `in-addr.arpa` or `ip6.arpa` name.
    pub(crate) fn lookup(&self, name: &str, qtype: u16, viewer: &Viewer) -> Found {
        if let Some(addr) = reverse(name) {
            let local = (self.local.iter()).find(|(a, _)| *a == addr);
            let owner = local.map(|(_, names)| names[0].as_str()).or_else(|| {
                let mut owners = self.nodes.iter().filter(|entry| {
                    let (ipv4, ipv6) = Self::published(entry, viewer);
                    ipv4.map(IpAddr::V4) == Some(addr) || ipv6.map(IpAddr::V6) == Some(addr)
                });
                owners.next().map(|entry| entry.name.as_str())
            });
            return match owner {
                Some(owner) if matches!(qtype, TYPE_PTR | TYPE_ANY) => {
                    Found::Records(vec![Rdata::Ptr(owner.to_string())])
                }
                Some(_) => Found::Records(Vec::new()),
                None => Found::Nothing,
            };
        }
        let mut exists = false;
        let mut records = Vec::new();
        let mut add = |addr: IpAddr| {
            exists = true;
            match (addr, qtype) {
                (IpAddr::V4(v4), TYPE_A | TYPE_ANY) => records.push(Rdata::A(v4)),
                (IpAddr::V6(v6), TYPE_AAAA | TYPE_ANY) => records.push(Rdata::Aaaa(v6)),
                _ => {}
            }
        };
        for (addr, names) in &self.local {
            if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                add(*addr);
            }
        }
        let aliased = (self.aliases.iter())
            .filter(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map(|&(_, node)| &self.nodes[node]);
        let named = (self.nodes.iter()).filter(|entry| entry.name.eq_ignore_ascii_case(name));
        for entry in named.chain(aliased) {
            let (ipv4, ipv6) = Self::published(entry, viewer);
            for addr in [ipv4.map(IpAddr::V4), ipv6.map(IpAddr::V6)]
                .into_iter()
                .flatten()
            {
                add(addr);
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
        seen_from(names, None, name)
    }

    /// The A and AAAA answers for `name` to the node number `viewer` (`None`: an unnamed
    /// `host`).
    fn seen_from(names: &Names, viewer: Option<usize>, name: &str) -> (Vec<IpAddr>, Vec<IpAddr>) {
        let viewer = names.viewer(viewer);
        let pick = |qtype| match names.lookup(name, qtype, &viewer) {
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
        let host = names.viewer(None);
        let found = names.lookup("server", 15, &host);
        assert!(matches!(found, Found::Records(r) if r.is_empty()));
        assert_eq!(names.lookup("sever", TYPE_A, &host), Found::Nothing);
        assert_eq!(
            names.lookup("server.example", TYPE_A, &host),
            Found::Nothing
        );
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
        let host = names.viewer(None);
        let ptr = |name: &str| names.lookup(name, TYPE_PTR, &host);
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

    #[test]
    fn an_added_name_leads_where_its_node_s_own_does_and_moves() {
        let mut names = names(HOMES);
        names.set_alias("Svc.Example.com", node(&names, "server").unwrap());
        names.set_alias("printer.home.arpa", node(&names, "peer-a").unwrap());
        assert_eq!(
            addresses(&names, "svc.example.com"),
            addresses(&names, "server")
        );
        assert_eq!(
            ipv4_seen(&names, "peer-a", "printer.home.arpa"),
            ipv4_seen(&names, "peer-a", "peer-a")
        );
        assert!(ipv4_seen(&names, "server", "printer.home.arpa").is_empty());
        // Only the public node's name goes into the hosts file, beside its own.
        let hosts = names.hosts_file();
        let server = ipv4_seen(&names, "server", "server")[0];
        assert!(
            hosts.contains(&format!("{server}\tserver svc.example.com\n")),
            "{hosts}"
        );
        assert!(!hosts.contains("printer"), "{hosts}");
        names.set_alias("svc.example.com", node(&names, "home-b").unwrap());
        assert_eq!(
            ipv4_seen(&names, "server", "svc.example.com"),
            ipv4_seen(&names, "server", "home-b")
        );
        assert!(names.remove_alias("SVC.example.com"));
        let viewer = names.viewer(None);
        assert_eq!(
            names.lookup("svc.example.com", TYPE_A, &viewer),
            Found::Nothing
        );
        assert!(!names.remove_alias("svc.example.com"));
        assert!(names.is_given("Server") && names.is_given("localhost") && !names.is_given("x"));
    }

    /// Two homes on the same subnet, each with a peer, a server outside both, and a second
    /// NAT behind the first home.
    const HOMES: &str = "switch internet; {home-a home-b server} -- internet; \
        peer-a -- home-a; peer-b -- home-b; inner -- attic -- home-a; \
        nat home-a [outside=internet]; nat home-b [outside=internet]; nat attic [outside=home-a]";

    fn node(names: &Names, name: &str) -> Option<usize> {
        names.nodes.iter().position(|entry| entry.name == name)
    }

    fn ipv4_seen(names: &Names, viewer: &str, name: &str) -> Vec<IpAddr> {
        seen_from(names, node(names, viewer), name).0
    }

    fn v4(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_name_behind_a_nat_resolves_only_where_its_address_is_reached() {
        let names = names(HOMES);
        let peer_a = ipv4_seen(&names, "home-a", "peer-a");
        let peer_b = ipv4_seen(&names, "home-b", "peer-b");
        // The two homes reuse one subnet: each peer has the same private address.
        assert_eq!(peer_a, peer_b);
        assert_eq!(peer_a.len(), 1);
        assert_eq!(ipv4_seen(&names, "peer-a", "peer-a"), peer_a);
        // From the other home, the server, `host` and a NAT's own outside: no IPv4 address.
        for viewer in ["peer-b", "home-b", "server"] {
            assert!(
                ipv4_seen(&names, viewer, "peer-a").is_empty(),
                "from {viewer}"
            );
        }
        assert!(addresses(&names, "peer-a").0.is_empty());
        // Behind a NAT inside the home, the home's names resolve as in the home.
        assert_eq!(ipv4_seen(&names, "inner", "peer-a"), peer_a);
        // The IPv6 address is global: every node gets it.
        let (_, peer_a6) = seen_from(&names, node(&names, "peer-a"), "peer-a");
        for viewer in ["peer-b", "server", "inner"] {
            let (_, seen6) = seen_from(&names, node(&names, viewer), "peer-a");
            assert_eq!(seen6, peer_a6, "from {viewer}");
        }
    }

    #[test]
    fn a_nat_router_is_its_inside_address_inside_and_its_outside_address_outside() {
        let names = names(HOMES);
        let plan = Topology::parse(HOMES).unwrap().plan().clone();
        let home_a = plan.node("home-a").unwrap();
        let nat = plan
            .nats
            .iter()
            .find(|n| plan.nodes[n.node].name == "home-a")
            .unwrap();
        let outside = IpAddr::V4(nat.outside_ipv4);
        let inside = (home_a.interfaces.iter())
            .find(|i| i.name != nat.outside)
            .and_then(|i| i.ipv4)
            .map(|a| IpAddr::V4(a.addr()))
            .unwrap();
        assert_eq!(ipv4_seen(&names, "peer-a", "home-a"), [inside]);
        assert_eq!(ipv4_seen(&names, "inner", "home-a"), [inside]);
        assert_eq!(ipv4_seen(&names, "server", "home-a"), [outside]);
        assert_eq!(ipv4_seen(&names, "peer-b", "home-a"), [outside]);
        assert_eq!(addresses(&names, "home-a").0, [outside]);
        // A public node is the same everywhere.
        let server = ipv4_seen(&names, "server", "server");
        for viewer in ["peer-a", "peer-b", "inner", "home-a"] {
            assert_eq!(ipv4_seen(&names, viewer, "server"), server, "from {viewer}");
        }
    }

    #[test]
    fn a_reverse_name_is_the_node_its_asker_reaches_there() {
        let names = names(HOMES);
        let address = ipv4_seen(&names, "peer-a", "peer-a")[0];
        let IpAddr::V4(address) = address else {
            panic!()
        };
        let [a, b, c, d] = address.octets();
        let reverse = format!("{d}.{c}.{b}.{a}.in-addr.arpa");
        let ptr = |viewer: &str| {
            let viewer = names.viewer(node(&names, viewer));
            names.lookup(&reverse, TYPE_PTR, &viewer)
        };
        let named = |name: &str| Found::Records(vec![Rdata::Ptr(name.into())]);
        assert_eq!(ptr("home-a"), named("peer-a"));
        assert_eq!(ptr("home-b"), named("peer-b"));
        assert_eq!(ptr("server"), Found::Nothing);
    }

    #[test]
    fn with_nats_the_hosts_file_holds_only_the_names_every_node_sees_alike() {
        let names = names(HOMES);
        let hosts = names.hosts_file();
        let named: Vec<&str> = (hosts.lines().skip(2))
            .filter_map(|line| line.split_once('\t').map(|(_, name)| name))
            .collect();
        assert_eq!(named, ["server", "server"]);
        // Without NATs, every node is there.
        let flat = names_of_every_node("a -- r -- b");
        assert_eq!(flat, ["a", "a", "r", "r", "b", "b"]);
    }

    fn names_of_every_node(topology: &str) -> Vec<String> {
        (names(topology).hosts_file().lines().skip(2))
            .filter_map(|line| line.split_once('\t').map(|(_, name)| name.to_string()))
            .collect()
    }

    #[test]
    fn without_nats_every_node_sees_the_same_names() {
        let names = names("a -- r -- b; c -- r");
        for viewer in ["a", "r", "b", "c"] {
            for name in ["a", "r", "b", "c"] {
                assert_eq!(
                    seen_from(&names, node(&names, viewer), name),
                    addresses(&names, name),
                    "{name} from {viewer}"
                );
            }
        }
        assert_eq!(ipv4_seen(&names, "b", "a"), [v4("10.0.1.1")]);
    }
}
