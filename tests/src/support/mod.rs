//! Helpers of the suites (`tests/*.rs`) and of the fixture binaries they drive (`src/bin/`).
//!
//! - `daemons`: long-lived programs a fixture's tests leave running, for the sandbox to end;
//! - `host_state`: what a run could leave on the host, read from the host's side;
//! - `libtest_output`: reading what a test binary printed in libtest's format;
//! - `programs`: running `ip` and `ping` inside nodes.

pub mod daemons;
pub mod host_state;
pub mod libtest_output;
pub mod programs;
