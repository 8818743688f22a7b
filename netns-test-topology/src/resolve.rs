//! The [`Resolver`]: statements become nodes, switches, links and segments, with every check
//! that the grammar alone cannot make (a switch linked to a switch, a node declared twice, an
//! address on an end that has several links, a subnet for a chain that spans segments, ...).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use crate::addressing::{self, DraftSegment};
use crate::error::Diagnostic;
use crate::network::{Addrs, HOST, Link, Peer, Segment};
use crate::realms::{self, Graph, NatDecl, NatDraft, Realms};
use crate::settings::{LinkSettings, MIN_IPV6_MTU};
use crate::syntax::{Attributes, End, Role, Spanned, Statement};

/// Turns statements into nodes, switches, links and segments, checking what syntax cannot.
#[derive(Debug, Default)]
pub(super) struct Resolver {
    pub(super) nodes: Vec<String>,
    pub(super) switches: Vec<String>,
    pub(super) links: Vec<Link>,
    /// Per node, its declared role and where it was declared.
    pub(super) roles: Vec<Option<Spanned<Role>>>,
    /// `[ipv6=...]`, if given.
    ipv6: Option<Spanned<bool>>,
    /// `[ipv4=...]`, if given.
    ipv4: Option<Spanned<bool>>,
    /// Every `mtu=` below the IPv6 minimum, with where its value is written: an error if the
    /// network turns out to be IPv6-only.
    small_mtus: Vec<Spanned<u32>>,
    /// What each name stands for.
    names: HashMap<String, Peer>,
    /// Where each switch was declared, and its segment once it has a link.
    switch_spans: Vec<Range<usize>>,
    switch_segments: Vec<Option<usize>>,
    /// Every pair already linked, smaller side first.
    linked: HashSet<(Peer, Peer)>,
    /// Per segment: its explicit subnets and addresses, its first link, and how many
    /// interfaces it has.
    draft: Vec<DraftSegment>,
    /// Every `nat` statement, checked against the links once all are read.
    nats: Vec<NatDraft>,
}

/// What the whole text comes to once every statement is read: the segments with their subnets,
/// the checked `nat` statements, and the realms they cut the network into.
#[derive(Debug)]
pub(super) struct Finished {
    pub(super) segments: Vec<Segment>,
    pub(super) nats: Vec<NatDecl>,
    pub(super) realms: Realms,
}

impl Resolver {
    pub(super) fn ipv6(&self) -> bool {
        self.ipv6.as_ref().is_none_or(|on| on.value)
    }

    pub(super) fn ipv4(&self) -> bool {
        self.ipv4.as_ref().is_none_or(|on| on.value)
    }

    pub(super) fn statement(
        &mut self,
        statement: &Statement<'_>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        match statement {
            Statement::Switches(names) => {
                for name in names {
                    self.declare_switch(name, diagnostics);
                }
            }
            Statement::Roles { role, names } => {
                for name in names {
                    self.declare_role(role, name, diagnostics);
                }
            }
            Statement::Options(attributes) => self.options(attributes, diagnostics),
            Statement::Nat {
                name,
                span,
                attributes,
            } => {
                let known = self.names.get(name.value).copied();
                if let Some(problem) = realms::check_name(name, known) {
                    diagnostics.push(problem);
                    return;
                }
                let Peer::Node(node) = self.resolve(name.value) else {
                    return;
                };
                if self.nats.iter().any(|nat| nat.node == node) {
                    let message = format!(
                        "`{}` is declared `nat` twice; declare it once, with all its settings \
                         in one `[...]`",
                        name.value
                    );
                    diagnostics.push(Diagnostic::new(name.span.clone(), message));
                    return;
                }
                self.nats.push(NatDraft {
                    node,
                    name: Spanned {
                        value: name.value.to_owned(),
                        span: name.span.clone(),
                    },
                    span: span.clone(),
                    attributes: attributes.clone(),
                });
            }
            Statement::Chain { items, attributes } => {
                let sides: Vec<Vec<(Peer, &End<'_>)>> = items
                    .iter()
                    .map(|item| {
                        item.names()
                            .iter()
                            .map(|end| (self.resolve(end.name.value), end))
                            .collect()
                    })
                    .collect();
                let addresses_ok = self.check_end_addresses(&sides, diagnostics);
                let mut segments = Vec::new();
                let first_link = self.links.len();
                for pair in sides.windows(2) {
                    for &(left, left_end) in &pair[0] {
                        for &(right, right_end) in &pair[1] {
                            let (left_name, right_name) = (&left_end.name, &right_end.name);
                            let span = left_name.span.start.min(right_name.span.start)
                                ..left_name.span.end.max(right_name.span.end);
                            let names = (left_name.value, right_name.value);
                            let ends = if addresses_ok {
                                (Some(left_end), Some(right_end))
                            } else {
                                (None, None)
                            };
                            match self.link(left, right, names, span, ends) {
                                Ok(segment) if !segments.contains(&segment) => {
                                    segments.push(segment);
                                }
                                Ok(_) => {}
                                Err(diagnostic) => diagnostics.push(diagnostic),
                            }
                        }
                    }
                }
                if let Some(attributes) = attributes {
                    for link in &mut self.links[first_link..] {
                        link.settings = attributes.link;
                    }
                    if let (Some(mtu), Some(span)) = (attributes.link.mtu, &attributes.mtu_span)
                        && mtu < MIN_IPV6_MTU
                    {
                        let span = span.clone();
                        self.small_mtus.push(Spanned { value: mtu, span });
                    }
                    self.apply(attributes, &segments, sides.len(), diagnostics);
                }
            }
        }
    }

    /// An address is for one end of one link: its name must have exactly one link in the
    /// chain, and be a node. Returns whether the chain's addresses can be used.
    fn check_end_addresses(
        &self,
        sides: &[Vec<(Peer, &End<'_>)>],
        diagnostics: &mut Vec<Diagnostic>,
    ) -> bool {
        let before = diagnostics.len();
        for (i, side) in sides.iter().enumerate() {
            let links = i.checked_sub(1).map_or(0, |p| sides[p].len())
                + sides.get(i + 1).map_or(0, Vec::len);
            for &(peer, end) in side.iter().filter(|(_, end)| end.has_address()) {
                let name = end.name.value;
                let problem = match peer {
                    Peer::Switch(_) => format!(
                        "`{name}` is a switch, which has no address; write addresses on the \
                         nodes linked to it, as in `a@10.0.100.7 -- {name}`"
                    ),
                    Peer::Node(_) if links == 0 => format!(
                        "an address is for one end of a link, and `{name}` has no link here; \
                         write it in a link, as in `{name}@10.0.100.7 -- b`"
                    ),
                    Peer::Node(_) if links > 1 => {
                        let written = format!("{name}{}", Addrs::of(end));
                        let before = i.checked_sub(1).map_or(&[][..], |p| &sides[p][..]);
                        let after = sides.get(i + 1).map_or(&[][..], Vec::as_slice);
                        let example: Vec<String> = (before.iter().map(|(_, n)| (n, true)))
                            .chain(after.iter().map(|(_, n)| (n, false)))
                            .enumerate()
                            .map(|(k, (other, is_before))| {
                                let me = if k == 0 { &written } else { name };
                                let other = other.name.value;
                                if is_before {
                                    format!("{other} -- {me}")
                                } else {
                                    format!("{me} -- {other}")
                                }
                            })
                            .collect();
                        format!(
                            "`{written}` has {links} links in this chain, and an address is for \
                             one end of one link; write each link on its own, as in `{}`",
                            example.join("; ")
                        )
                    }
                    Peer::Node(_) => continue,
                };
                diagnostics.push(Diagnostic::new(end.span.clone(), problem));
            }
        }
        diagnostics.len() == before
    }

    fn declare_switch(&mut self, name: &Spanned<&str>, diagnostics: &mut Vec<Diagnostic>) {
        let problem = match self.names.get(name.value) {
            _ if name.value == HOST => format!(
                "`{HOST}` is the test's own namespace and cannot be a switch; \
                 choose another name, such as `lan`"
            ),
            Some(Peer::Node(_)) => format!(
                "`{0}` is already a node; a switch is declared before its first link, \
                 so move `switch {0}` up",
                name.value
            ),
            Some(Peer::Switch(_)) => {
                format!("switch `{}` is declared twice; declare it once", name.value)
            }
            None => {
                let switch = Peer::Switch(self.switches.len());
                self.names.insert(name.value.to_owned(), switch);
                self.switches.push(name.value.to_owned());
                self.switch_spans.push(name.span.clone());
                self.switch_segments.push(None);
                return;
            }
        };
        diagnostics.push(Diagnostic::new(name.span.clone(), problem));
    }

    /// `router NAME` or `host NAME`: the node's role, whatever its number of links.
    fn declare_role(
        &mut self,
        role: &Spanned<Role>,
        name: &Spanned<&str>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let keyword = role.value.keyword();
        let node = match self.resolve(name.value) {
            Peer::Node(node) => node,
            Peer::Switch(_) => {
                let message = format!(
                    "`{}` is a switch, and only nodes are declared `{keyword}`; \
                     name a node, or link a {keyword} to the switch: `{} -- r1`",
                    name.value, name.value
                );
                diagnostics.push(Diagnostic::new(name.span.clone(), message));
                return;
            }
        };
        let message = match &self.roles[node] {
            None => {
                self.roles[node] = Some(role.clone());
                return;
            }
            Some(old) if old.value == role.value => {
                format!(
                    "`{}` is declared `{keyword}` twice; once is enough",
                    name.value
                )
            }
            Some(old) => format!(
                "`{0}` is declared both `{1}` and `{keyword}`; a node is one or the other: \
                 keep `{1} {0}` or `{keyword} {0}`",
                name.value,
                old.value.keyword()
            ),
        };
        diagnostics.push(Diagnostic::new(name.span.clone(), message));
    }

    /// Options of the whole topology, on a line of their own.
    fn options(&mut self, attributes: &Attributes, diagnostics: &mut Vec<Diagnostic>) {
        for (given, key) in [
            (attributes.subnet.as_ref().map(|s| s.span.clone()), "subnet"),
            (
                attributes.subnet6.as_ref().map(|s| s.span.clone()),
                "subnet6",
            ),
        ] {
            if let Some(span) = given {
                let message = format!(
                    "`{key}` is an attribute of a link's segment, and this `[...]` stands \
                     alone; write it after a link, as in `a -- b [{key}=...]`"
                );
                diagnostics.push(Diagnostic::new(span, message));
            }
        }
        if !attributes.link.is_empty() {
            let settings = attributes.link.entries().join(", ");
            let message = format!(
                "`{settings}` applies to links, and this `[...]` stands alone; write it after a \
                 link, as in `a -- b [{settings}]`"
            );
            diagnostics.push(Diagnostic::new(attributes.span.clone(), message));
        }
        for (given, slot, key) in [
            (&attributes.ipv6, &mut self.ipv6, "ipv6"),
            (&attributes.ipv4, &mut self.ipv4, "ipv4"),
        ] {
            if let Some(given) = given {
                match slot {
                    Some(_) => {
                        let message =
                            format!("`{key}` is given twice in this topology; give it once");
                        diagnostics.push(Diagnostic::new(given.span.clone(), message));
                    }
                    None => *slot = Some(given.clone()),
                }
            }
        }
    }

    /// What `name` stands for; a name that is not a switch is a node, added on first sight.
    fn resolve(&mut self, name: &str) -> Peer {
        if let Some(&peer) = self.names.get(name) {
            return peer;
        }
        let node = Peer::Node(self.nodes.len());
        self.nodes.push(name.to_owned());
        self.roles.push(None);
        self.names.insert(name.to_owned(), node);
        node
    }

    /// Links `left` to `right` and returns the link's segment. `ends` are the chain's ends,
    /// when their addresses are to be used.
    fn link(
        &mut self,
        left: Peer,
        right: Peer,
        (l, r): (&str, &str),
        span: Range<usize>,
        ends: (Option<&End<'_>>, Option<&End<'_>>),
    ) -> Result<usize, Diagnostic> {
        let (node, peer, ends) = match (left, right) {
            _ if left == right => {
                let message =
                    format!("`{l} -- {r}` links `{l}` to itself; link it to another node");
                return Err(Diagnostic::new(span, message));
            }
            (Peer::Node(node), peer) => (node, peer, ends),
            (peer, Peer::Node(node)) => (node, peer, (ends.1, ends.0)),
            (Peer::Switch(_), Peer::Switch(_)) => {
                let message = format!(
                    "`{l} -- {r}` links two switches, which would make them one segment; \
                     use one switch, or put a router between them: `{l} -- r1 -- {r}`"
                );
                return Err(Diagnostic::new(span, message));
            }
        };
        if !self.linked.insert((left.min(right), left.max(right))) {
            let message = format!(
                "duplicate link `{l} -- {r}`: `{l}` and `{r}` are already linked; \
                     link them once"
            );
            return Err(Diagnostic::new(span, message));
        }
        let segment = match peer {
            Peer::Switch(switch) => match self.switch_segments[switch] {
                Some(segment) => segment,
                None => {
                    let segment = self.new_segment(span, Some(switch));
                    self.switch_segments[switch] = Some(segment);
                    segment
                }
            },
            Peer::Node(_) => self.new_segment(span, None),
        };
        let draft = &mut self.draft[segment];
        draft.interfaces += if let Peer::Node(_) = peer { 2 } else { 1 };
        for end in [ends.0, ends.1].into_iter().flatten() {
            draft.addrs4.extend(end.v4.clone());
            draft.addrs6.extend(end.v6.clone());
        }
        let addrs = [ends.0, ends.1].map(|end| end.map(Addrs::of).unwrap_or_default());
        self.links.push(Link {
            node,
            peer,
            segment,
            addrs,
            settings: LinkSettings::default(),
        });
        Ok(segment)
    }

    fn new_segment(&mut self, first_link: Range<usize>, switch: Option<usize>) -> usize {
        self.draft.push(DraftSegment {
            subnet: None,
            subnet6: None,
            addrs4: Vec::new(),
            addrs6: Vec::new(),
            first_link,
            switch,
            interfaces: 0,
        });
        self.draft.len() - 1
    }

    /// Gives a chain's attributes to the segments of its links.
    fn apply(
        &mut self,
        attributes: &Attributes,
        segments: &[usize],
        items: usize,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        if items == 1 {
            let message = "attributes apply to links, and this statement has none; \
                           write them after a link, as in `a -- b [subnet=10.0.100.0/24]`";
            diagnostics.push(Diagnostic::new(attributes.span.clone(), message));
            return;
        }
        for (given, key) in [(&attributes.ipv6, "ipv6"), (&attributes.ipv4, "ipv4")] {
            if let Some(given) = given {
                let message = format!(
                    "`{key}={}` is an option of the whole topology, not of a link; write it on a \
                     line of its own: `[{key}=off]`",
                    if given.value { "on" } else { "off" }
                );
                diagnostics.push(Diagnostic::new(given.span.clone(), message));
            }
        }
        let switch = (segments.first())
            .and_then(|&segment| self.draft[segment].switch)
            .map_or(String::new(), |s| self.switches[s].clone());
        if let Some(subnet) = &attributes.subnet {
            let drafts = self.draft.iter_mut().map(|d| &mut d.subnet);
            let problem = give_subnet(drafts, subnet, segments, "subnet", &switch);
            diagnostics.extend(problem);
        }
        if let Some(subnet6) = &attributes.subnet6 {
            let drafts = self.draft.iter_mut().map(|d| &mut d.subnet6);
            let problem = give_subnet(drafts, subnet6, segments, "subnet6", &switch);
            diagnostics.extend(problem);
        }
    }

    /// Checks the whole network and gives every segment its subnets.
    /// `complete` says whether every statement was read: if not, a dropped one may have linked
    /// a switch that looks unlinked.
    pub(super) fn finish(
        &self,
        text: &str,
        complete: bool,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Finished {
        for (switch, segment) in self.switch_segments.iter().enumerate() {
            if segment.is_none() && complete {
                let name = &self.switches[switch];
                let message = format!(
                    "switch `{name}` has no links; link nodes to it, as in `{{a b}} -- {name}`"
                );
                diagnostics.push(Diagnostic::new(self.switch_spans[switch].clone(), message));
            }
        }
        if self.nodes.is_empty() && diagnostics.is_empty() {
            let message = "an empty topology has no nodes; write at least `a -- b`";
            diagnostics.push(Diagnostic::new(0..text.len(), message));
        }
        let ipv6_off = self.ipv6.as_ref().filter(|on| !on.value);
        let ipv6_off = ipv6_off.map(|off| off.span.clone());
        let ipv4_off = self.ipv4.as_ref().filter(|on| !on.value);
        let ipv4_off = ipv4_off.map(|off| off.span.clone());
        if let (Some(_), Some(ipv4)) = (&ipv6_off, &ipv4_off) {
            let message = "`[ipv4=off]` and `[ipv6=off]` together leave the network without \
                           addresses; keep one family: remove one of them";
            diagnostics.push(Diagnostic::new(ipv4.clone(), message));
            return Finished {
                segments: Vec::new(),
                nats: Vec::new(),
                realms: Realms::flat(self.draft.len()),
            };
        }
        // Linux takes IPv6 off an interface whose MTU is below 1280, so a network with IPv6
        // cannot have such a link.
        if ipv6_off.is_none() {
            for mtu in &self.small_mtus {
                let (what, fix) = if ipv4_off.is_some() {
                    (
                        "has `[ipv4=off]`, so the link would carry nothing",
                        "remove `[ipv4=off]`",
                    )
                } else {
                    (
                        "has IPv6, which Linux turns off on such a link",
                        "add `[ipv6=off]` to test IPv4 alone",
                    )
                };
                let message = format!(
                    "`mtu={}` is below {MIN_IPV6_MTU}, the least MTU IPv6 allows, and this \
                     topology {what}; use `mtu={MIN_IPV6_MTU}` or more, or {fix}",
                    mtu.value
                );
                diagnostics.push(Diagnostic::new(mtu.span.clone(), message));
            }
        }
        let graph = Graph {
            nodes: &self.nodes,
            switches: &self.switches,
            links: &self.links,
            segments: self.draft.len(),
            names: &self.names,
            roles: &self.roles,
        };
        let (nats, realms) = realms::resolve(
            &graph,
            &self.nats,
            ipv4_off.is_some(),
            ipv6_off.is_some(),
            diagnostics,
        );
        let segments = addressing::segments(
            &self.draft,
            &self.switches,
            &self.switch_spans,
            addressing::Families { ipv6_off, ipv4_off },
            &realms,
            diagnostics,
        );
        Finished {
            segments,
            nats,
            realms,
        }
    }
}

/// Sets the subnet (of one family: `drafts` are each segment's) of the chain's only segment,
/// or says why it cannot. `switch` names the segment's switch, if it has one.
fn give_subnet<'d, T: Clone + PartialEq + fmt::Display + 'd>(
    drafts: impl Iterator<Item = &'d mut Option<Spanned<T>>>,
    subnet: &Spanned<T>,
    segments: &[usize],
    key: &str,
    switch: &str,
) -> Option<Diagnostic> {
    let problem = match segments {
        // Every link of the chain was refused, and reported.
        [] => return None,
        &[segment] => {
            let slot = drafts.into_iter().nth(segment)?;
            match slot {
                Some(old) if old.value != subnet.value => format!(
                    "switch `{switch}` already has {key} `{}`; a switch is one segment \
                     with one {key}, so `{}` cannot be its {key} too",
                    old.value, subnet.value
                ),
                Some(_) => return None,
                None => {
                    *slot = Some(subnet.clone());
                    return None;
                }
            }
        }
        _ => format!(
            "`{key}={}` applies to every link of this chain, which spans {} segments, \
             and each segment needs a subnet of its own; write one statement per link",
            subnet.value,
            segments.len()
        ),
    };
    Some(Diagnostic::new(subnet.span.clone(), problem))
}
