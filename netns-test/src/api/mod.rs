//! The test API: what a test body holds. [`Net`] and [`Node`] (`net.rs`), names of the test's
//! own (`names.rs`), [`Link`] (`link.rs`) and the wiring behind it (`wiring.rs`), [`Nat`]
//! (`nat.rs`, and its move to a new address in `readdress.rs`), a tokio runtime per node
//! (`asynch.rs`), waiting until a node listens on a port or a condition holds (`wait.rs`).
//!
//! It builds its network through the kernel plumbing ([`crate::kernel`]) and enters nodes
//! through the sandbox's one `setns` before `exec`; it never reads the environment (the harness
//! passes what it decides) and knows nothing of harnesses or failure reports.

#[cfg(feature = "tokio")]
mod asynch;
mod link;
mod names;
mod nat;
mod net;
mod readdress;
mod wait;
mod wiring;

#[cfg(feature = "tokio")]
pub use asynch::AsyncTask;
#[cfg(feature = "tokio")]
pub(crate) use asynch::unseen_panic;
pub use link::Link;
pub use nat::Nat;
pub use net::{Interface, Net, Node};
pub(crate) use net::{SCRATCH_DIR, SCRATCH_SOURCE};
