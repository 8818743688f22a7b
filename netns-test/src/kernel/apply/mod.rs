//! Applying a [`Plan`]: namespaces, links, addresses, routes and forwarding, by netlink, then
//! waiting until every link is up.
//!
//! Applying decides nothing: every name, address and route comes from the plan. What this module
//! does decide is *how* to build it cheaply, because it runs before every test:
//!
//! - **One request per veth pair, both ends placed.** A veth is created with each end directly
//!   in its namespace (`IFLA_NET_NS_FD` on both), its main end up and, for a bridge port,
//!   already enslaved (`IFLA_MASTER`); the peer end is set up by its own namespace's batch (the
//!   kernel cannot open it in the creating request). Moving a link between namespaces costs 15
//!   to 31 ms and deleting one about 16 ms, so links are never moved nor deleted: dropping the
//!   namespace fds is the whole teardown.
//! - **Interface indexes chosen here.** Every link is created with an `ifindex` picked by this
//!   module, unique across all the namespaces of the network and above every index already in
//!   use in any of them. Addresses and bridge ports can then refer to links without any lookup,
//!   and the creation requests can all go from one socket: before creating a link, older
//!   kernels look the requested index (or, without one, the name) up in the *sender's*
//!   namespace and newer ones in the target namespace; a unique index is free in both.
//! - **Batches.** All links are created with one `send` (in chunks, see [`netlink`](crate::kernel::netlink)),
//!   then each namespace gets one batch: `lo` and the peer ends up, addresses, routes.
//! - **Waiting for `UP`.** A veth that was just set up is not ready at once: the kernel turns its
//!   carrier on and then, asynchronously (link watch), its operational state. A packet sent
//!   before that can lose its first ARP request, which is retried only after a second. So
//!   [`apply`] returns only once every veth end reports operstate `UP`, and every bridge port is
//!   also `forwarding`, polling link dumps (well under a millisecond in practice); it gives up
//!   after a few seconds (`ready.rs`; bridges themselves are not waited for, it says why).
//!
//! # The parts
//!
//! - `build.rs`: [`apply`] in order, and the namespaces (`host`'s, one per node, the switches')
//!   with a socket in each and the nodes' sysctls;
//! - `links.rs`: the interface indexes of every link, and creating every bridge and veth pair;
//! - `configure.rs`: addresses, routes, bridge ports and qdiscs, one batch per namespace;
//!   a link with `delay=` or `loss=` on a kernel without netem (or with `NETNS_TEST_IMPAIR=relay`)
//!   is two pairs through the relay's hidden namespace (`kernel/relay`), created by `links.rs`
//!   and started by `build.rs`;
//! - `ready.rs`: waiting until links are ready, here and when a link comes back up at run time.

mod build;
mod configure;
mod links;
mod ready;
#[cfg(test)]
mod tests;

pub(crate) use build::{Built, SWITCHES, apply};
pub(crate) use ready::{Awaited, Watch, wait_until_ready};
