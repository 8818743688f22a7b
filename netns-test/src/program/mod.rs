//! [`run`](crate::run()): a closure in a freshly built network, for programs and doc examples,
//! outside any test harness. `run.rs` forks the sandbox and brings the value back; `portable.rs`
//! is what crosses between the two processes ([`Portable`]) and what names a topology
//! ([`AsTopology`]).

mod portable;
#[cfg(target_os = "linux")]
mod run;

pub use portable::{AsTopology, Portable};
#[cfg(target_os = "linux")]
pub use run::run;
