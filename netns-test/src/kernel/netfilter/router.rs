//! What a NAT router's namespace gets, and how it is changed at run time: [`install`],
//! [`set_timeout`], [`set_tcp_timeout`], [`flush`], [`rebind`], [`readdress`] and [`mappings`].
//! Each runs on a thread that is in the router's network namespace and opens its own socket
//! there (one socket, one batch, its acks).

use std::path::Path;
use std::time::Duration;

use super::conntrack;
use super::message::{Batch, TABLE, attributes, dumped_elements};
use super::rebinding;
use super::rules;
use super::socket::Socket;
use crate::topology::{Mapping, NatMapping, NatPlan, NodePlan};
use crate::{Error, Result};

/// conntrack's UDP timeouts, per namespace: a flow that has seen no reply, and one that has.
const UDP_TIMEOUTS: [&str; 2] = [
    "/proc/sys/net/netfilter/nf_conntrack_udp_timeout",
    "/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream",
];

/// conntrack's idle timeout of an established TCP connection, per namespace.
const TCP_TIMEOUT: &str = "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established";

/// Whether conntrack takes up a TCP connection it does not know from a packet in its middle,
/// per namespace. A NAT sets it to 0: a connection it has forgotten (idle past its timeout,
/// or flushed) stays forgotten, and its next packets are dropped, as a NAT that lost the
/// mapping drops them, instead of being translated anew, maybe through the same port, as if
/// nothing had happened.
const TCP_LOOSE: &str = "/proc/sys/net/netfilter/nf_conntrack_tcp_loose";

/// Builds the NAT's table in one nf_tables batch, then sets conntrack's UDP and TCP timeouts
/// to the NAT's, and turns off its taking up of TCP connections midway. `node` names the
/// router in errors. The namespace must not have the table yet (a node is fresh when its
/// network is built).
///
/// Nothing is deleted: a batch that deletes leaves the kernel destruction work, which the
/// release of the netlink socket then waits for (an RCU grace period, 10 ms here), whereas a
/// batch that only creates is released at once.
pub(crate) fn install(nat: &NatPlan, node: &NodePlan) -> Result<()> {
    build(nat, node, false)
}

/// [`install`] in a namespace that may have the table already, which is replaced (for the
/// kernel suite, which installs twice in one node; its socket's release waits, see there).
pub(crate) fn replace(nat: &NatPlan, node: &NodePlan) -> Result<()> {
    build(nat, node, true)
}

fn build(nat: &NatPlan, node: &NodePlan, replace: bool) -> Result<()> {
    let ruleset = rules::ruleset(nat);
    let mut batch = Batch::new();
    if replace {
        // Adding the table first makes deleting it valid when it is not there.
        batch.new_table();
        batch.del_table();
    }
    batch.new_table();
    for set in &ruleset.sets {
        batch.new_set(set);
    }
    for chain in &ruleset.chains {
        batch.new_chain(chain);
    }
    for rule in &ruleset.rules {
        batch.new_rule(rule);
    }
    let named = |e| of_nat(e, nat, &node.name);
    let mut socket = Socket::open().map_err(named)?;
    socket.apply(batch).map_err(named)?;
    write_timeouts(nat.timeout, &node.name)?;
    write_seconds(TCP_TIMEOUT, nat.tcp_timeout, &node.name)?;
    write(TCP_LOOSE, "0", &node.name)
}

/// Adds the NAT to what an error says was being done: `nat home` and its kind, so that a
/// kernel without a feature is reported with the preset that needed it, and how to load it.
fn of_nat(error: Error, nat: &NatPlan, node: &str) -> Error {
    let whose = format!(", for the rules of `nat {node}` ({})", nat.describe());
    let hint = "; where the option is a module, loading it as root makes it available (`sudo \
                modprobe nft_nat nft_ct nf_conntrack nf_tables`), and `cargo xtask doctor` lists \
                what NAT needs";
    adding(error, &whose, hint)
}

/// Sets the NAT's mapping timeout: conntrack's UDP timeouts, and the rules that give set
/// elements their timeout, replaced in one batch. Elements already in a set keep the expiry
/// they had until the next packet of their flow refreshes them with the new timeout; conntrack
/// entries likewise take the new timeout at their next packet.
pub(crate) fn set_timeout(nat: &NatPlan, node: &str, timeout: Duration) -> Result<()> {
    let mut batch = Batch::new();
    batch.flush_chain(rules::RECORD);
    for rule in rules::record(nat, timeout) {
        batch.new_rule(&rule);
    }
    let mut socket = Socket::open()?;
    socket.apply(batch).map_err(|e| in_node(e, node))?;
    write_timeouts(timeout, node)
}

/// Sets how long an established TCP connection through the NAT lives idle: conntrack's
/// timeout, which a connection takes at its next packet.
pub(crate) fn set_tcp_timeout(node: &str, timeout: Duration) -> Result<()> {
    write_seconds(TCP_TIMEOUT, timeout, node)
}

/// Forgets every mapping at once: every set of the NAT's table emptied, in one batch, and the
/// conntrack table flushed.
pub(crate) fn flush(node: &str) -> Result<()> {
    let mut socket = Socket::open()?;
    let seq = socket.seq();
    let sets = match socket.dump(&Batch::get_sets(seq), seq) {
        Ok(messages) => messages.iter().filter_map(|m| set_name(m)).collect(),
        // No table: nothing of ours to empty.
        Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => Vec::new(),
        Err(source) => {
            return Err(Error::Netlink {
                what: format!("listing the sets of table {TABLE} in node `{node}`"),
                source,
            });
        }
    };
    if !sets.is_empty() {
        let mut batch = Batch::new();
        for set in &sets {
            batch.flush_set(set);
        }
        socket.apply(batch).map_err(|e| in_node(e, node))?;
    }
    conntrack::flush(&mut socket).map_err(|e| in_node(e, node))
}

/// A NAT rebinding: forgets every mapping, as [`flush`] does, and gives each inside endpoint
/// that had one a new outside port at its next packet (see `rebinding.rs`). A NAT whose
/// mapping is address-and-port-dependent keeps no mappings of its own: its next flows take
/// random ports.
pub(crate) fn rebind(nat: &NatPlan, node: &str) -> Result<()> {
    let before = bindings(nat, node)?;
    flush(node)?;
    let Some((mapping, taken)) = rebinding::elements(nat, &before) else {
        return Ok(());
    };
    if mapping.is_empty() {
        return Ok(());
    }
    let mut batch = Batch::new();
    batch.add_elements(rules::MAPPING.name, &mapping);
    if !taken.is_empty() {
        batch.add_elements(rules::TAKEN.name, &taken);
    }
    let mut socket = Socket::open()?;
    socket.apply(batch).map_err(|e| in_node(e, node))
}

/// The chains that name the NAT's outside address: where flows from inside get it, and where
/// flows to it are forwarded or hairpinned.
const ADDRESSED: [&str; 2] = ["postrouting", "prerouting"];

/// A new outside address: the chains that name it rebuilt for `nat` (which has it), in one
/// batch, then the conntrack table flushed, so that every flow's next packet from inside gets
/// it. The sets stay: each inside endpoint keeps its outside port, and what its filtering let
/// in. The address itself is the caller's to add to the interface first.
pub(crate) fn readdress(nat: &NatPlan, node: &str) -> Result<()> {
    let ruleset = rules::ruleset(nat);
    let mut batch = Batch::new();
    for chain in ADDRESSED {
        batch.flush_chain(chain);
    }
    for rule in (ruleset.rules.iter()).filter(|rule| ADDRESSED.contains(&rule.chain)) {
        batch.new_rule(rule);
    }
    let mut socket = Socket::open()?;
    socket.apply(batch).map_err(|e| in_node(e, node))?;
    conntrack::flush(&mut socket).map_err(|e| in_node(e, node))
}

/// The NAT's mappings as its `mapping` set holds them (see `rebinding::bindings`): every inside
/// endpoint whose mapping has not expired, whether or not conntrack still has a flow of it.
fn bindings(nat: &NatPlan, node: &str) -> Result<Vec<NatMapping>> {
    if nat.behaviour.mapping == Mapping::AddressAndPortDependent {
        return Ok(Vec::new());
    }
    let mut socket = Socket::open()?;
    let seq = socket.seq();
    let request = Batch::get_elements(rules::MAPPING.name, seq);
    let messages = socket
        .dump(&request, seq)
        .map_err(|source| Error::Netlink {
            what: format!("listing the mappings of table {TABLE} in node `{node}`"),
            source,
        })?;
    let elements: Vec<_> = messages.iter().flat_map(|m| dumped_elements(m)).collect();
    Ok(rebinding::bindings(nat, &elements))
}

/// The flows the NAT translated, from the conntrack table.
pub(crate) fn mappings(node: &str) -> Result<Vec<NatMapping>> {
    let mut socket = Socket::open()?;
    conntrack::mappings(&mut socket).map_err(|e| in_node(e, node))
}

/// `NFTA_SET_NAME` of a `NFT_MSG_NEWSET` message's payload.
fn set_name(payload: &[u8]) -> Option<String> {
    let (_, name) = attributes(payload.get(4..)?).find(|&(kind, _)| kind == 2)?;
    let name = name.split(|&b| b == 0).next()?;
    Some(String::from_utf8_lossy(name).into_owned())
}

fn write_timeouts(timeout: Duration, node: &str) -> Result<()> {
    for path in UDP_TIMEOUTS {
        write_seconds(path, timeout, node)?;
    }
    Ok(())
}

/// Writes `timeout`, in whole seconds and at least one, to the sysctl at `path`.
fn write_seconds(path: &str, timeout: Duration, node: &str) -> Result<()> {
    write(path, &timeout.as_secs().max(1).to_string(), node)
}

fn write(path: &str, value: &str, node: &str) -> Result<()> {
    std::fs::write(path, value).map_err(|source| Error::Sysctl {
        node: node.to_string(),
        path: Path::new(path).to_path_buf(),
        source,
    })
}

/// Adds the node to what a netlink error says was being done.
fn in_node(error: Error, node: &str) -> Error {
    adding(error, &format!(" in node `{node}`"), "")
}

/// Adds `place` to what a netlink error says was being done, and to what a missing feature was
/// needed for, followed there by `hint`.
fn adding(error: Error, place: &str, hint: &str) -> Error {
    match error {
        Error::Netlink { what, source } => Error::Netlink {
            what: format!("{what}{place}"),
            source,
        },
        Error::KernelLacks {
            feature,
            needed_for,
            source,
        } => Error::KernelLacks {
            feature,
            needed_for: format!("{needed_for}{place}{hint}"),
            source,
        },
        other => other,
    }
}
