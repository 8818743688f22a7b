//! Where a failed test leaves what it knew: one folder per test under the target directory.
//!
//! The folder of a test is `<target>/netns-test/<binary>/<test>/`, where `<target>` is the
//! target directory the test binary was built in and `<binary>` the binary's name without
//! cargo's hash. Where the binary does not live in a target directory (a cargo-nextest archive
//! unpacked elsewhere, an installed binary), `NETNS_TEST_ARTIFACTS=<dir>` chooses the base
//! instead: the folder is then `<dir>/<binary>/<test>/`.
//!
//! # Why the test process writes it, and why files belong to the user
//!
//! The state of a node can only be read while its namespace exists, and the namespaces end with
//! the test process: so the test process itself writes the folder, just before it exits. Its
//! mount namespace is private, but only `/run`, `/proc` and `/etc/hosts` are mounted over; the
//! rest is the host's file system. It runs as uid 0 of a user namespace that maps to the user
//! who started the tests, so what it writes there belongs to that user on the host.
//!
//! # Nothing stale, nothing empty
//!
//! The folder of a test is removed when the test starts, so that what a previous failure left
//! cannot be taken for this run's. It is made only when there is something to put in it, and
//! the parent folders that the removal leaves empty are removed too: a passing test leaves
//! nothing behind. The one file made earlier is the packet capture's, when the capture starts
//! (so that a test process that dies keeps it); a passing test that does not keep it removes it.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::kernel::snapshot::sanitize;
use crate::{Net, failure::capture};

/// The name of the folder under the target directory.
const UNDER_TARGET: &str = "netns-test";

/// The artifact folder of one test. Nothing exists on disk until [`Artifacts::create`].
#[derive(Debug)]
pub(crate) struct Artifacts {
    /// `<base>/<binary>/<test>`.
    dir: PathBuf,
    /// The folders above `dir` that belong to netns-test and may be removed once empty,
    /// innermost first.
    owned_parents: Vec<PathBuf>,
}

impl Artifacts {
    /// The folder of test `test` of the running binary, cleared of what an earlier run left:
    /// under `base` ([`ARTIFACTS_ENV`](crate::ARTIFACTS_ENV)) if given, else under the target
    /// directory.
    pub(crate) fn for_test(test: &str, base: Option<&Path>) -> Artifacts {
        let exe = fs::read_link("/proc/self/exe").unwrap_or_default();
        let binary = binary_name(&exe);
        let (base, owned_base) = match base {
            Some(dir) => (dir.to_path_buf(), false),
            None => (target_dir(&exe).join(UNDER_TARGET), true),
        };
        let binary_dir = base.join(sanitize(&binary));
        let mut owned_parents = vec![binary_dir.clone()];
        if owned_base {
            owned_parents.push(base);
        }
        let artifacts = Artifacts {
            dir: binary_dir.join(sanitize(test)),
            owned_parents,
        };
        artifacts.clear();
        artifacts
    }

    /// Makes the folder and returns its path.
    fn create(&self) -> io::Result<&Path> {
        // A test of the same binary that passes at this moment removes the parents it finds
        // empty: try again if they vanish under us.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match fs::create_dir_all(&self.dir) {
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 5 => continue,
                result => return result.map(|()| self.dir.as_path()),
            }
        }
    }

    /// Makes the folder and the packet capture's file in it, which the capture writes while the
    /// test runs: what it holds stays there however the test process ends.
    pub(crate) fn capture_file(&self) -> (PathBuf, io::Result<File>) {
        let path = self.dir.join(capture::FILE_NAME);
        let file = self.create().and_then(|_| File::create(&path));
        (path, file)
    }

    /// Removes what the test wrote (the capture of a test that passed, not to be kept).
    pub(crate) fn discard(&self) {
        self.clear();
    }

    /// Saves what a failed test leaves (the state of every node, beside the packet capture if
    /// `captured`) and says where on stderr, for the failure report.
    pub(crate) fn keep_failure(&self, net: &Net, captured: bool) {
        match self.save_failure(net) {
            Ok(dir) => eprintln!(
                "the state of every node{}: {}",
                if captured {
                    " and the packet capture"
                } else {
                    ""
                },
                dir.display()
            ),
            Err(error) => eprintln!(
                "netns-test: cannot save the artifacts in {}: {error}",
                self.dir.display()
            ),
        }
    }

    /// Says where the packet capture of a test that passed is.
    pub(crate) fn keep_capture(&self) {
        eprintln!(
            "packet capture: {}",
            self.dir.join(capture::FILE_NAME).display()
        );
    }

    fn save_failure(&self, net: &Net) -> io::Result<&Path> {
        let dir = self.create()?;
        net.save_state(dir)?;
        Ok(dir)
    }

    /// Removes the folder and the parents it leaves empty.
    fn clear(&self) {
        let _ = fs::remove_dir_all(&self.dir);
        for parent in &self.owned_parents {
            // Fails, as it should, when the folder holds another test's artifacts.
            if fs::remove_dir(parent).is_err() {
                break;
            }
        }
    }
}

/// The binary's name without the `-<hash>` cargo appends to test binaries.
fn binary_name(exe: &Path) -> String {
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "test".into());
    match name.rsplit_once('-') {
        Some((stem, hash))
            if !stem.is_empty()
                && hash.len() == 16
                && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            stem.to_string()
        }
        _ => name,
    }
}

/// The target directory a binary was built in: above its profile folder
/// (`<target>/debug/deps/<bin>`, `<target>/debug/<bin>`), or one more level up when that is the
/// one cargo marked with `CACHEDIR.TAG` (`<target>/<triple>/debug/deps/<bin>`).
fn target_dir(exe: &Path) -> PathBuf {
    let mut profile = exe.parent().unwrap_or(Path::new("."));
    if profile
        .file_name()
        .is_some_and(|n| n == "deps" || n == "examples")
    {
        profile = profile.parent().unwrap_or(profile);
    }
    let above = profile.parent().unwrap_or(profile);
    match above.parent() {
        Some(triple_parent)
            if !above.join("CACHEDIR.TAG").is_file()
                && triple_parent.join("CACHEDIR.TAG").is_file() =>
        {
            triple_parent.to_path_buf()
        }
        _ => above.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_of_a_test_binary_is_dropped() {
        assert_eq!(
            binary_name(Path::new("/t/debug/deps/walkthroughs-0f1e2d3c4b5a6978")),
            "walkthroughs"
        );
        assert_eq!(
            binary_name(Path::new("/t/debug/deps/my-suite-0f1e2d3c4b5a6978")),
            "my-suite"
        );
        assert_eq!(binary_name(Path::new("/t/debug/fixture")), "fixture");
        assert_eq!(binary_name(Path::new("/t/debug/two-words")), "two-words");
    }

    #[test]
    fn the_target_dir_is_above_the_profile() {
        let here = Path::new("/nonexistent/target/debug/deps/x-0f1e2d3c4b5a6978");
        assert_eq!(target_dir(here), Path::new("/nonexistent/target"));
        let bin = Path::new("/nonexistent/target/release/fixture");
        assert_eq!(target_dir(bin), Path::new("/nonexistent/target"));
    }

    #[test]
    fn names_become_single_plain_folders() {
        assert_eq!(sanitize("nested::inner"), "nested__inner");
        assert_eq!(sanitize("a/../b"), "a_.._b");
        assert_eq!(sanitize(".."), "_");
        assert_eq!(sanitize("ok-name_1.2"), "ok-name_1.2");
    }
}
