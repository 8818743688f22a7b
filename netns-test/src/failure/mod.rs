//! What a failed test leaves: its folder of artifacts (`artifacts.rs`: the node files and the
//! capture, under the target directory or in a place of the user's), the packet capture
//! (`capture/`), the test's scratch directory, its `TMPDIR` (`scratch.rs`), and a network kept
//! up for the user to enter (`keep.rs`).
//!
//! The harness decides when (the run's configuration, the test's ending) and calls this; it
//! reads the network through the test API and the kernel plumbing, and reads no environment of
//! its own.

#[cfg(target_os = "linux")]
mod artifacts;
pub(crate) mod capture;
#[cfg(target_os = "linux")]
pub(crate) mod keep;
#[cfg(target_os = "linux")]
mod scratch;

#[cfg(target_os = "linux")]
pub(crate) use artifacts::Artifacts;
#[cfg(target_os = "linux")]
pub(crate) use capture::Capture;
pub use capture::CaptureMode;
#[cfg(target_os = "linux")]
pub(crate) use scratch::Scratch;
