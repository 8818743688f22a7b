//! Tests of the language as a user meets it: from text to errors and plans.

mod errors;
mod ipv6_only;
mod language;
mod mistakes;
mod nat;
mod plans;
pub(crate) mod support;
