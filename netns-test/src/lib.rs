//! Every test in its own private network: real kernel namespaces, rootless, from one attribute.
//!
//! # Example
//!
//! In `Cargo.toml`, a test target with this crate's harness:
//!
//! ```toml
//! [dev-dependencies]
//! netns-test = "0.1"
//!
//! [[test]]
//! name = "routing"
//! harness = false
//! ```
//!
//! In `tests/routing.rs`:
//!
//! ```no_run
//! use std::net::{TcpListener, TcpStream};
//!
//! use netns_test::{Net, netns_test};
//!
//! #[netns_test(topology = "client -- gateway -- server")]
//! fn client_reaches_server(net: &Net) {
//!     let listener = net.node("server").run(|| TcpListener::bind("0.0.0.0:7000").unwrap());
//!     net.node("client").run(|| TcpStream::connect("server:7000").unwrap());
//!     listener.accept().unwrap();
//! }
//!
//! netns_test::main!();
//! ```
//!
//! `cargo test` and `cargo nextest run` run it as an ordinary user or as root.
//!
//! # Without `harness = false`
//!
//! `#[netns_test]` also works in a test target with libtest's default harness, so a crate can
//! adopt it without touching its `Cargo.toml` (and without `main!`): each test becomes a
//! `#[test]` function, under libtest's name, that runs the body in a sandboxed process of its
//! own. The crate's harness (`harness = false` + [`main!`]) adds: the output of the programs a
//! test starts captured with the test's own; a refused test reported as ignored when
//! `NETNS_TEST_UNSUPPORTED=skip` (libtest has no run-time skip: there it passes and prints why);
//! one process per test rather than two libtest start-ups; libtest's flags (`--test-threads`,
//! filters, `--list --format terse` for cargo-nextest) all the same.
//!
//! # What a test gets
//!
//! Every test runs in a fresh process with its own user, network, mount and PID namespaces
//! (the `harness` and `sandbox` components in the source, and `ARCHITECTURE.md`, explain how
//! and why). Inside, each node of
//! the topology is a network namespace; links are veth pairs, switches are Linux bridges in a
//! namespace no node sees; addresses, routes and forwarding follow from the topology (see
//! [`netns_test`] for the language, and [`topology`] for the parser and planner behind it).
//! The body starts in the namespace called `host` and reaches the nodes through [`Net`]:
//!
//! - [`Node::run`] runs a closure on a thread inside the node; [`Node::spawn`] starts one;
//! - [`Node::command`] gives a [`std::process::Command`] whose process runs inside the node
//!   (a plain `Command::new` runs where the body runs, in `host`, which has only `lo` unless the
//!   topology links it: `ping server` there says `Network is unreachable`);
//! - [`Node::wait_for_tcp`] and [`Node::wait_for_udp`] wait until a server listens in the node,
//!   [`Node::wait_until`] and [`Net::wait_until`] until a condition holds, at most so long
//!   (testcontainers' wait strategies); a wait that times out says what the node listens on;
//! - [`Net::link`] gives a [`Link`] to take down and up, or to change the MTU, rate, delay or
//!   loss of, while the test runs; [`Node::disconnect`] cuts a node off;
//! - link impairments (`delay=20ms`, `jitter=`, `loss=` with `burst=`, `duplicate=`,
//!   `reorder=`, `corrupt=`, per direction as `delay=40ms/10ms` like `rate=2mbit/20mbit`, or
//!   `profile=lte`, `satellite` or `wifi`, whose sources `topology::PROFILES` names) use the
//!   kernel's netem where it has it and, where it does not, a relay: the link becomes two veth
//!   pairs through a hidden namespace whose one thread per test moves and impairs the frames,
//!   rootless, with no program or module to install. [`IMPAIR_ENV`]
//!   (`NETNS_TEST_IMPAIR=auto|netem|relay`) chooses; `cargo xtask doctor` says which path a
//!   machine uses;
//! - NAT routers (`nat home [outside=isp, type=port-restricted]`, with the RFC 4787 mapping and
//!   filtering of each type, hairpinning, the mapping timeout, the TCP idle timeout, port
//!   forwards and IPv6 pinholes): the nodes behind a NAT are a private realm that nothing
//!   outside has a route into, and [`Net::nat`] gives the router at run time ([`Nat::flush`]
//!   forgets every mapping, [`Nat::rebind`] moves each to a new port,
//!   [`Nat::rebind_address`] moves the NAT to a new outside address, [`Nat::set_timeout`],
//!   [`Nat::set_tcp_timeout`], [`Nat::mappings`] reads them from conntrack); the rules go to
//!   the kernel over the test's own netlink socket, no `nft` program needed;
//! - with the `tokio` feature (on by default), `Node::block_on` and `Node::spawn_async` run
//!   futures on the node's own current-thread runtime, on a thread inside the node, and
//!   `Node::tokio_command` is the async [`Node::command`]; `async fn` test bodies work;
//! - `node = "client"` on the attribute runs the body in that node instead of `host`;
//! - node names resolve everywhere in the test (`"server:7000"`, `ping server`), and
//!   `ip netns list` / `ip netns exec NODE ...` see the nodes, privately (see [Names](#names)); a misspelt name
//!   ([`Net::node`] at run time, `node = "..."` at compile time) gets the closest one;
//! - the test has its own PID namespace, in which the test process is PID 2: so
//!   [`std::process::id()`] is the same small number in every test, and a temporary name built
//!   from it collides with another test's. Each test gets a scratch directory of its own,
//!   [`Net::scratch_dir`], which `TMPDIR` names (set before the body runs, so
//!   `std::env::temp_dir()`, the `tempfile` crate and the programs the test starts use it); it
//!   is removed when the test passes and kept with the artifacts when it fails;
//! - an error of this crate ([`Error`]) returned from the body or unwrapped prints as its
//!   message and its causes (`Caused by:`), as `anyhow`'s do;
//! - when the test fails, its output is shown with the network as the kernel saw it then.
//!
//! # Names
//!
//! The test's `/etc/hosts` gives `localhost` and each node's name with the addresses of its
//! first interface. The same names resolve over DNS in every node and in `host`, for programs
//! that speak DNS themselves (`dig`, Go's and Node's resolvers, hickory-resolver): a responder
//! of the test answers `A` and `AAAA` for exactly those names and addresses, `PTR` for those
//! addresses (`dig -x`), and `NXDOMAIN` for any other name, within a millisecond. The test's
//! `/etc/resolv.conf` says `nameserver ::1`, `search .` (no search domains) and a one-second
//! timeout; the host's is never used, and no query leaves the test.
//!
//! The responder is one thread of the test process with one UDP socket on `[::1]:53` in each
//! node, made IPv6-only, so that port 53 over IPv4 stays the test's: a DNS server in a node
//! binds `0.0.0.0:53` or a node address as usual, and [`Node::wait_for_udp`] and the failure
//! report never count the responder's socket. The one conflict is an IPv6 bind of `[::]:53` or
//! `[::1]:53` in a node, which fails with `EADDRINUSE`; the way out is `SO_REUSEADDR` on that
//! socket (the responder sets it too, and keeps the datagrams sent to `::1`), or
//! `NETNS_TEST_DNS=off` ([`DNS_ENV`]) for the run. Off, there is no responder: `/etc/resolv.conf`
//! stays the test's, so a lookup that `/etc/hosts` does not settle still fails at once (nothing
//! answers on `::1`, unless the test's own server does), and DNS clients find no server. In a
//! node whose kernel has IPv6 turned off (`disable_ipv6`), there is no `::1` to answer on: DNS
//! lookups there fail at once, and `/etc/hosts` still names the nodes. (`[ipv6=off]` in a
//! topology only leaves out IPv6 addresses: `::1` and the responder stay.)
//!
//! With `nat` routers, a name is what its asker can reach, as on real networks where two homes
//! both use `192.168.1.0/24`: a node behind a NAT resolves to its private address in its own
//! realm and the realms inside it, and elsewhere to its global IPv6 address alone (IPv6 is not
//! translated), never to another home's private address; a NAT router resolves to its inside
//! address inside and its outside address outside; public nodes resolve alike everywhere.
//! `/etc/hosts`, which all nodes share, then holds only `localhost` and the public nodes; the
//! other names come from the responder alone, so with `NETNS_TEST_DNS=off` they do not resolve
//! (use [`Node::ip`] and the NAT's `outside_ip()`).
//!
//! Names besides the nodes' are the test's to give: [`Net::set_name`] makes a host name
//! (`api.example.com`) resolve to a node as its own name does, and moves it when called again
//! with another node; [`Net::remove_name`] takes it away.
//!
//! # Without the attribute
//!
//! A program or a doc example builds a network with [`run()`]: it forks a child into a fresh
//! sandbox, runs a closure there with the [`Net`], and returns the closure's value (see
//! [`Portable`]). The caller must still have one thread; [`run()`] says so if not.
//! [`topology::Topology`] parses, plans and draws a topology (`to_dot`, `picture`) without
//! building anything.
//!
//! # When a test fails
//!
//! Besides its output and the network as the kernel saw it, a failed test leaves a folder,
//! whose path the report prints: `<target>/netns-test/<binary>/<test>/`, with one file per node
//! (`client.txt`: links, addresses, routes of every table, policy rules, neighbours, qdiscs,
//! forwarding sysctls and the nftables ruleset) and, with `capture` on the attribute, `capture.pcapng`. The folder of a test is
//! cleared when it runs again, and a test that passes leaves none. What the test left in its
//! scratch directory ([`Net::scratch_dir`]) is there too, in `scratch/`. Environment variables:
//!
//! - `NETNS_TEST_ARTIFACTS=<dir>`: put the folders under `<dir>/<binary>/` instead. A binary
//!   that is in no cargo target directory (copied elsewhere, as CI jobs do, or installed), or
//!   whose target directory this user cannot write, puts them in a place of the user's own, the
//!   first of `$XDG_STATE_HOME/netns-test`, `$HOME/.local/state/netns-test` (made `0700`) and
//!   `$TMPDIR/netns-test-<uid>` (`/tmp` without `TMPDIR`; used only if it is this user's folder
//!   and no one else may write it), and the report says so; an unpacked cargo-nextest archive
//!   counts as a target directory;
//! - `NETNS_TEST_CAPTURE=off|on-failure|always`: the packet capture of every test of the run,
//!   whatever the attributes say. `capture.pcapng` is written while the test runs, so a test
//!   that aborts, crashes (a segfault, a panic with `panic = "abort"`) or times out still
//!   leaves every frame captured until then, and a test killed with `SIGKILL` every frame but
//!   those of its last 60 ms or so;
//! - `NETNS_TEST_KEEP=1`: a failed or timed-out test keeps its network up and prints, for each node, the
//!   `nsenter` command that enters it from another terminal, until you press Enter (on the
//!   test's terminal; without one, it does not wait). Output is then shown as it is printed,
//!   not captured. Best with one test: `cargo test --test NAME -- --exact TEST` (under
//!   cargo-nextest, add `--no-capture`).
//!
//! # Timeouts
//!
//! A test's time limit is its `timeout = "10s"`, else the value of the environment variable
//! [`NETNS_TEST_TIMEOUT`](TIMEOUT_ENV) (`NETNS_TEST_TIMEOUT=30s cargo test`), else none. The
//! harness, not the test, keeps it: past it, the test is killed with every process it started and
//! reported as "timed out after 10s" with the output it printed. Just before, the test process
//! itself shows the network as it is at that moment and leaves the node files and the capture so
//! far, as a failure does (a hang is when they are wanted most); a test process too stuck to
//! do so (stopped) is killed 5 s later all the same. cargo-nextest's
//! `slow-timeout` (with `terminate-after`) works as well, since killing the test binary kills
//! the test's whole sandbox; setting `NETNS_TEST_TIMEOUT` below it gets this crate's report, with
//! the output and the timeout named, instead of nextest's.
//!
//! # Nothing is left behind
//!
//! When the test process ends (it passes, fails, panics, aborts or is killed), the PID
//! namespace takes every process the test started with it, and the kernel frees the namespaces,
//! links, addresses, routes and mounts. There is no cleanup code to run, so there is none that
//! can be skipped. The host's interfaces, routes, `/run/netns` and mounts are never touched.
//!
//! # When the host refuses
//!
//! Creating a user namespace needs no privilege on most Linux hosts. Where it is refused, every
//! test fails with a message naming the refused step, the errno, the setting responsible and the
//! command that fixes it (see [`Refusal`]). Real root needs no user namespace: refused one, it
//! runs each test in network, mount and PID namespaces alone. For CI matrices that include
//! machines without namespaces, `NETNS_TEST_UNSUPPORTED=skip` ([`UNSUPPORTED_ENV`]) reports
//! such tests as ignored, with the reason, instead of failed.
//!
//! # On systems other than Linux
//!
//! The crate has a code path with the same API for systems other than Linux, so that a crate
//! whose tests use it can build there: each `#[netns_test]` fails saying `netns-test needs Linux
//! (network namespaces)` (or is ignored with that reason under `NETNS_TEST_UNSUPPORTED=skip`),
//! and [`run()`] returns [`Error::NeedsLinux`]. No [`Net`] can exist there, so no body runs.
//! This path is built on Linux with the Linux-only predicates flipped (`cargo xtask elsewhere`),
//! not for a real other target; Windows does not build yet, since `nix` is Unix-only.

/// The topology language: parser, checks, plan and pictures (the `netns-test-topology` crate).
pub use netns_test_topology as topology;

#[cfg(target_os = "linux")]
mod api;
mod config;
#[cfg(target_os = "linux")]
mod dns;
mod error;
mod failure;
mod harness;
#[cfg(target_os = "linux")]
mod kernel;
#[cfg(not(target_os = "linux"))]
mod other_os;
mod program;
#[cfg(target_os = "linux")]
mod sandbox;

#[cfg(all(target_os = "linux", feature = "tokio"))]
pub use api::AsyncTask;
#[cfg(target_os = "linux")]
pub use api::{Interface, Link, Nat, Net, Node};
pub use config::{
    ARTIFACTS_ENV, CAPTURE_ENV, DNS_ENV, IMPAIR_ENV, KEEP_ENV, TIMEOUT_ENV, UNSUPPORTED_ENV,
};
pub use error::{Error, Result};
pub use netns_test_macros::netns_test;
pub use netns_test_topology::NatMapping;
#[cfg(all(not(target_os = "linux"), feature = "tokio"))]
pub use other_os::AsyncTask;
#[cfg(not(target_os = "linux"))]
pub use other_os::{Interface, Link, Nat, Net, Node, run};
#[cfg(target_os = "linux")]
pub use program::run;
pub use program::{AsTopology, Portable};
#[cfg(target_os = "linux")]
pub use sandbox::{Refusal, SandboxSupport, probe_sandbox};

/// Items the `#[netns_test]` expansion and `main!` refer to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::failure::CaptureMode;
    #[cfg(target_os = "linux")]
    pub use crate::harness::run_under_libtest;
    pub use crate::harness::{IntoOutcome, ShouldPanic, TESTS, TestCase, block_on, main, run_in};
    #[cfg(not(target_os = "linux"))]
    pub use crate::other_os::run_under_libtest;
    pub use linkme;

    /// Builds the network of `topology` around the calling thread, with no harness and no
    /// sandbox of its own: for the benchmark's floor, a program that has made its user, network
    /// and mount namespaces itself. Without the DNS responder: the floor is the network alone.
    #[cfg(target_os = "linux")]
    pub fn build_net(topology: &str) -> crate::Result<crate::Net> {
        crate::Net::build(
            topology,
            crate::dns::Dns::Off,
            crate::kernel::relay::Choice::Auto,
        )
    }

    /// Installs `nat`'s rules in node `node`, replacing any it has (for the kernel suite, whose
    /// NATs are declared by hand).
    #[cfg(target_os = "linux")]
    pub fn install_nat(
        net: &crate::Net,
        node: &str,
        nat: &crate::topology::NatPlan,
    ) -> crate::Result<()> {
        let plan = net.topology().plan();
        let plan = plan.nodes.iter().find(|n| n.name == node);
        let plan = plan.unwrap_or_else(|| panic!("no node `{node}`"));
        net.node(node)
            .run(|| crate::kernel::netfilter::replace(nat, plan))
    }

    /// Sets the mapping timeout of the NAT in node `node`.
    #[cfg(target_os = "linux")]
    pub fn set_nat_timeout(
        net: &crate::Net,
        node: &str,
        nat: &crate::topology::NatPlan,
        timeout: std::time::Duration,
    ) -> crate::Result<()> {
        net.node(node)
            .run(|| crate::kernel::netfilter::set_timeout(nat, node, timeout))
    }

    /// Sets the TCP idle timeout of the NAT in node `node`.
    #[cfg(target_os = "linux")]
    pub fn set_nat_tcp_timeout(
        net: &crate::Net,
        node: &str,
        timeout: std::time::Duration,
    ) -> crate::Result<()> {
        net.node(node)
            .run(|| crate::kernel::netfilter::set_tcp_timeout(node, timeout))
    }

    /// Forgets every mapping of the NAT in node `node`.
    #[cfg(target_os = "linux")]
    pub fn flush_nat(net: &crate::Net, node: &str) -> crate::Result<()> {
        net.node(node).run(|| crate::kernel::netfilter::flush(node))
    }

    /// The flows the NAT in node `node` translated.
    #[cfg(target_os = "linux")]
    pub fn nat_mappings(
        net: &crate::Net,
        node: &str,
    ) -> crate::Result<Vec<crate::topology::NatMapping>> {
        net.node(node)
            .run(|| crate::kernel::netfilter::mappings(node))
    }

    /// What NAT needs of the kernel, tried in the calling thread's namespace.
    #[cfg(target_os = "linux")]
    pub fn probe_nat() -> Vec<(&'static str, Result<(), String>)> {
        crate::kernel::netfilter::probe()
    }

    /// Elsewhere no NAT can exist (no [`Net`](crate::Net) does): its helpers are there for the
    /// suites to compile.
    #[cfg(not(target_os = "linux"))]
    pub fn install_nat(_: &crate::Net, _: &str, _: &crate::topology::NatPlan) -> crate::Result<()> {
        Err(crate::Error::NeedsLinux)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn set_nat_timeout(
        _: &crate::Net,
        _: &str,
        _: &crate::topology::NatPlan,
        _: std::time::Duration,
    ) -> crate::Result<()> {
        Err(crate::Error::NeedsLinux)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn flush_nat(_: &crate::Net, _: &str) -> crate::Result<()> {
        Err(crate::Error::NeedsLinux)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn nat_mappings(
        _: &crate::Net,
        _: &str,
    ) -> crate::Result<Vec<crate::topology::NatMapping>> {
        Err(crate::Error::NeedsLinux)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn probe_nat() -> Vec<(&'static str, Result<(), String>)> {
        vec![("network namespaces", Err("netns-test needs Linux".into()))]
    }

    /// Elsewhere there is no network to build: [`Error::NeedsLinux`](crate::Error::NeedsLinux).
    #[cfg(not(target_os = "linux"))]
    pub fn build_net(_topology: &str) -> crate::Result<crate::Net> {
        Err(crate::Error::NeedsLinux)
    }
}

/// Defines `main` for a test target with `harness = false`: it lists, filters and runs every
/// `#[netns_test]` of the target, each in a fresh sandbox, with libtest's flags and output.
#[macro_export]
macro_rules! main {
    () => {
        fn main() -> ::std::process::ExitCode {
            $crate::__private::main()
        }
    };
}
