//! The topology model: the text a user writes, parsed, checked and planned.
//!
//! ```text
//! topology text --parse--> Topology (what the user said) --plan--> Plan (every kernel object)
//! ```
//!
//! Nothing here touches the kernel. This module is compiled twice: into the runtime, where it is
//! public as [`crate::topology`], and into the attribute macro (through `#[path]`), which runs the
//! very same parser at compile time. So the two can never disagree about what a topology means.
//! It therefore uses only `std` and `super::`/`self::` paths.

mod addressing;
mod attributes;
mod cidr;
mod cidr6;
mod dot;
mod error;
#[cfg(test)]
mod language_tests;
mod lex;
mod model;
mod parse;
mod picture;
mod plan;
mod resolve;
mod settings;
mod syntax;

pub use cidr::{Ipv4Cidr, ParseCidrError};
pub use cidr6::Ipv6Cidr;
pub use error::{Diagnostic, TopologyError};
pub use model::Topology;
pub use plan::{
    BridgePlan, InterfacePlan, Ipv6RoutePlan, NodePlan, Place, Plan, RoutePlan, VethEnd, VethPlan,
};
pub use settings::{
    Delay, LinkSettings, Loss, MAX_MTU, MIN_MTU, Rate, parse_delay, parse_loss, parse_mtu,
    parse_rate,
};
