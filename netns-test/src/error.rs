//! The one error type of the runtime, and how errors and panics are told as text: below every
//! component, so that each can use them.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[cfg(target_os = "linux")]
use std::any::Any;

use crate::topology::TopologyError;

/// Everything that can go wrong while building or driving a test network.
///
/// Every variant keeps its cause as a `source`, so the errno the kernel gave is never lost.
///
/// Its [`Debug`](fmt::Debug) is its message and then its causes, one per line after
/// `Caused by:` (the way `anyhow` shows an error), not the variant's fields: libtest prints the
/// `Debug` of an `Err` a test returns, and `.unwrap()` prints it too, so what a failing test
/// shows is a sentence. The variant and its fields are for `match`.
#[non_exhaustive]
#[derive(thiserror::Error)]
pub enum Error {
    /// The topology text is invalid.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// The host refused to create the test's user namespace.
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    Refused(#[from] crate::sandbox::Refusal),
    /// A network namespace for a node could not be created.
    #[error("cannot create the network namespace of node `{node}`")]
    CreateNamespace {
        /// The node.
        node: String,
        /// The cause, with the errno the kernel gave.
        #[source]
        source: nix::Error,
    },
    /// A thread could not enter a node's network namespace.
    #[error("cannot enter the network namespace of node `{node}`")]
    EnterNamespace {
        /// The node.
        node: String,
        /// The cause, with the errno the kernel gave.
        #[source]
        source: nix::Error,
    },
    /// The kernel refused a netlink request.
    #[error("netlink request failed: {what}")]
    Netlink {
        /// What was being done, or what failed.
        what: String,
        /// The cause, with the errno the kernel gave.
        #[source]
        source: io::Error,
    },
    /// The kernel does not have a feature the topology needs.
    #[error("this kernel lacks {feature}, needed for {needed_for}")]
    KernelLacks {
        /// The kernel module or option that is missing: `sch_netem`, `veth`.
        feature: &'static str,
        /// What needed it, naming the node: `creating the veth pair ...`, `` `delay=50ms` on
        /// node `client` eth0 ``.
        needed_for: String,
        /// The cause, with the errno the kernel gave.
        #[source]
        source: io::Error,
    },
    /// A sysctl could not be written inside a node.
    #[error("cannot write {path} in node `{node}`")]
    Sysctl {
        /// The node.
        node: String,
        /// The sysctl's file under `/proc/sys`.
        path: PathBuf,
        /// The cause, with the errno the kernel gave.
        #[source]
        source: io::Error,
    },
    /// The links of the network did not all report `UP` in time.
    #[error("links did not come up within {waited_ms} ms: {pending}")]
    NotReady {
        /// How long the links were waited for.
        waited_ms: u64,
        /// The links that were not up, by node.
        pending: String,
    },
    /// The private mounts of the test (`/run`, `/proc`, `/etc/hosts`) could not be set up.
    #[error("cannot set up the test's private mounts: {step}")]
    Mount {
        /// The mount that failed.
        step: String,
        /// The cause, with the errno the kernel gave.
        #[source]
        source: nix::Error,
    },
    /// [`crate::run()`] was called in a process with several threads, which cannot fork safely
    /// nor make a user namespace.
    #[error(
        "netns_test::run needs a process with one thread, and this one has {threads}: call it \
         from `main` before any thread starts (in a test, use `#[netns_test]` instead)"
    )]
    ThreadedCaller {
        /// How many threads the process had.
        threads: usize,
    },
    /// The closure given to [`crate::run()`] panicked; its message.
    #[error("the closure panicked: {message}")]
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// Something failed inside [`crate::run()`]'s sandbox (such as building the network), told by
    /// that process: the cause, with its errno, is in the text, since it crossed a process.
    #[error("in the sandbox: {what}")]
    InSandbox {
        /// What failed, with its causes.
        what: String,
    },
    /// The packet capture could not start in a node.
    #[error("cannot start the packet capture in node `{node}`")]
    Capture {
        /// The node.
        node: String,
        /// The cause, with the errno the kernel gave.
        #[source]
        source: io::Error,
    },
    /// A link setting given at run time (`Link::set_rate("...")`) is not valid.
    #[error("invalid link setting: {problem}")]
    InvalidSetting {
        /// What is wrong with the value, and what to write instead.
        problem: String,
    },
    /// A NAT setting given at run time (`Nat::set_timeout`) is not valid.
    #[error("invalid NAT setting: {problem}")]
    InvalidNatSetting {
        /// What is wrong with the value, and what to give instead.
        problem: String,
    },
    /// A name given to [`Net::set_name`](crate::Net::set_name) cannot be a DNS name of the
    /// test.
    #[error("invalid name `{name}`: {problem}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it, and what would do.
        problem: String,
    },
    /// [`Nat::rebind_address`](crate::Nat::rebind_address) found no address to move to: every
    /// address of the outside subnet is taken.
    #[error(
        "`nat {nat}` cannot move to a new outside address: every address of its outside subnet \
         {subnet} is taken; give its outside link a larger subnet (`[subnet=.../24]`)"
    )]
    NoFreeAddress {
        /// The NAT router.
        nat: String,
        /// Its outside subnet.
        subnet: String,
    },
    /// A wait ([`Node::wait_for_tcp`](crate::Node::wait_for_tcp),
    /// [`Node::wait_until`](crate::Node::wait_until), [`Net::wait_until`](crate::Net::wait_until))
    /// ran out of time before what it waited for happened.
    #[error("timed out after {waited_ms} ms waiting for {what}{}", wait_place(.node.as_deref(), .listening.as_deref()))]
    WaitTimedOut {
        /// What was awaited: `tcp port 8080 listening`, or the caller's words.
        what: String,
        /// The node it was awaited in; `None` for [`Net::wait_until`](crate::Net::wait_until).
        node: Option<String>,
        /// How long it was waited for.
        waited_ms: u64,
        /// What the node listened on when the wait gave up: `tcp 0.0.0.0:22, udp [::]:53`, or
        /// `nothing`; `None` without a node.
        listening: Option<String>,
    },
    /// The system is not Linux: network namespaces, and so test networks, exist only there.
    #[error("netns-test needs Linux (network namespaces)")]
    NeedsLinux,
    /// An I/O error with what was being done.
    #[error("{what}")]
    Io {
        /// What was being done, or what failed.
        what: String,
        /// The cause, with the errno the kernel gave.
        #[source]
        source: io::Error,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            causes.push(cause);
            source = cause.source();
        }
        match causes.as_slice() {
            [] => Ok(()),
            [cause] => write!(f, "\n\nCaused by:\n    {cause}"),
            causes => {
                write!(f, "\n\nCaused by:")?;
                for (n, cause) in causes.iter().enumerate() {
                    write!(f, "\n    {n}: {cause}")?;
                }
                Ok(())
            }
        }
    }
}

/// Where a timed-out wait waited, for [`Error::WaitTimedOut`]'s message.
fn wait_place(node: Option<&str>, listening: Option<&str>) -> String {
    match (node, listening) {
        (Some(node), Some(listening)) => {
            format!(" in node `{node}`, which listens on {listening}")
        }
        (Some(node), None) => format!(" in node `{node}`"),
        (None, _) => String::new(),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and all its causes, one per line.
#[cfg(target_os = "linux")]
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    text
}

/// The message of a panic, from its payload.
#[cfg(target_os = "linux")]
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<a panic payload that is not a string>".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_the_message_then_its_causes() {
        let error = Error::KernelLacks {
            feature: "sch_netem",
            needed_for: "`delay=50ms` on node `client` eth0".into(),
            source: io::Error::from_raw_os_error(2),
        };
        assert_eq!(
            format!("{error:?}"),
            "this kernel lacks sch_netem, needed for `delay=50ms` on node `client` eth0\n\n\
             Caused by:\n    No such file or directory (os error 2)"
        );
        let alone = Error::InvalidSetting {
            problem: "`2mbps` is ambiguous".into(),
        };
        assert_eq!(
            format!("{alone:?}"),
            "invalid link setting: `2mbps` is ambiguous"
        );
    }

    #[test]
    fn several_causes_are_numbered() {
        #[derive(Debug, thiserror::Error)]
        #[error("the socket is gone")]
        struct Inner(#[source] io::Error);
        let error = Error::Io {
            what: "cannot read the sockets of node `server`".into(),
            source: io::Error::other(Inner(io::Error::from_raw_os_error(13))),
        };
        assert_eq!(
            format!("{error:?}"),
            "cannot read the sockets of node `server`\n\nCaused by:\n    0: the socket is gone\n    \
             1: Permission denied (os error 13)"
        );
    }
}
