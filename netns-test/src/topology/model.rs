//! [`Topology`]: what the user said, checked, with its [`Plan`].

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::str::FromStr;

use super::Ipv4Cidr;
use super::error::{Diagnostic, TopologyError};
use super::parse::{self, Attributes, Spanned, Statement};
use super::plan::{self, Plan};

/// The name of the test's own namespace.
pub(super) const HOST: &str = "host";

/// A checked network: nodes, switches and the links between them, with its [`Plan`].
///
/// ```text
/// switch lan                        # a switch: one Linux bridge, one segment, one subnet
/// {pc1 pc2} -- lan                  # pc1 and pc2 each get a link to the switch
/// lan -- gw -- server [subnet=192.168.1.0/24]
/// ```
///
/// # Grammar
///
/// ```text
/// topology   = [ statement ] { separator [ statement ] }
/// separator  = ";" | newline
/// statement  = "switch" name { name } | chain
/// chain      = item { "--" item } [ "[" attribute { [ "," ] attribute } [ "," ] "]" ]
/// item       = name | "{" name { [ "," ] name } [ "," ] "}"
/// attribute  = "subnet" "=" ipv4-network                 (as in `subnet=10.0.100.0/24`)
/// name       = letter { letter | digit | "_" | "-" }      (ASCII, at most 15 bytes)
/// ```
///
/// - Spaces and tabs are free; `#` starts a comment to the end of the line. Inside `{}` and
///   `[]`, entries are separated by spaces, commas, or both.
/// - A newline ends a statement, except inside `{}` or `[]`, after a `--` that ends a line, and
///   before a line that starts with `--`: a long chain may be broken around any `--`.
/// - Names have at most 15 bytes (`IFNAMSIZ - 1`, the Linux interface name limit). `a--b` is
///   `a -- b`. `switch` is a keyword; `router` and `bridge` are reserved for future statements.
/// - A chain of one item, such as `a` or `{a b}`, declares nodes without linking them.
///
/// # Meaning
///
/// - A **node** is a network namespace; its interfaces are `eth0`, `eth1`, ... in the order its
///   links appear. `host` is the namespace the test body starts in: `host -- a` gives the body
///   its own link to `a`.
/// - A **link** `a -- b` is a veth pair. `{a b} -- {c d}` links every pair, left to right. A
///   node and a switch may be linked in either order; two switches may not (they would form one
///   segment: use one switch, or put a router between them). A switch is declared before its
///   first link, and must have one.
/// - A **segment** is a node-to-node link, or a switch with all of its links. Segments are
///   numbered in the order of their first link.
/// - **Attributes** apply to every link of their chain. `subnet` sets the subnet of the chain's
///   segment, so the chain's links must all be on one segment: `a -- b [...]`, or
///   `{a b} -- lan [...]`.
/// - **Addresses.** A segment's subnet is its `subnet`, or else the next of `10.0.1.0/24`,
///   `10.0.2.0/24`, ... `10.0.255.0/24`, `10.1.0.0/24`, ... that overlaps no explicit subnet of
///   the text. On each segment, hosts take `.1`, `.2`, ... and routers the top usable
///   addresses, `.254`, `.253`, ..., both in order of appearance on the segment.
/// - **Routes.** A node with two or more links is a router: it forwards, and has a route to
///   every subnet it is not attached to, through the first router on a shortest path (ties go to
///   the earlier segment, then the earlier router). A node with one link gets a default route
///   through the first router of its segment, if there is one.
///
/// # Equality and display
///
/// Two topologies are equal when they describe the same network the same way: the same nodes,
/// switches, links and explicit subnets, each in the same order. [`Display`](fmt::Display)
/// prints a canonical text that parses back to an equal topology; `{:#}` puts one statement on
/// each line instead of separating them with `; `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    nodes: Vec<String>,
    switches: Vec<String>,
    links: Vec<Link>,
    segments: Vec<Segment>,
    plan: Plan,
}

/// What a node is linked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Peer {
    Node(usize),
    Switch(usize),
}

/// One link. A link always has a node on at least one side: that is `node` (the left one when
/// both are nodes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Link {
    pub(super) node: usize,
    pub(super) peer: Peer,
    pub(super) segment: usize,
}

/// One segment: a node-to-node link, or a switch with all of its links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Segment {
    pub(super) subnet: Ipv4Cidr,
    /// Whether the text gave the subnet (otherwise it was allocated).
    pub(super) explicit: bool,
}

impl Topology {
    /// Parses, checks and plans `text`.
    ///
    /// # Errors
    ///
    /// Every problem the text has, in syntax or in meaning, each with the byte range it is
    /// about. A text that parses always has a plan.
    pub fn parse(text: &str) -> Result<Topology, TopologyError> {
        let mut diagnostics = Vec::new();
        let (statements, complete) = parse::parse(text, &mut diagnostics);
        let mut resolver = Resolver::default();
        for statement in &statements {
            resolver.statement(statement, &mut diagnostics);
        }
        let segments = resolver.finish(text, complete, &mut diagnostics);
        if !diagnostics.is_empty() {
            return Err(TopologyError::new(text, diagnostics));
        }
        let Resolver {
            nodes,
            switches,
            links,
            ..
        } = resolver;
        let plan = plan::build(&nodes, &switches, &links, &segments);
        Ok(Topology {
            nodes,
            switches,
            links,
            segments,
            plan,
        })
    }

    /// Every namespace, interface, address and route this topology needs.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The nodes, in order of first appearance; `host` among them if the text names it.
    pub fn node_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(String::as_str)
    }

    /// The switches, in order of declaration.
    pub fn switch_names(&self) -> impl Iterator<Item = &str> {
        self.switches.iter().map(String::as_str)
    }
}

impl FromStr for Topology {
    type Err = TopologyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut statements = Vec::new();
        if !self.switches.is_empty() {
            statements.push(format!("switch {}", self.switches.join(" ")));
        }
        // The links alone bring nodes in this order; if that is not the order of the text,
        // a group statement listing every node first restores it.
        let (mut order, mut seen) = (Vec::new(), vec![false; self.nodes.len()]);
        for link in &self.links {
            for node in [Some(link.node), peer_node(link.peer)]
                .into_iter()
                .flatten()
            {
                if !std::mem::replace(&mut seen[node], true) {
                    order.push(node);
                }
            }
        }
        let declare_all = order.iter().enumerate().any(|(i, &node)| i != node);
        if declare_all {
            statements.push(format!("{{{}}}", self.nodes.join(" ")));
        }
        let mut subnet_given = vec![false; self.segments.len()];
        for link in &self.links {
            let peer = match link.peer {
                Peer::Node(node) => &self.nodes[node],
                Peer::Switch(switch) => &self.switches[switch],
            };
            let mut statement = format!("{} -- {peer}", self.nodes[link.node]);
            let segment = &self.segments[link.segment];
            if segment.explicit && !std::mem::replace(&mut subnet_given[link.segment], true) {
                write!(statement, " [subnet={}]", segment.subnet)?;
            }
            statements.push(statement);
        }
        if !declare_all {
            statements.extend(self.nodes[order.len()..].iter().cloned());
        }
        f.write_str(&statements.join(if f.alternate() { "\n" } else { "; " }))
    }
}

fn peer_node(peer: Peer) -> Option<usize> {
    match peer {
        Peer::Node(node) => Some(node),
        Peer::Switch(_) => None,
    }
}

/// Turns statements into nodes, switches, links and segments, checking what syntax cannot.
#[derive(Debug, Default)]
struct Resolver {
    nodes: Vec<String>,
    switches: Vec<String>,
    links: Vec<Link>,
    /// What each name stands for.
    names: HashMap<String, Peer>,
    /// Where each switch was declared, and its segment once it has a link.
    switch_spans: Vec<Range<usize>>,
    switch_segments: Vec<Option<usize>>,
    /// Every pair already linked, smaller side first.
    linked: HashSet<(Peer, Peer)>,
    /// Per segment: its explicit subnet, its first link, and how many interfaces it has.
    draft: Vec<DraftSegment>,
}

#[derive(Debug)]
struct DraftSegment {
    subnet: Option<Spanned<Ipv4Cidr>>,
    first_link: Range<usize>,
    switch: Option<usize>,
    interfaces: u32,
}

impl Resolver {
    fn statement(&mut self, statement: &Statement<'_>, diagnostics: &mut Vec<Diagnostic>) {
        match statement {
            Statement::Switches(names) => {
                for name in names {
                    self.declare_switch(name, diagnostics);
                }
            }
            Statement::Chain { items, attributes } => {
                let sides: Vec<Vec<(Peer, &Spanned<&str>)>> = items
                    .iter()
                    .map(|item| {
                        item.names()
                            .iter()
                            .map(|n| (self.resolve(n.value), n))
                            .collect()
                    })
                    .collect();
                let mut segments = Vec::new();
                for pair in sides.windows(2) {
                    for &(left, left_name) in &pair[0] {
                        for &(right, right_name) in &pair[1] {
                            let span = left_name.span.start.min(right_name.span.start)
                                ..left_name.span.end.max(right_name.span.end);
                            let names = (left_name.value, right_name.value);
                            match self.link(left, right, names, span) {
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
                    self.apply(attributes, &segments, sides.len(), diagnostics);
                }
            }
        }
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

    /// What `name` stands for; a name that is not a switch is a node, added on first sight.
    fn resolve(&mut self, name: &str) -> Peer {
        if let Some(&peer) = self.names.get(name) {
            return peer;
        }
        let node = Peer::Node(self.nodes.len());
        self.nodes.push(name.to_owned());
        self.names.insert(name.to_owned(), node);
        node
    }

    /// Links `left` to `right` and returns the link's segment.
    fn link(
        &mut self,
        left: Peer,
        right: Peer,
        (l, r): (&str, &str),
        span: Range<usize>,
    ) -> Result<usize, Diagnostic> {
        let (node, peer) = match (left, right) {
            _ if left == right => {
                let message =
                    format!("`{l} -- {r}` links `{l}` to itself; link it to another node");
                return Err(Diagnostic::new(span, message));
            }
            (Peer::Node(node), peer) | (peer, Peer::Node(node)) => (node, peer),
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
        self.draft[segment].interfaces += if let Peer::Node(_) = peer { 2 } else { 1 };
        self.links.push(Link {
            node,
            peer,
            segment,
        });
        Ok(segment)
    }

    fn new_segment(&mut self, first_link: Range<usize>, switch: Option<usize>) -> usize {
        self.draft.push(DraftSegment {
            subnet: None,
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
        let Some(subnet) = &attributes.subnet else {
            return;
        };
        let problem = match segments {
            // Every link of the chain was refused, and reported.
            [] => return,
            &[segment] => match &self.draft[segment].subnet {
                Some(old) if old.value != subnet.value => {
                    let switch = self.draft[segment].switch.map_or("", |s| &self.switches[s]);
                    format!(
                        "switch `{switch}` already has subnet `{}`; a switch is one segment \
                         with one subnet, so `{}` cannot be its subnet too",
                        old.value, subnet.value
                    )
                }
                Some(_) => return,
                None => {
                    self.draft[segment].subnet = Some(subnet.clone());
                    return;
                }
            },
            _ => format!(
                "`subnet={}` applies to every link of this chain, which spans {} segments, \
                 and each segment needs a subnet of its own; write one statement per link",
                subnet.value,
                segments.len()
            ),
        };
        diagnostics.push(Diagnostic::new(subnet.span.clone(), problem));
    }

    /// Checks the whole network and gives every segment its subnet.
    /// `complete` says whether every statement was read: if not, a dropped one may have linked
    /// a switch that looks unlinked.
    fn finish(
        &self,
        text: &str,
        complete: bool,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Vec<Segment> {
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
        let explicit: Vec<&Spanned<Ipv4Cidr>> = self
            .draft
            .iter()
            .filter_map(|s| s.subnet.as_ref())
            .collect();
        for (i, subnet) in explicit.iter().enumerate() {
            if let Some(other) = explicit[..i]
                .iter()
                .find(|o| o.value.overlaps(&subnet.value))
            {
                let (mine, theirs) = (subnet.value, other.value);
                let clash = if theirs == mine {
                    format!("subnet `{mine}` is already")
                } else {
                    format!("subnet `{mine}` overlaps `{theirs}`,")
                };
                let message = format!(
                    "{clash} the subnet of another segment; every segment needs a subnet of its own"
                );
                diagnostics.push(Diagnostic::new(subnet.span.clone(), message));
            }
        }
        let mut next_auto = 1;
        let mut segments = Vec::with_capacity(self.draft.len());
        for segment in &self.draft {
            let subnet = match &segment.subnet {
                Some(subnet) => subnet.value,
                None => match auto_subnet(&mut next_auto, &explicit) {
                    Some(subnet) => subnet,
                    None => {
                        let message = "no automatic subnet is left in 10.0.0.0/8 beside the \
                                       explicit ones; give this segment a `[subnet=...]`";
                        diagnostics.push(Diagnostic::new(segment.first_link.clone(), message));
                        return Vec::new();
                    }
                },
            };
            diagnostics.extend(self.check_room(segment, subnet));
            segments.push(Segment {
                subnet,
                explicit: segment.subnet.is_some(),
            });
        }
        segments
    }

    /// Whether `subnet` has an address for every interface of `segment`.
    fn check_room(&self, segment: &DraftSegment, subnet: Ipv4Cidr) -> Option<Diagnostic> {
        let (needed, usable) = (segment.interfaces, subnet.usable_hosts());
        if needed <= usable {
            return None;
        }
        let larger = Ipv4Cidr::prefix_len_for(needed).unwrap_or(0);
        if let Some(given) = &segment.subnet {
            let has = match usable {
                0 => "no usable address".to_owned(),
                usable => format!("{usable} usable"),
            };
            let message = format!(
                "subnet `{subnet}` is too small: its segment needs {needed} addresses and a /{} \
                 has {has}; use a /{larger} or larger",
                subnet.prefix_len()
            );
            return Some(Diagnostic::new(given.span.clone(), message));
        }
        // An automatic /24 is too small only for a switch with more than 254 links.
        let switch = segment.switch?;
        let message = format!(
            "switch `{}` needs {needed} addresses, more than the {usable} of an automatic /24; \
             give it a larger subnet, as in `[subnet=10.0.0.0/{larger}]`",
            self.switches[switch]
        );
        Some(Diagnostic::new(self.switch_spans[switch].clone(), message))
    }
}

/// The next automatic /24 (`10.0.1.0/24` onwards) that overlaps no explicit subnet.
fn auto_subnet(next: &mut u32, explicit: &[&Spanned<Ipv4Cidr>]) -> Option<Ipv4Cidr> {
    while *next < 1 << 16 {
        let addr = (10 << 24) | (*next << 8);
        *next += 1;
        let subnet = Ipv4Cidr::new(addr.into(), 24)?;
        if !explicit.iter().any(|e| e.value.overlaps(&subnet)) {
            return Some(subnet);
        }
    }
    None
}

/// Valid texts, for the round-trip and mutation tests.
#[cfg(test)]
pub(super) const EXAMPLES: [&str; 17] = [
    "net0 -- net1",
    "switch br0; {net0 net1 net2} -- br0",
    "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]",
    "host -- nstest [subnet=10.0.0.0/24]",
    "client -- gateway -- server",
    "a -- r1 -- r2 -- r3 -- b",
    "switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan",
    "a -- b; c -- d [subnet=10.0.1.0/24]",
    "switch core; {r1 r2} -- core; a -- r1; r2 -- b; pc -- core",
    "{a b} -- {c d}",
    "a -- r1 -- b; c -- r2 -- d; lone",
    "{a b} -- c; x; d -- e [subnet=10.9.0.0/16]",
    "switch lan wan\n{a b} -- lan [subnet=172.16.0.0/12]\nlan -- gw -- wan\nwan -- {x, y}\n",
    "a",
    "host",
    "# a chain over lines\nclient --\n  gw1\n  -- gw2 -- # to the server\n  server\n",
    "switch s; a -- s -- b [subnet=10.0.0.0/29]; {host c} -- s",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Topology {
        Topology::parse(text).unwrap_or_else(|error| panic!("{text:?}:\n{error}"))
    }

    #[test]
    fn display_output_parses_back_to_an_equal_topology() {
        for text in EXAMPLES {
            let topology = parse(text);
            for shown in [format!("{topology}"), format!("{topology:#}")] {
                let again = parse(&shown);
                assert_eq!(again, topology, "{text:?} was shown as {shown:?}");
                assert_eq!(again.to_string(), topology.to_string(), "{text:?}");
            }
        }
    }

    #[test]
    fn display_is_canonical() {
        let shown = |text: &str| parse(text).to_string();
        assert_eq!(shown(EXAMPLES[2]), EXAMPLES[2]);
        assert_eq!(
            shown("switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan"),
            "switch lan; pc1 -- lan; pc2 -- lan; r1 -- lan; r1 -- wan"
        );
        assert_eq!(
            shown("switch s; {a b} -- s [subnet=10.0.0.0/29]"),
            "switch s; a -- s [subnet=10.0.0.0/29]; b -- s"
        );
        // Links alone would bring the nodes in as a, c, b: a group keeps the text's order.
        assert_eq!(
            shown("{a b} -- c; x; d -- e"),
            "{a b c x d e}; a -- c; b -- c; d -- e"
        );
        assert_eq!(shown("a -- b; c; d"), "a -- b; c; d");
        assert_eq!(
            format!("{:#}", parse("switch lan; {a b} -- lan")),
            "switch lan\na -- lan\nb -- lan"
        );
    }

    #[test]
    fn equal_networks_written_differently_are_equal() {
        let chain = parse("a -- b -- c");
        assert_eq!(parse("a -- b\nb -- c"), chain);
        assert_eq!(parse("a--b--c # same"), chain);
        assert_eq!(
            parse("a -- b; b -- c [subnet=10.0.2.0/24]").plan(),
            chain.plan()
        );
        assert_ne!(parse("a -- b; b -- c [subnet=10.0.2.0/24]"), chain);
        let switch = parse("switch s; {a b} -- s [subnet=10.0.0.0/24]");
        assert_eq!(
            parse("switch s; a -- s [subnet=10.0.0.0/24]; s -- b"),
            switch
        );
        // The order of first appearance is part of what was said.
        assert_ne!(parse("{a b} -- c"), parse("a -- c; b -- c"));
    }

    #[test]
    fn names_in_order_of_appearance() {
        let topology: Topology = "switch lan; {pc1 pc2} -- lan; host -- pc1".parse().unwrap();
        assert_eq!(
            topology.node_names().collect::<Vec<_>>(),
            ["pc1", "pc2", "host"]
        );
        assert_eq!(topology.switch_names().collect::<Vec<_>>(), ["lan"]);
        assert_eq!(topology.plan().nodes.len(), 3);
        assert!(topology.plan().nodes[2].is_host);
        let lone = parse("a; {b c}");
        assert_eq!(lone.node_names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(lone.plan().veths.is_empty());
    }
}
