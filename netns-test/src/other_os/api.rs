//! [`Net`], [`Node`] and [`Interface`] on systems other than Linux: the same API, so that test
//! code compiles everywhere, but no value of them can exist. The harness reports every test as
//! needing Linux before any body could run (see `elsewhere.rs`).

use std::ffi::OsStr;
#[cfg(feature = "tokio")]
use std::future::Future;
use std::marker::PhantomData;
use std::net::{Ipv4Addr, Ipv6Addr};
#[cfg(feature = "tokio")]
use std::pin::Pin;
use std::process::Command;
#[cfg(feature = "tokio")]
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use crate::Result;
use crate::topology::{Ipv4Cidr, Ipv6Cidr, LinkSettings, Topology};

/// No value: nothing can build a network here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Never {}

/// The network of one test (Linux only: no value exists on this system).
#[derive(Debug)]
pub struct Net {
    never: Never,
}

impl Net {
    /// The node called `name`.
    pub fn node(&self, _name: &str) -> &Node {
        match self.never {}
    }

    /// Every node, in the order of the topology.
    pub fn nodes(&self) -> &[Node] {
        match self.never {}
    }

    /// The test's own scratch directory, which `TMPDIR` names.
    pub fn scratch_dir(&self) -> &std::path::Path {
        match self.never {}
    }

    /// The topology this network was built from.
    pub fn topology(&self) -> &Topology {
        match self.never {}
    }

    /// Waits until `condition` holds.
    pub fn wait_until(
        &self,
        _what: &str,
        _timeout: std::time::Duration,
        _condition: impl FnMut() -> bool,
    ) -> Result<()> {
        match self.never {}
    }

    /// Makes `name` resolve to node `node`.
    pub fn set_name(&self, _name: &str, _node: &str) -> Result<()> {
        match self.never {}
    }

    /// Makes a name given by `set_name` resolve nowhere.
    pub fn remove_name(&self, _name: &str) -> Result<()> {
        match self.never {}
    }

    /// The network as the kernel sees it.
    pub fn report(&self) -> String {
        match self.never {}
    }

    /// The link between nodes `a` and `b`.
    pub fn link(&self, _a: &str, _b: &str) -> Link<'_> {
        match self.never {}
    }

    /// The NAT router called `name`.
    pub fn nat(&self, _name: &str) -> Nat<'_> {
        match self.never {}
    }

    /// Every NAT router.
    pub fn nats(&self) -> std::iter::Empty<Nat<'_>> {
        match self.never {}
    }
}

/// A NAT router (Linux only: no value exists on this system).
#[derive(Debug, Clone, Copy)]
pub struct Nat<'n> {
    never: Never,
    net: PhantomData<&'n Net>,
}

impl<'n> Nat<'n> {
    /// The router's node.
    pub fn node(&self) -> &'n Node {
        match self.never {}
    }

    /// What the topology declared.
    pub fn plan(&self) -> &'n crate::topology::NatPlan {
        match self.never {}
    }

    /// The outside address.
    pub fn outside_ip(&self) -> Ipv4Addr {
        match self.never {}
    }

    /// Forgets every mapping at once.
    pub fn flush(&self) -> Result<()> {
        match self.never {}
    }

    /// Rebinds the NAT: every mapping gets a new port.
    pub fn rebind(&self) -> Result<()> {
        match self.never {}
    }

    /// Moves the NAT to a new outside address.
    pub fn rebind_address(&self) -> Result<Ipv4Addr> {
        match self.never {}
    }

    /// Sets the UDP mapping timeout.
    pub fn set_timeout(&self, _timeout: std::time::Duration) -> Result<()> {
        match self.never {}
    }

    /// Sets the TCP idle timeout.
    pub fn set_tcp_timeout(&self, _timeout: std::time::Duration) -> Result<()> {
        match self.never {}
    }

    /// The flows the NAT translates now.
    pub fn mappings(&self) -> Result<Vec<crate::topology::NatMapping>> {
        match self.never {}
    }
}

/// One node of the network (Linux only: no value exists on this system).
#[derive(Debug)]
pub struct Node {
    never: Never,
}

impl Node {
    /// The node's name.
    pub fn name(&self) -> &str {
        match self.never {}
    }

    /// Runs `f` on a thread inside the node and returns what it returns.
    pub fn run<T, F>(&self, _f: F) -> T
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        match self.never {}
    }

    /// Starts `f` on a thread inside the node.
    pub fn spawn<T, F>(&self, _f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match self.never {}
    }

    /// Waits until a TCP socket listens on `port` in the node.
    pub fn wait_for_tcp(&self, _port: u16, _timeout: std::time::Duration) -> Result<()> {
        match self.never {}
    }

    /// Waits until a UDP socket is bound to `port` in the node.
    pub fn wait_for_udp(&self, _port: u16, _timeout: std::time::Duration) -> Result<()> {
        match self.never {}
    }

    /// Waits until `condition`, run inside the node, holds.
    pub fn wait_until<F>(
        &self,
        _what: &str,
        _timeout: std::time::Duration,
        _condition: F,
    ) -> Result<()>
    where
        F: FnMut() -> bool + Send,
    {
        match self.never {}
    }

    /// A command whose process runs inside the node.
    pub fn command(&self, _program: impl AsRef<OsStr>) -> Command {
        match self.never {}
    }

    /// The address of the node's first interface.
    pub fn ip(&self) -> Ipv4Addr {
        match self.never {}
    }

    /// The node's first IPv4 address, or `None` if it has none.
    pub fn try_ip(&self) -> Option<Ipv4Addr> {
        match self.never {}
    }

    /// The IPv6 address of the node's first interface.
    pub fn ipv6(&self) -> Ipv6Addr {
        match self.never {}
    }

    /// The addresses of all the node's interfaces.
    pub fn addrs(&self) -> impl Iterator<Item = Ipv4Cidr> + '_ {
        match self.never {}
        #[expect(unreachable_code, reason = "gives the opaque type a concrete type")]
        std::iter::empty()
    }

    /// The node's interfaces.
    pub fn interfaces(&self) -> &[Interface] {
        match self.never {}
    }

    /// Takes every link of the node down.
    pub fn disconnect(&self) -> Result<()> {
        match self.never {}
    }

    /// Brings every link of the node back up.
    pub fn reconnect(&self) -> Result<()> {
        match self.never {}
    }

    /// Runs `future` to its end inside the node.
    #[cfg(feature = "tokio")]
    pub fn block_on<F: Future>(&self, _future: F) -> F::Output {
        match self.never {}
    }

    /// Starts `future` as a task inside the node.
    #[cfg(feature = "tokio")]
    pub fn spawn_async<F>(&self, _future: F) -> AsyncTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.never {}
    }

    /// An async command whose process runs inside the node.
    #[cfg(feature = "tokio")]
    pub fn tokio_command(&self, _program: impl AsRef<OsStr>) -> tokio::process::Command {
        match self.never {}
    }

    /// The calling thread inside the node until the guard drops.
    pub(crate) fn visit(&self) {
        match self.never {}
    }
}

/// A link between two nodes (Linux only: no value exists on this system).
#[derive(Debug, Clone, Copy)]
pub struct Link<'n> {
    never: Never,
    net: PhantomData<&'n Net>,
}

impl Link<'_> {
    /// The link's name.
    pub fn name(&self) -> &str {
        match self.never {}
    }

    /// The link's settings as they are now.
    pub fn settings(&self) -> LinkSettings {
        match self.never {}
    }

    /// Takes both ends down.
    pub fn down(&self) -> Result<()> {
        match self.never {}
    }

    /// Brings both ends up.
    pub fn up(&self) -> Result<()> {
        match self.never {}
    }

    /// Sets the MTU of both ends.
    pub fn set_mtu(&self, _mtu: u32) -> Result<()> {
        match self.never {}
    }

    /// Limits the rate of both ends (`"1mbit"`, or `"10mbit/1mbit"` per direction).
    pub fn set_rate(&self, _rate: &str) -> Result<()> {
        match self.never {}
    }

    /// Lifts the rate limit.
    pub fn clear_rate(&self) -> Result<()> {
        match self.never {}
    }

    /// Delays every packet each end sends.
    pub fn set_delay(&self, _delay: &str) -> Result<()> {
        match self.never {}
    }

    /// Removes the delay.
    pub fn clear_delay(&self) -> Result<()> {
        match self.never {}
    }

    /// Makes each end drop a share of the packets it sends.
    pub fn set_loss(&self, _loss: &str) -> Result<()> {
        match self.never {}
    }

    /// Removes the loss.
    pub fn clear_loss(&self) -> Result<()> {
        match self.never {}
    }
}

/// A task started by [`Node::spawn_async`] (Linux only: no value exists on this system).
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub struct AsyncTask<T> {
    never: Never,
    output: PhantomData<T>,
}

#[cfg(feature = "tokio")]
impl<T> AsyncTask<T> {
    /// Waits for the task and returns its output.
    pub fn join(self) -> T {
        match self.never {}
    }

    /// Asks the task to stop.
    pub fn abort(&self) {
        match self.never {}
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        match self.never {}
    }
}

#[cfg(feature = "tokio")]
impl<T> Future for AsyncTask<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        match self.never {}
    }
}

/// An interface of a node (Linux only: no value exists on this system).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    never: Never,
}

impl Interface {
    /// The interface's name.
    pub fn name(&self) -> &str {
        match self.never {}
    }

    /// Its IPv4 address and prefix.
    pub fn ipv4(&self) -> Ipv4Cidr {
        match self.never {}
    }

    /// Its IPv4 address and prefix; `None` with `[ipv4=off]`.
    pub fn try_ipv4(&self) -> Option<Ipv4Cidr> {
        match self.never {}
    }

    /// Its IPv6 address and prefix.
    pub fn ipv6(&self) -> Option<Ipv6Cidr> {
        match self.never {}
    }
}
