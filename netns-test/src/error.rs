//! The one error type of the runtime.

use std::io;
use std::path::PathBuf;

use crate::topology::TopologyError;

/// Everything that can go wrong while building or driving a test network.
///
/// Every variant keeps its cause as a `source`, so the errno the kernel gave is never lost.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
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
        node: String,
        #[source]
        source: nix::Error,
    },
    /// A thread could not enter a node's network namespace.
    #[error("cannot enter the network namespace of node `{node}`")]
    EnterNamespace {
        node: String,
        #[source]
        source: nix::Error,
    },
    /// The kernel refused a netlink request.
    #[error("netlink request failed: {what}")]
    Netlink {
        what: String,
        #[source]
        source: io::Error,
    },
    /// The kernel does not have a feature the topology needs.
    #[error("this kernel lacks {feature}")]
    KernelLacks {
        feature: &'static str,
        #[source]
        source: io::Error,
    },
    /// A sysctl could not be written inside a node.
    #[error("cannot write {path} in node `{node}`")]
    Sysctl {
        node: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The links of the network did not all report `UP` in time.
    #[error("links did not come up within {waited_ms} ms: {pending}")]
    NotReady { waited_ms: u64, pending: String },
    /// The private mounts of the test (`/run`, `/proc`, `/etc/hosts`) could not be set up.
    #[error("cannot set up the test's private mounts: {step}")]
    Mount {
        step: String,
        #[source]
        source: nix::Error,
    },
    /// An I/O error with what was being done.
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
