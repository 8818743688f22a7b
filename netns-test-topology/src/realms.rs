//! Address realms: the networks that NAT routers cut a topology into.
//!
//! Every segment belongs to one realm. Without a `nat` statement the whole topology is one realm
//! and nothing here changes what it means. With NATs, each NAT's inside links (all but its
//! `outside=` one) and everything reached from them without crossing a NAT form the NAT's
//! *inside* realm, whose parent is the realm of its outside link; realms without a parent are
//! public. Two realms may reuse the same subnets unless one is inside the other (two homes both
//! on `192.168.1.0/24`), and the planner gives no node a route into a realm below its own.
//!
//! Here too the `nat` statements are checked against the links: the outside names a neighbour,
//! the NAT has an inside, the inside has no other way out (the ways in, port forwards and
//! pinholes, are checked in `ways_in.rs`).

use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;

use crate::error::Diagnostic;
use crate::nat::{Behaviour, DEFAULT_TCP_TIMEOUT, DEFAULT_TIMEOUT, Preset};
use crate::network::{HOST, Link, Peer};
use crate::suggest::did_you_mean;
use crate::syntax::{Forward, NatAttributes, Pinhole, Role, Spanned};
use crate::ways_in;

/// A `nat` statement as read, before the links it names are checked.
#[derive(Debug)]
pub(crate) struct NatDraft {
    pub(crate) node: usize,
    pub(crate) name: Spanned<String>,
    /// The whole statement.
    pub(crate) span: Range<usize>,
    pub(crate) attributes: NatAttributes,
}

/// A checked `nat` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NatDecl {
    pub(crate) node: usize,
    /// What its outside link goes to.
    pub(crate) outside: Peer,
    pub(crate) outside_segment: usize,
    pub(crate) preset: Option<Preset>,
    pub(crate) behaviour: Behaviour,
    pub(crate) timeout: Duration,
    pub(crate) tcp_timeout: Duration,
    /// Each port forward with the node it reaches.
    pub(crate) forwards: Vec<(Forward, usize)>,
    /// Each IPv6 pinhole with the node it reaches.
    pub(crate) pinholes: Vec<(Pinhole, usize)>,
    /// What the text wrote, for the canonical text: mapping, filtering, hairpin, firewall6,
    /// timeout, tcp-timeout.
    pub(crate) written: Written,
}

/// The settings of a `nat` statement that the text wrote, beyond its outside and forwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) mapping: bool,
    pub(crate) filtering: bool,
    pub(crate) hairpin: bool,
    pub(crate) firewall6: bool,
    pub(crate) timeout: bool,
    pub(crate) tcp_timeout: bool,
}

/// Where automatic subnets of a realm come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pool {
    /// A topology without NAT: `10.0.1.0/24`, `10.0.2.0/24`, ...
    Flat,
    /// The public side of a topology with NATs: the documentation ranges.
    Public,
    /// Behind a home NAT: `192.168.1.0/24`, ...
    Home,
    /// Behind a `cgnat`: `100.64.1.0/24`, ... (RFC 6598).
    Carrier,
}

/// Which realm each segment is in, and how realms nest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Realms {
    /// Per segment, its realm.
    pub(crate) of_segment: Vec<usize>,
    /// Per realm, the realm it is the inside of, if any.
    pub(crate) parent: Vec<Option<usize>>,
    /// Per realm, where its automatic subnets come from.
    pub(crate) pool: Vec<Pool>,
}

impl Realms {
    /// One realm for `segments` segments: a topology without NAT.
    pub(crate) fn flat(segments: usize) -> Realms {
        Realms {
            of_segment: vec![0; segments],
            parent: vec![None],
            pool: vec![Pool::Flat],
        }
    }

    /// Whether the topology has NATs.
    pub(crate) fn has_nat(&self) -> bool {
        self.pool[0] != Pool::Flat
    }

    /// Whether `realm` is `other` or inside it, at any depth.
    pub(crate) fn within(&self, mut realm: usize, other: usize) -> bool {
        for _ in 0..self.parent.len() {
            if realm == other {
                return true;
            }
            match self.parent[realm] {
                Some(parent) => realm = parent,
                None => return false,
            }
        }
        false
    }

    /// Whether segments `a` and `b` must have subnets that do not overlap: they are in one
    /// realm, or one's realm is inside the other's. Segments of two sibling realms may reuse
    /// the same subnet.
    pub(crate) fn related(&self, a: usize, b: usize) -> bool {
        let (a, b) = (self.of_segment[a], self.of_segment[b]);
        self.within(a, b) || self.within(b, a)
    }

    /// The pool of segment `segment`'s realm.
    pub(crate) fn pool_of(&self, segment: usize) -> Pool {
        self.pool[self.of_segment[segment]]
    }
}

/// The links of a topology, as the checks here read them.
pub(crate) struct Graph<'a> {
    pub(crate) nodes: &'a [String],
    pub(crate) switches: &'a [String],
    pub(crate) links: &'a [Link],
    pub(crate) segments: usize,
    pub(crate) names: &'a HashMap<String, Peer>,
    pub(crate) roles: &'a [Option<Spanned<Role>>],
}

impl Graph<'_> {
    fn peer_name(&self, peer: Peer) -> &str {
        match peer {
            Peer::Node(node) => &self.nodes[node],
            Peer::Switch(switch) => &self.switches[switch],
        }
    }

    /// Each link of `node`: the segment and what is on the other side.
    pub(crate) fn neighbours(&self, node: usize) -> Vec<(usize, Peer)> {
        (self.links.iter())
            .filter_map(|link| match link.peer {
                _ if link.node == node => Some((link.segment, link.peer)),
                Peer::Node(peer) if peer == node => Some((link.segment, Peer::Node(link.node))),
                _ => None,
            })
            .collect()
    }
}

/// Checks the `nat` statements against the links, and finds the realms. `ipv4_off` and
/// `ipv6_off`: whether the text says `[ipv4=off]`, `[ipv6=off]`.
pub(crate) fn resolve(
    graph: &Graph<'_>,
    drafts: &[NatDraft],
    ipv4_off: bool,
    ipv6_off: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<NatDecl>, Realms) {
    if drafts.is_empty() {
        return (Vec::new(), Realms::flat(graph.segments));
    }
    let mut decls = Vec::new();
    let mut nat_of = vec![None; graph.nodes.len()];
    for draft in drafts {
        if ipv4_off {
            let message = format!(
                "`nat {}` translates IPv4, and this topology has `[ipv4=off]`; remove one of \
                 them (IPv6 is never translated)",
                draft.name.value
            );
            diagnostics.push(Diagnostic::new(draft.span.clone(), message));
            continue;
        }
        if let Some(decl) = declaration(graph, draft, diagnostics) {
            nat_of[draft.node] = Some(decls.len());
            decls.push(decl);
        }
    }
    // Segments joined by every node that is not a NAT, and by each NAT's inside links.
    let mut sets = Sets::new(graph.segments);
    for (node, nat) in nat_of.iter().enumerate() {
        let segments: Vec<usize> = match *nat {
            None => graph.neighbours(node).iter().map(|n| n.0).collect(),
            Some(nat) => (graph.neighbours(node).iter().map(|n| n.0))
                .filter(|&segment| segment != decls[nat].outside_segment)
                .collect(),
        };
        for pair in segments.windows(2) {
            sets.join(pair[0], pair[1]);
        }
    }
    let mut realm_ids: HashMap<usize, usize> = HashMap::new();
    let of_segment: Vec<usize> = (0..graph.segments)
        .map(|segment| {
            let root = sets.find(segment);
            let next = realm_ids.len();
            *realm_ids.entry(root).or_insert(next)
        })
        .collect();
    let realms = realm_ids.len().max(1);
    let mut parent = vec![None; realms];
    let mut pool = vec![Pool::Public; realms];
    let mut owner: Vec<Option<usize>> = vec![None; realms];
    let mut valid = true;
    for (k, decl) in decls.iter().enumerate() {
        let name = &graph.nodes[decl.node];
        let draft = drafts.iter().find(|d| d.node == decl.node);
        let span = draft.map_or(0..0, |d| d.span.clone());
        let inside = (graph.neighbours(decl.node).into_iter())
            .find(|&(segment, _)| segment != decl.outside_segment)
            .map(|(segment, _)| of_segment[segment]);
        let Some(inside) = inside else { continue };
        let outside = of_segment[decl.outside_segment];
        if inside == outside {
            let message = format!(
                "the inside of `nat {name}` is linked to its outside, `{}`, by another way than \
                 through `{name}`; a NAT must be the only way out of its inside: remove the other \
                 link, or make its router a NAT too",
                graph.peer_name(decl.outside)
            );
            diagnostics.push(Diagnostic::new(span, message));
            valid = false;
            continue;
        }
        if let Some(other) = owner[inside] {
            let message = format!(
                "`nat {name}` and `nat {}` both lead out of the same inside network; an inside \
                 network has one NAT as its way out: link the two insides apart",
                graph.nodes[decls[other].node]
            );
            diagnostics.push(Diagnostic::new(span, message));
            valid = false;
            continue;
        }
        owner[inside] = Some(k);
        parent[inside] = Some(outside);
        pool[inside] = match decl.preset {
            Some(Preset::Cgnat) => Pool::Carrier,
            _ => Pool::Home,
        };
    }
    let realms = Realms {
        of_segment,
        parent,
        pool,
    };
    if valid {
        for (realm, owner) in owner.iter().enumerate() {
            let Some(owner) = *owner else { continue };
            let mut up = realms.parent[realm];
            for _ in 0..realms.parent.len() {
                match up {
                    Some(up_realm) if up_realm == realm => {
                        let name = &graph.nodes[decls[owner].node];
                        let span = (drafts.iter().find(|d| d.node == decls[owner].node))
                            .map_or(0..0, |d| d.span.clone());
                        let message = format!(
                            "`nat {name}` is behind itself: its outside leads, through other \
                             NATs, back to its inside; choose each NAT's `outside=` so that \
                             they nest"
                        );
                        diagnostics.push(Diagnostic::new(span, message));
                        break;
                    }
                    Some(up_realm) => up = realms.parent[up_realm],
                    None => break,
                }
            }
        }
    }
    ways_in::check(graph, drafts, &mut decls, &realms, ipv6_off, diagnostics);
    (decls, realms)
}

/// One `nat` statement checked on its own: the node, its links, its outside, its settings.
fn declaration(
    graph: &Graph<'_>,
    draft: &NatDraft,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<NatDecl> {
    let name = &draft.name.value;
    if let Some(Some(role)) = graph.roles.get(draft.node)
        && role.value == Role::Host
    {
        let message = format!(
            "`{name}` is declared `host`, and a NAT is a router that forwards: remove `host \
             {name}`"
        );
        diagnostics.push(Diagnostic::new(draft.name.span.clone(), message));
        return None;
    }
    let neighbours = graph.neighbours(draft.node);
    let listed = |neighbours: &[(usize, Peer)]| -> String {
        let names: Vec<String> = neighbours
            .iter()
            .map(|&(_, peer)| format!("`{}`", graph.peer_name(peer)))
            .collect();
        names.join(", ")
    };
    if neighbours.len() < 2 {
        let message = match neighbours.first() {
            None => format!(
                "`nat {name}`: `{name}` has no links, and a NAT stands between an inside and an \
                 outside: link it to both, as in `laptop -- {name} -- isp`"
            ),
            Some(&(_, peer)) => format!(
                "`nat {name}`: `{name}` has one link, to `{}`, and a NAT stands between an \
                 inside and an outside: link it to its inside too, as in `laptop -- {name}`",
                graph.peer_name(peer)
            ),
        };
        diagnostics.push(Diagnostic::new(draft.span.clone(), message));
        return None;
    }
    let attributes = &draft.attributes;
    let Some(outside) = &attributes.outside else {
        let first = graph.peer_name(neighbours[neighbours.len() - 1].1);
        let message = format!(
            "`nat {name}` needs its outside: the neighbour its outside link goes to, one of {}, \
             as in `nat {name} [outside={first}]`",
            listed(&neighbours)
        );
        diagnostics.push(Diagnostic::new(draft.span.clone(), message));
        return None;
    };
    let found = (graph.names.get(&outside.value))
        .and_then(|&peer| neighbours.iter().find(|n| n.1 == peer).copied());
    let Some((outside_segment, outside_peer)) = found else {
        let names: Vec<&str> = neighbours.iter().map(|n| graph.peer_name(n.1)).collect();
        let hint = did_you_mean(&outside.value, &names)
            .map_or(String::new(), |n| format!("did you mean `{n}`? "));
        let what = if graph.names.contains_key(&outside.value) {
            format!("`{name}` has no link to `{}`", outside.value)
        } else {
            format!("the topology has no node or switch `{}`", outside.value)
        };
        let message = format!(
            "`outside={}`: {what}; {hint}the outside is one of `{name}`'s neighbours: {}",
            outside.value,
            listed(&neighbours)
        );
        diagnostics.push(Diagnostic::new(outside.span.clone(), message));
        return None;
    };
    // Without `type=`, the usual home router.
    let preset = attributes
        .preset
        .as_ref()
        .map_or(Preset::PortRestricted, |p| p.value);
    let mut behaviour = preset.behaviour();
    if let Some(mapping) = &attributes.mapping {
        behaviour.mapping = mapping.value;
    }
    if let Some(filtering) = &attributes.filtering {
        behaviour.filtering = filtering.value;
    }
    if let Some(hairpin) = &attributes.hairpin {
        behaviour.hairpin = hairpin.value;
    }
    if let Some(firewall6) = &attributes.firewall6 {
        behaviour.firewall6 = firewall6.value;
    }
    Some(NatDecl {
        node: draft.node,
        outside: outside_peer,
        outside_segment,
        preset: Some(preset),
        behaviour,
        timeout: attributes
            .timeout
            .as_ref()
            .map_or(DEFAULT_TIMEOUT, |t| t.value),
        tcp_timeout: (attributes.tcp_timeout.as_ref()).map_or(DEFAULT_TCP_TIMEOUT, |t| t.value),
        forwards: Vec::new(),
        pinholes: Vec::new(),
        written: Written {
            mapping: attributes.mapping.is_some(),
            filtering: attributes.filtering.is_some(),
            hairpin: attributes.hairpin.is_some(),
            firewall6: attributes.firewall6.is_some(),
            timeout: attributes.timeout.is_some(),
            tcp_timeout: attributes.tcp_timeout.is_some(),
        },
    })
}

/// Checks a `nat` statement's name when it is read: a node, not `host`, not a switch.
pub(crate) fn check_name(name: &Spanned<&str>, peer: Option<Peer>) -> Option<Diagnostic> {
    let message = match peer {
        _ if name.value == HOST => format!(
            "`{HOST}` is the test's own namespace and cannot be a NAT; put a router between it \
             and the network, as in `host -- home -- isp; nat home [outside=isp]`"
        ),
        Some(Peer::Switch(_)) => format!(
            "`{}` is a switch, and only a router can be a NAT; link a router to the switch and \
             declare it: `{0} -- home; nat home [outside={0}]`",
            name.value
        ),
        _ => return None,
    };
    Some(Diagnostic::new(name.span.clone(), message))
}

/// Disjoint sets of segments.
struct Sets(Vec<usize>);

impl Sets {
    fn new(n: usize) -> Sets {
        Sets((0..n).collect())
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        self.0[a.max(b)] = a.min(b);
    }
}
