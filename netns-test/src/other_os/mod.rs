//! The same API on systems other than Linux, where network namespaces do not exist: the crate
//! compiles, so that a crate whose tests use it builds everywhere, and every test says it needs
//! Linux (failed by default, ignored with `NETNS_TEST_UNSUPPORTED=skip`).
//!
//! `api.rs` has [`Net`](crate::Net), [`Node`](crate::Node), [`Interface`](crate::Interface) and
//! [`Link`](crate::Link) with the Linux signatures, of which no value can exist; `harness.rs`
//! the verdicts and [`run`](crate::run()).

mod api;
mod harness;

#[cfg(feature = "tokio")]
pub use api::AsyncTask;
pub use api::{Interface, Link, Nat, Net, Node};
pub(crate) use harness::verdict;
pub use harness::{run, run_under_libtest};
