//! The topology language of [netns-test](https://docs.rs/netns-test): the text a user writes,
//! parsed, checked, planned and drawn.
//!
//! ```
//! use netns_test_topology::Topology;
//!
//! let topology = Topology::parse("client -- gateway -- server").unwrap();
//! let gateway = topology.plan().node("gateway").unwrap();
//! assert!(gateway.forwarding);
//! assert_eq!(gateway.interfaces[0].ipv4.unwrap().to_string(), "10.0.1.254/24");
//! ```
//!
//! ```text
//! topology text --lex, parse--> statements --resolve--> Topology (what the user said, checked)
//!               --plan--------> Plan (every namespace, interface, address, route; pure data)
//! ```
//!
//! Nothing here touches the kernel, and nothing depends on anything but `std`: the attribute
//! macro (`netns-test-macros`) runs this very parser at compile time, so that a bad topology is a
//! compile error on the string, and the runtime (`netns-test`, which re-exports this crate as
//! `netns_test::topology`) builds the plan it returns. The two can never disagree about what a
//! topology means. The language is documented once, on [`Topology`].
//!
//! # The parts
//!
//! - `lex`, `syntax`, `parse`, `attributes`: from text to statements, every mistake a
//!   [`Diagnostic`] tied to the bytes it is about ([`TopologyError`]);
//! - `resolve`, `addressing`, `network`: names, roles, segments and subnets checked, into the
//!   network a [`Topology`] holds (`model`);
//! - `plan`: the [`Plan`], every kernel object the network needs;
//! - `dot`, `picture`: the network drawn, as Graphviz DOT and as text;
//! - `settings`, `duration`, `cidr`, `cidr6`: the values the language reads (link settings,
//!   durations, subnets), also used by the runtime for the same values given at run time;
//! - `suggest`: the one did-you-mean, for attributes, the macro's keys and node names.

mod addressing;
mod attributes;
mod cidr;
mod cidr6;
mod dot;
pub mod duration;
mod error;
mod lex;
mod model;
mod nat;
mod network;
mod parse;
mod picture;
mod plan;
mod realms;
mod resolve;
mod settings;
mod suggest;
mod syntax;
#[cfg(test)]
mod tests;
mod ways_in;

pub use cidr::{Ipv4Cidr, ParseCidrError};
pub use cidr6::Ipv6Cidr;
pub use duration::{format_duration, parse_timeout};
pub use error::{Diagnostic, TopologyError};
pub use model::Topology;
pub use nat::{
    Behaviour, DEFAULT_TCP_TIMEOUT, DEFAULT_TIMEOUT, Filtering, MAX_TIMEOUT, Mapping, NatMapping,
    NatPlan, Pinhole, PortForward, Preset, Protocol, check_timeout,
};
pub use network::HOST;
pub use plan::{
    BridgePlan, InterfacePlan, Ipv6RoutePlan, NodePlan, Place, Plan, RoutePlan, VethEnd, VethPlan,
};
pub use settings::{
    Delay, Directed, LinkSettings, Loss, MAX_MTU, MIN_IPV6_MTU, MIN_MTU, PROFILES, Rate,
    apply_profile, parse_burst, parse_corrupt, parse_delay, parse_directed, parse_duplicate,
    parse_jitter, parse_loss, parse_mtu, parse_rate, parse_reorder,
};
pub use suggest::{did_you_mean, unknown_node};
