//! The kernel plumbing: a plan turned into namespaces, links, addresses and routes, and the
//! kernel's state read back.
//!
//! - `netlink/`: a small blocking rtnetlink client (batched requests with their acks, dumps);
//! - `netfilter/`: NAT routers: their nf_tables rules and conntrack, over our own netlink;
//! - `apply/`: applying a [`Plan`](crate::topology::Plan), and waiting until links are ready;
//! - `netns.rs`: network namespaces as owned fds, and threads entering them;
//! - `mounts.rs`: the test's private `/run`, `/proc`, `/etc/hosts` and `/etc/resolv.conf`;
//! - `qdisc.rs`: the `tbf` and `netem` queueing disciplines behind link settings;
//! - `relay/`: `delay=` and `loss=` in userspace where the kernel has no netem;
//! - `sockets.rs`: what a namespace listens on and the processes in it (waiting, reports);
//! - `report.rs`, `snapshot.rs`: the network as the kernel sees it, for the failure report and
//!   the node files.
//!
//! Applying decides nothing: every name, address and route comes from the plan, and policy
//! (what to keep, when to give up) comes from the caller. Nothing here calls up into the test
//! API, the harness or the sandbox; they call this.

pub(crate) mod apply;
pub(crate) mod mounts;
pub(crate) mod netfilter;
pub(crate) mod netlink;
pub(crate) mod netns;
pub(crate) mod qdisc;
pub(crate) mod relay;
pub(crate) mod report;
pub(crate) mod snapshot;
pub(crate) mod sockets;
