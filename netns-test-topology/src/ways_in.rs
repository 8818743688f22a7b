//! The ways in through a NAT, checked against the realms: each port forward (`forward=`) reaches
//! a node of the NAT's inside and takes an outside port once; each IPv6 pinhole (`pinhole=`)
//! reaches a node inside (or further in: IPv6 is routed, not translated), through a firewall
//! the NAT has, in a network with IPv6.

use crate::error::Diagnostic;
use crate::network::Peer;
use crate::realms::{Graph, NatDecl, NatDraft, Realms};
use crate::suggest::did_you_mean;

/// Checks every `forward=` and `pinhole=` of `drafts`, and records in `decls` the node each
/// reaches. `ipv6_off`: whether the text says `[ipv6=off]`.
pub(crate) fn check(
    graph: &Graph<'_>,
    drafts: &[NatDraft],
    decls: &mut [NatDecl],
    realms: &Realms,
    ipv6_off: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for decl in decls.iter_mut() {
        let Some(draft) = drafts.iter().find(|d| d.node == decl.node) else {
            continue;
        };
        let name = &graph.nodes[decl.node];
        let inside_realm = (graph.neighbours(decl.node).into_iter())
            .find(|&(segment, _)| segment != decl.outside_segment)
            .map(|(segment, _)| realms.of_segment[segment]);
        let Some(inside_realm) = inside_realm else {
            continue;
        };
        // Linked into the inside (forwards), or into it or a realm within it (pinholes).
        let nodes_in = |deep: bool| -> Vec<usize> {
            (0..graph.nodes.len())
                .filter(|&node| node != decl.node)
                .filter(|&node| {
                    (graph.neighbours(node).iter()).any(|&(segment, _)| {
                        let realm = realms.of_segment[segment];
                        realm == inside_realm || (deep && realms.within(realm, inside_realm))
                    })
                })
                .collect()
        };
        let inside = Inside {
            graph,
            nat: decl.node,
            nodes: nodes_in(false),
        };
        for (k, forward) in draft.attributes.forwards.iter().enumerate() {
            let f = &forward.value;
            let written = format!(
                "forward={}:{}:{}:{}",
                f.protocol.name(),
                f.outside_port,
                f.node,
                f.port
            );
            let taken = (draft.attributes.forwards[..k].iter()).any(|earlier| {
                earlier.value.protocol == f.protocol && earlier.value.outside_port == f.outside_port
            });
            let reached = if taken {
                Err(format!(
                    "`{written}`: {} port {} of `{name}` is already forwarded; forward each \
                     outside port once",
                    f.protocol.name(),
                    f.outside_port
                ))
            } else {
                inside.reach(&f.node, &written, "a port forward")
            };
            match reached {
                Ok(node) => decl.forwards.push((f.clone(), node)),
                Err(problem) => diagnostics.push(Diagnostic::new(forward.span.clone(), problem)),
            }
        }
        let inside = Inside {
            nodes: nodes_in(true),
            ..inside
        };
        for (k, pinhole) in draft.attributes.pinholes.iter().enumerate() {
            let p = &pinhole.value;
            let written = format!("pinhole={}:{}:{}", p.protocol.name(), p.node, p.port);
            let reached = if ipv6_off {
                Err(format!(
                    "`{written}` opens a port to IPv6, and this topology has `[ipv6=off]`; \
                     remove one of them (an IPv4 port is reached through `forward=`)"
                ))
            } else if !decl.behaviour.firewall6 {
                let why = match decl.preset {
                    Some(crate::nat::Preset::Cgnat) if draft.attributes.firewall6.is_none() => {
                        "a `cgnat` has none"
                    }
                    _ => "`firewall6=off`",
                };
                Err(format!(
                    "`{written}` opens a hole in the IPv6 firewall of `{name}`, which has none \
                     ({why}: all IPv6 gets in already); remove the pinhole, or write \
                     `firewall6=on`"
                ))
            } else if draft.attributes.pinholes[..k].iter().any(|e| e.value == *p) {
                Err(format!("`{written}` is given twice; give it once"))
            } else {
                inside.reach(&p.node, &written, "a pinhole")
            };
            match reached {
                Ok(node) => decl.pinholes.push((p.clone(), node)),
                Err(problem) => diagnostics.push(Diagnostic::new(pinhole.span.clone(), problem)),
            }
        }
    }
}

/// The nodes a way in through NAT `nat` may reach.
struct Inside<'g> {
    graph: &'g Graph<'g>,
    nat: usize,
    nodes: Vec<usize>,
}

impl Inside<'_> {
    /// The node `target` of `written` (`what`: "a port forward"), if it is one of the inside
    /// nodes; else what is wrong, with the nodes it could reach.
    fn reach(&self, target: &str, written: &str, what: &str) -> Result<usize, String> {
        let graph = self.graph;
        let name = &graph.nodes[self.nat];
        let listed: Vec<String> = (self.nodes.iter())
            .map(|&n| format!("`{}`", graph.nodes[n]))
            .collect();
        let listed = listed.join(", ");
        Err(match graph.names.get(target) {
            Some(&Peer::Node(node)) if node == self.nat => format!(
                "`{written}` reaches `{name}` itself; {what} reaches a node inside it, one of \
                 {listed}"
            ),
            Some(&Peer::Node(node)) if self.nodes.contains(&node) => return Ok(node),
            Some(&Peer::Node(_)) => format!(
                "`{written}` reaches `{target}`, which is not inside `{name}`; {what} reaches \
                 a node inside it, one of {listed}"
            ),
            Some(&Peer::Switch(_)) => format!(
                "`{written}` names `{target}`, a switch; {what} reaches a node inside \
                 `{name}`, one of {listed}"
            ),
            None => {
                let names: Vec<&str> = (self.nodes.iter())
                    .map(|&n| graph.nodes[n].as_str())
                    .collect();
                let hint = did_you_mean(target, &names)
                    .map_or(String::new(), |n| format!("did you mean `{n}`? "));
                format!(
                    "`{written}`: the topology has no node `{target}`; {hint}{what} reaches a \
                     node inside `{name}`, one of {listed}"
                )
            }
        })
    }
}
