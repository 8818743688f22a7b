//! NAT routers in the kernel: the nf_tables ruleset of a [`NatPlan`](crate::topology::NatPlan)
//! installed over our own `NETLINK_NETFILTER` socket, and the conntrack table read and flushed
//! over ctnetlink.
//!
//! It owns one `inet` table per NAT router, `netns_test_nat`, and the router's conntrack UDP
//! and TCP timeouts. It never runs `nft` or `conntrack`, links no C library, and never touches a
//! namespace it was not called in: every function works in the calling thread's network
//! namespace. It decides nothing: the behaviour comes from the plan.
//!
//! - `message.rs`: nfnetlink framing and the batch of nf_tables messages, encoded by hand;
//! - `objects.rs`: the chains, sets, rules and expressions those messages carry, and how each
//!   expression is written;
//! - `rules.rs`: the ruleset a NAT's behaviour needs (pure data, unit-tested), its filter chains
//!   in `filter.rs` (what gets through from outside), written with the pieces of `pieces.rs`
//!   (matches, key loads, `snat`/`dnat`);
//! - `socket.rs`: the socket: a batch in one `send` and its acks, requests, dumps;
//! - `router.rs`: `install`, `set_timeout`, `set_tcp_timeout`, `flush`, `rebind`, `readdress`,
//!   `mappings`;
//! - `rebinding.rs`: the new ports of a NAT rebinding, as set elements (pure);
//! - `conntrack.rs`: conntrack dumps as [`NatMapping`]s, and the flush;
//! - `features.rs`: what a refusal means the kernel lacks, and [`probe`].

mod conntrack;
mod features;
mod filter;
mod message;
mod objects;
mod pieces;
mod rebinding;
mod router;
mod rules;
mod socket;

#[cfg(test)]
mod encoding_tests;

pub(crate) use features::probe;
pub(crate) use router::{
    flush, install, mappings, readdress, rebind, replace, set_tcp_timeout, set_timeout,
};
