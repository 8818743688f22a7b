//! Helpers of the suites (`tests/*.rs`) and of the fixture binaries they drive (`src/bin/`).
//!
//! - `artifacts_fixture`: running the `artifacts_fixture` binary and reading what it leaves;
//! - `daemons`: long-lived programs a fixture's tests leave running, for the sandbox to end;
//! - `datagrams`: UDP sockets in nodes, one datagram sent and received (or not) at a time;
//! - `harness_fixture`: running the `harness_fixture` binary and reading what it reports;
//! - `host_state`: what a run could leave on the host, read from the host's side;
//! - `libtest_output`: reading what a test binary printed in libtest's format;
//! - `lookups`: name lookups inside a node, and what glibc says when they fail;
//! - `nat`: NAT behaviour discovery (RFC 5780's tests), hole punching and port-forward probes;
//! - `programs`: running `ip` and `ping` inside nodes;
//! - `transfer`: a TCP bulk transfer between two nodes, timed;
//! - `seed`: the seed test's network and round trip, which `cargo xtask bench` times.

pub mod artifacts_fixture;
pub mod daemons;
pub mod datagrams;
pub mod harness_fixture;
pub mod host_state;
pub mod libtest_output;
pub mod lookups;
pub mod nat;
pub mod programs;
pub mod seed;
pub mod transfer;

/// The path of the fixture binary `$name` of this package: where cargo-nextest unpacked it
/// (`NEXTEST_BIN_EXE_<name>`, as in the unprivileged run, which cannot read the build's target
/// directory), else where cargo built it (`CARGO_BIN_EXE_<name>`, known at compile time).
#[macro_export]
macro_rules! fixture_binary {
    ($name:literal) => {
        std::env::var(concat!("NEXTEST_BIN_EXE_", $name))
            .unwrap_or_else(|_| env!(concat!("CARGO_BIN_EXE_", $name)).to_string())
    };
}
