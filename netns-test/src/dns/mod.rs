//! Names over DNS: in every node (and `host`), node names resolve as they do through
//! `/etc/hosts`, and any other name gets `NXDOMAIN` at once.
//!
//! - `names.rs`: the table of names and addresses, from the plan, behind both `/etc/hosts` and
//!   the answers;
//! - `wire.rs`: the DNS message format, a question in, an answer out;
//! - `responder.rs`: a UDP socket on `[::1]:53` in each namespace and one thread answering on
//!   all of them (why `::1`, and what it leaves to users, is there);
//! - [`RESOLV_CONF`]: the test's `/etc/resolv.conf`, which the mounts put in place.
//!
//! The host's resolver configuration is never read, and no query leaves the test's namespaces:
//! every answer comes from the table. Nothing here decides whether the responder runs: the
//! caller says so ([`Dns`], from `NETNS_TEST_DNS`).

mod names;
mod responder;
mod wire;

pub(crate) use names::Names;
pub(crate) use responder::{Asker, start};

/// Whether the test's DNS responder runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Dns {
    /// Node names answered on `[::1]:53` in every node.
    #[default]
    On,
    /// No responder: the same `/etc/resolv.conf` points at `[::1]:53`, where nothing answers
    /// (unless the test runs a server there), so a lookup that `/etc/hosts` does not settle
    /// fails at once.
    Off,
}

/// The test's `/etc/resolv.conf`, the same in every node: the responder on `::1`, no search
/// domains (`search .`: without it, glibc would derive one from a dotted host name and ask
/// every name twice), and a short timeout, in case a test stops the answers.
pub(crate) const RESOLV_CONF: &str = "\
# The test's own resolver (netns-test): node names on [::1]:53 in every node.
nameserver ::1
search .
options timeout:1 attempts:1
";
