//! Naming what the kernel lacks: the features NAT needs, with their kernel options, how a
//! refusal is recognised as a missing feature, and [`probe`], which tries each in the calling
//! thread's namespace.

use std::io;

use nix::libc;

use super::conntrack;
use super::message::Batch;
use super::rules;
use super::socket::Socket;
use crate::Error;
use crate::kernel::netlink::Ack;

pub(super) const NETFILTER_NETLINK: &str = "netfilter over netlink (CONFIG_NETFILTER_NETLINK)";
pub(super) const NF_TABLES: &str = "nf_tables (CONFIG_NF_TABLES, CONFIG_NF_TABLES_INET)";
pub(super) const NAT: &str = "NAT chains and the `nat` expression (CONFIG_NF_NAT, CONFIG_NFT_NAT)";
pub(super) const CONNTRACK: &str =
    "conntrack and the `ct` expression (CONFIG_NF_CONNTRACK, CONFIG_NFT_CT)";
pub(super) const SETS: &str = "dynamic sets and maps (CONFIG_NF_TABLES_SET)";
/// What [`probe`] calls its last step: every expression of a NAT's rules together.
pub(super) const RULESET: &str =
    "a whole NAT ruleset: `ct`, `dynset`, `lookup`, `nat` (CONFIG_NFT_CT, CONFIG_NFT_NAT)";
pub(super) const CTNETLINK: &str = "conntrack over netlink (CONFIG_NF_CT_NETLINK)";

/// Turns a failed ack into the crate's error. A kernel without a feature answers `EOPNOTSUPP`
/// (no such subsystem, family or chain type) or `ENOENT` (no such expression type, after the
/// module it tried to load was not there); this crate's own messages name only objects made
/// earlier in the same batch, so `ENOENT` is a missing feature too, except in a message about
/// objects made by an earlier batch (a flush), which says that they are not there.
pub(super) fn error_for(part: &super::message::Part, ack: &Ack) -> Error {
    let source = io::Error::from_raw_os_error(ack.errno);
    if let Some(feature) = part.needs
        && (ack.errno == libc::EOPNOTSUPP || ack.errno == libc::ENOENT)
    {
        return Error::KernelLacks {
            feature,
            needed_for: part.what.clone(),
            source,
        };
    }
    let what = match &ack.message {
        Some(message) => format!("{} (the kernel says: {message})", part.what),
        None => part.what.clone(),
    };
    Error::Netlink { what, source }
}

/// One step of [`probe`]: the feature it tries, and what it adds to a batch.
type Step<'a> = (&'static str, &'a dyn Fn(&mut Batch));

/// Tries, in the calling thread's network namespace, each thing a NAT needs: a table, a NAT
/// chain, a dynamic map with timeouts, a rule with `ct`, `dynset` and `nat`, and a conntrack
/// dump. Leaves nothing behind. Each result is the feature and, if it failed, why.
pub(crate) fn probe() -> Vec<(&'static str, Result<(), String>)> {
    let mut results = Vec::new();
    let mut socket = match Socket::open() {
        Ok(socket) => socket,
        Err(error) => {
            return vec![(NETFILTER_NETLINK, Err(crate::error::error_chain(&error)))];
        }
    };
    let nat = rules::probe_plan();
    let ruleset = rules::ruleset(&nat);
    let nat_chain = ruleset.chains[0];
    let steps: [Step<'_>; 4] = [
        (NF_TABLES, &|_| {}),
        (NAT, &|b| b.new_chain(&nat_chain)),
        (SETS, &|b| b.new_set(&rules::MAPPING)),
        (RULESET, &|b| {
            for set in &ruleset.sets {
                b.new_set(set);
            }
            for chain in &ruleset.chains {
                b.new_chain(chain);
            }
            for rule in &ruleset.rules {
                b.new_rule(rule);
            }
        }),
    ];
    for (feature, step) in steps {
        let mut batch = Batch::new();
        batch.new_table();
        step(&mut batch);
        batch.del_table();
        let result = socket
            .apply(batch)
            .map_err(|e| crate::error::error_chain(&e));
        results.push((feature, result));
    }
    results.push((
        CTNETLINK,
        conntrack::dump(&mut socket)
            .map(drop)
            .map_err(|e| crate::error::error_chain(&e)),
    ));
    results
}
