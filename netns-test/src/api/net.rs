//! The network a test body sees: [`Net`] and its [`Node`]s.
//!
//! A node is an owned file descriptor of its network namespace, nothing more. Code "runs in a
//! node" when the thread running it has entered that namespace: every socket a thread creates
//! belongs to the thread's namespace for good, and processes and threads inherit it. So
//! [`Node::run`] and [`Node::spawn`] start a thread that enters the node first, and
//! [`Node::command`] makes the new process enter it between `fork` and `exec`.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, OwnedFd};
use std::panic;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock, RwLock};
use std::thread::{self, JoinHandle};

use super::wiring::Wiring;
use crate::dns::{self, Dns};
use crate::kernel::apply::{self, Built};
use crate::kernel::relay::Choice;
use crate::kernel::{mounts, netns, report, snapshot};
use crate::sandbox as sys;
use crate::topology::{Ipv4Cidr, Ipv6Cidr, Topology};
use crate::{Error, Result};

/// The scratch directory of the test this process runs, as the test sees it (`TMPDIR`), set by
/// the harness before the network is built (see the failure component's `scratch.rs`).
pub(crate) static SCRATCH_DIR: OnceLock<PathBuf> = OnceLock::new();

/// The folder that is the scratch directory, in the test's artifact folder: [`Net::build`]
/// binds it where [`SCRATCH_DIR`] names it, once the test's `/run` is its own.
pub(crate) static SCRATCH_SOURCE: OnceLock<PathBuf> = OnceLock::new();

/// The network of one test: its nodes, built from the topology.
#[derive(Debug)]
pub struct Net {
    topology: Topology,
    nodes: Vec<Node>,
    built: Built,
    wiring: Arc<Wiring>,
    /// The namespace the network was built from, where the body starts: `host`.
    host: OwnedFd,
    /// Every name and its addresses, which the DNS responder answers from.
    names: Arc<RwLock<dns::Names>>,
}

impl Net {
    /// Builds the network of `topology` around the calling thread, whose namespace becomes the
    /// `host` node, with node names answered over DNS unless `dns` is off, and `impair`
    /// carrying its `delay=` and `loss=`. Must run inside the test's sandbox (as the test
    /// process does).
    pub(crate) fn build(topology: &str, dns: Dns, impair: Choice) -> Result<Net> {
        let topology = Topology::parse(topology)?;
        let host = netns::current().map_err(|source| Error::Io {
            what: "cannot open the network namespace of the calling thread".to_string(),
            source: source.into(),
        })?;
        mounts::make_private()?;
        if let Some(scratch) = SCRATCH_SOURCE.get() {
            mounts::bind_scratch(scratch)?;
        }
        let built = apply::apply(topology.plan(), impair)?;
        let wiring = Arc::new(Wiring::new(topology.plan(), &built)?);
        let nodes = topology
            .plan()
            .nodes
            .iter()
            .zip(&built.nodes)
            .enumerate()
            .map(|(index, (plan, fd))| {
                Ok(Node {
                    index,
                    wiring: Arc::clone(&wiring),
                    name: plan.name.clone(),
                    ns: Arc::new(fd.try_clone().map_err(|source| Error::Io {
                        what: format!("cannot duplicate the namespace fd of node `{}`", plan.name),
                        source,
                    })?),
                    interfaces: plan
                        .interfaces
                        .iter()
                        .map(|i| Interface {
                            node: plan.name.clone(),
                            name: i.name.clone(),
                            ipv4: i.ipv4,
                            ipv6: i.ipv6,
                        })
                        .collect(),
                    #[cfg(feature = "tokio")]
                    runtime: std::sync::OnceLock::new(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let names = dns::Names::of(topology.plan());
        mounts::publish(
            nodes.iter().map(|node| (node.name(), node.ns.as_fd())),
            &names.hosts_file(),
            dns::RESOLV_CONF,
        )?;
        let net = Net {
            topology,
            nodes,
            built,
            wiring,
            host,
            names: Arc::new(RwLock::new(names)),
        };
        if dns == Dns::On {
            dns::start(Arc::clone(&net.names), net.dns_namespaces())?;
        }
        Ok(net)
    }

    /// The node called `name`.
    ///
    /// # Panics
    ///
    /// If the topology has no such node; the message names the node closest to `name`, if one
    /// is close enough to be a typo of it, and lists the nodes it has:
    /// ``the topology has no node `gatway`: did you mean `gateway`? its nodes are `client`,
    /// `gateway`, `server` `` (the same words as the attribute's for `node = "gatway"`, at
    /// compile time).
    #[track_caller]
    pub fn node(&self, name: &str) -> &Node {
        match self.nodes.iter().find(|node| node.name == name) {
            Some(node) => node,
            None => {
                let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
                panic!("{}", crate::topology::unknown_node(name, &names))
            }
        }
    }

    /// The test's own scratch directory, which `TMPDIR` names: a folder no other test uses,
    /// for the files a test makes, such as a unix socket or a server's configuration.
    ///
    /// Every test has its own PID namespace, so [`std::process::id()`] is the same small number
    /// in every test, and names built from it collide between tests that run at once; names in
    /// this folder do not. `std::env::temp_dir()`, the `tempfile` crate and the programs the
    /// test starts (which inherit `TMPDIR`) use it without being told. It is removed when the
    /// test passes and kept with the test's artifacts when it fails (the failure says where).
    ///
    /// Inside the test it is always `/run/netns-test/tmp`: the folder `scratch/` of the test's
    /// artifact folder, bound there in the test's own mount namespace, so that a unix socket's
    /// path in it fits the 108 bytes the kernel allows however deep the project and however
    /// long the test's name. What a test writes there is in that folder, as the failure says.
    ///
    /// Under [`crate::run()`], which is not a test, there is no scratch directory of its own:
    /// this is `std::env::temp_dir()` as the program has it.
    pub fn scratch_dir(&self) -> &Path {
        SCRATCH_DIR.get_or_init(std::env::temp_dir)
    }

    /// Every node, in order of first appearance in the topology.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The topology this network was built from.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The network as the kernel sees it now: `host` (the body's own namespace) with its
    /// processes, each node's interfaces, addresses and routes, then the MTU, rate, delay and
    /// loss each link has now, if any has one. This is what a failing test prints.
    pub fn report(&self) -> String {
        let plan = self.wiring.plan_now();
        let mut text = report::describe(&plan, &self.built, self.host.as_fd());
        let settings = self.wiring.settings_lines();
        if !settings.is_empty() {
            text.push_str("link settings now:\n");
            for line in settings {
                let _ = writeln!(text, "  {line}");
            }
        }
        if let Some(relay) = &self.built.relay {
            let counts = relay.counts();
            let _ = writeln!(
                text,
                "relay (delay and loss in userspace): {} frames relayed, {} dropped by `loss=`, \
                 {} lost by the relay itself",
                counts.relayed, counts.dropped, counts.lost
            );
        }
        text
    }

    /// Writes the state of every node, one file each, into `dir` (see [`crate::kernel::snapshot`]).
    pub(crate) fn save_state(&self, dir: &std::path::Path) -> std::io::Result<()> {
        snapshot::save(&self.wiring.plan_now(), &self.built, dir).map(drop)
    }

    pub(crate) fn wiring(&self) -> &Wiring {
        &self.wiring
    }

    /// Every name and its addresses, as the DNS responder answers them.
    pub(crate) fn names(&self) -> &RwLock<dns::Names> {
        &self.names
    }

    /// Every namespace a body's programs may look names up in: each node's, and `host` (the
    /// calling thread's own, not entered) when the topology does not name it.
    fn dns_namespaces(&self) -> Vec<dns::Asker<'_>> {
        let plan = &self.topology.plan().nodes;
        let mut spaces: Vec<_> = (plan.iter().zip(&self.nodes).enumerate())
            .map(|(index, (plan, node))| dns::Asker {
                name: node.name(),
                ns: (!plan.is_host).then(|| node.ns.as_fd()),
                node: Some(index),
            })
            .collect();
        if !plan.iter().any(|node| node.is_host) {
            spaces.push(dns::Asker {
                name: "host",
                ns: None,
                node: None,
            });
        }
        spaces
    }
}

/// One node of the network: a network namespace with its interfaces.
#[derive(Debug)]
pub struct Node {
    name: String,
    pub(crate) ns: Arc<OwnedFd>,
    interfaces: Vec<Interface>,
    /// Its position in the plan, and the links of the network, for `disconnect`.
    index: usize,
    wiring: Arc<Wiring>,
    /// The node's tokio runtime, started by its first async use (see [`crate::api::asynch`]).
    #[cfg(feature = "tokio")]
    pub(crate) runtime: std::sync::OnceLock<tokio::runtime::Handle>,
}

impl Node {
    /// The node's name in the topology.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a thread inside this node and returns what it returns. Sockets `f` opens
    /// belong to this node. `f` may borrow from the caller; a panic in `f` goes on in the caller.
    pub fn run<T, F>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        thread::scope(|scope| {
            let thread = thread::Builder::new()
                .name(self.name.clone())
                .spawn_scoped(scope, || {
                    self.enter();
                    f()
                })
                .expect("cannot start a thread for the node");
            match thread.join() {
                Ok(value) => value,
                Err(payload) => panic::resume_unwind(payload),
            }
        })
    }

    /// Starts `f` on a background thread inside this node. The thread ends with the test at the
    /// latest.
    pub fn spawn<T, F>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let ns = Arc::clone(&self.ns);
        let name = self.name.clone();
        thread::Builder::new()
            .name(self.name.clone())
            .spawn(move || {
                if let Err(source) = netns::enter(ns.as_fd()) {
                    panic!("{}", enter_error(&name, source));
                }
                f()
            })
            .expect("cannot start a thread for the node")
    }

    /// A [`Command`] whose process runs inside this node. It is killed when the test ends.
    ///
    /// A plain [`Command::new`] in a body runs its process where the body runs: in `host`, the
    /// test's own namespace, which has only `lo` unless the topology links `host` to something.
    /// So `Command::new("ping")` there finds no route (`Network is unreachable`); start it with
    /// `net.node("client").command("ping")` to run it in `client`. The failure report shows
    /// `host` first, with the processes running there.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        sys::enter_before_exec(&mut command, Arc::clone(&self.ns));
        command
    }

    /// The node's first IPv4 address (that of `eth0`).
    ///
    /// # Panics
    ///
    /// If the topology says `[ipv4=off]` (an IPv6-only network: use [`Node::ipv6`], or
    /// [`Node::try_ip`] where IPv4 is optional), or the node has no link.
    #[track_caller]
    pub fn ip(&self) -> Ipv4Addr {
        match self.interfaces.first().map(|i| i.ipv4) {
            Some(Some(ipv4)) => ipv4.addr(),
            Some(None) => panic!(
                "node `{}` has no IPv4 address: the topology says `[ipv4=off]`, so the network \
                 is IPv6-only; use `Node::ipv6()`, or `Node::try_ip()` where IPv4 is optional",
                self.name
            ),
            None => panic!("node `{}` has no link, so no address", self.name),
        }
    }

    /// The node's first IPv4 address (that of `eth0`), or `None` if it has none: in an
    /// IPv6-only network (`[ipv4=off]`), or when the node has no link.
    pub fn try_ip(&self) -> Option<Ipv4Addr> {
        self.interfaces.first()?.ipv4.map(|ipv4| ipv4.addr())
    }

    /// The node's first IPv6 address (that of `eth0`), global, usable at once.
    ///
    /// # Panics
    ///
    /// If the topology says `[ipv6=off]`, or the node has no link.
    #[track_caller]
    pub fn ipv6(&self) -> Ipv6Addr {
        match self.interfaces.first().map(|i| i.ipv6) {
            Some(Some(ipv6)) => ipv6.addr(),
            Some(None) => panic!(
                "node `{}` has no IPv6 address: the topology says `[ipv6=off]`",
                self.name
            ),
            None => panic!("node `{}` has no link, so no address", self.name),
        }
    }

    /// Every IPv4 address of the node with its prefix, in interface order; none in an
    /// IPv6-only network (`[ipv4=off]`).
    pub fn addrs(&self) -> impl Iterator<Item = Ipv4Cidr> + '_ {
        self.interfaces.iter().filter_map(|i| i.ipv4)
    }

    /// The node's interfaces, `eth0` first.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// The node's network namespace.
    pub(crate) fn ns(&self) -> std::os::fd::BorrowedFd<'_> {
        self.ns.as_fd()
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn wiring(&self) -> &Wiring {
        &self.wiring
    }

    fn enter(&self) {
        if let Err(source) = netns::enter(self.ns.as_fd()) {
            panic!("{}", enter_error(&self.name, source));
        }
    }

    /// Moves the calling thread into the node until the guard is dropped.
    ///
    /// # Panics
    ///
    /// When the kernel refuses (it does not, for a namespace the test made).
    #[track_caller]
    pub(crate) fn visit(&self) -> netns::Entered {
        netns::Entered::new(self.ns.as_fd())
            .unwrap_or_else(|source| panic!("{}", enter_error(&self.name, source)))
    }
}

/// Why a thread could not enter node `node`, with every cause.
pub(crate) fn enter_error(node: &str, source: nix::Error) -> String {
    let error = Error::EnterNamespace {
        node: node.to_string(),
        source,
    };
    crate::error::error_chain(&error)
}

/// An interface of a node, as planned from the topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// The node it belongs to, for messages.
    node: String,
    name: String,
    ipv4: Option<Ipv4Cidr>,
    ipv6: Option<Ipv6Cidr>,
}

impl Interface {
    /// `eth0`, `eth1`, ...
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its IPv4 address and prefix length.
    ///
    /// # Panics
    ///
    /// If the topology says `[ipv4=off]`: use [`Interface::ipv6`], or [`Interface::try_ipv4`]
    /// where IPv4 is optional.
    #[track_caller]
    pub fn ipv4(&self) -> Ipv4Cidr {
        match self.ipv4 {
            Some(ipv4) => ipv4,
            None => panic!(
                "`{}` of node `{}` has no IPv4 address: the topology says `[ipv4=off]`, so the \
                 network is IPv6-only; use `Interface::ipv6()`, or `Interface::try_ipv4()` where \
                 IPv4 is optional",
                self.name, self.node
            ),
        }
    }

    /// Its IPv4 address and prefix length; `None` with `[ipv4=off]`.
    pub fn try_ipv4(&self) -> Option<Ipv4Cidr> {
        self.ipv4
    }

    /// Its IPv6 address and prefix length; `None` with `[ipv6=off]`.
    pub fn ipv6(&self) -> Option<Ipv6Cidr> {
        self.ipv6
    }
}
