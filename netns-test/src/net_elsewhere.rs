//! [`Net`], [`Node`] and [`Interface`] on systems other than Linux: the same API, so that test
//! code compiles everywhere, but no value of them can exist. The harness reports every test as
//! needing Linux before any body could run (see `elsewhere.rs`).

use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::process::Command;
use std::thread::JoinHandle;

use crate::topology::{Ipv4Cidr, Topology};

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

    /// The topology this network was built from.
    pub fn topology(&self) -> &Topology {
        match self.never {}
    }

    /// The network as the kernel sees it.
    pub fn report(&self) -> String {
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

    /// A command whose process runs inside the node.
    pub fn command(&self, _program: impl AsRef<OsStr>) -> Command {
        match self.never {}
    }

    /// The address of the node's first interface.
    pub fn ip(&self) -> Ipv4Addr {
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
}
