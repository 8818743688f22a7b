//! Each test's own scratch directory, with `TMPDIR` pointing to it.
//!
//! # Why
//!
//! Every test has its own PID namespace, and in it the test process is PID 2: so
//! `std::process::id()` is the same small number in every test, and a temporary name built from
//! it (`/tmp/server-2.sock`) is the same in two tests that run at once. A test's temporary
//! files belong in a folder no other test uses: each test gets one, and `TMPDIR` names it, so
//! that `std::env::temp_dir()`, the `tempfile` crate, `mktemp` and the programs the test starts
//! put their files there without being told.
//!
//! # Where
//!
//! `<the test's artifact folder>/scratch` (see `artifacts.rs`): no other test of the binary
//! has that folder, and when the test fails the files are already where its artifacts are. Not
//! a tmpfs mounted in the test's own mount namespace, which would vanish with the test, nor
//! `/tmp` itself, whose names any other user could take first.
//!
//! Inside the test the folder is reached as `/run/netns-test/tmp`, and `TMPDIR` names that:
//! `Net::build` binds the folder there in the test's own mount namespace (on its private
//! `/run`, `kernel/mounts.rs`). A unix socket's path is limited to 108 bytes, and the folder's
//! own path (the project's, the test binary's name, the test's full name) often is longer than
//! that alone; the short name lets a test put its sockets where its other files go. Nothing of
//! the host changes: the mount is in the test's namespace and goes with it.
//!
//! # When
//!
//! It is made when the test starts, before its network is built and before any thread of the
//! test starts: `TMPDIR` is set in the environment, which only a process without other threads
//! may change safely. When the test passes it is removed with what it holds (and so are the
//! folders that leaves empty). When the test fails, or runs out of time, it is kept with the
//! artifacts if it holds anything, and the failure says where; an empty one is removed then.

use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use super::Artifacts;
use crate::api::{SCRATCH_DIR, SCRATCH_SOURCE};
use crate::kernel::mounts::SCRATCH_MOUNT;

/// The name of the scratch directory in the test's artifact folder.
const NAME: &str = "scratch";

/// The scratch directory of the running test; removed when dropped, unless the test failed.
#[derive(Debug)]
pub(crate) struct Scratch<'a> {
    artifacts: &'a Artifacts,
    dir: PathBuf,
}

impl Scratch<'_> {
    /// Makes the scratch directory of the test whose folder is `artifacts` (`0700`), and points
    /// `TMPDIR` to where `Net::build` will bind it.
    ///
    /// # Errors
    ///
    /// A sentence saying what could not be made, and how to choose another place.
    pub(crate) fn create(artifacts: &Artifacts) -> Result<Scratch<'_>, String> {
        let made = artifacts.create().and_then(|folder| {
            let dir = folder.join(NAME);
            fs::DirBuilder::new().mode(0o700).create(&dir)?;
            Ok(dir)
        });
        let dir = made.map_err(|error| {
            format!(
                "cannot make the test's scratch directory in {}: {error}; set {}=<dir> to a \
                 folder this user can write",
                artifacts.dir().display(),
                crate::ARTIFACTS_ENV
            )
        })?;
        // SAFETY: the test process has no other thread yet: the harness calls this before the
        // network is built, in a process that re-executed the binary or was forked from a
        // process with one thread; under libtest's own harness, libtest's main thread only waits
        // for the test's thread (which this is) and reads no environment meanwhile.
        unsafe { std::env::set_var("TMPDIR", SCRATCH_MOUNT) };
        let _ = SCRATCH_DIR.set(PathBuf::from(SCRATCH_MOUNT));
        let _ = SCRATCH_SOURCE.set(dir.clone());
        Ok(Scratch { artifacts, dir })
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        if self.artifacts.kept() {
            return;
        }
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => eprintln!(
                "netns-test: cannot remove the scratch directory {} of this passed test: {error}",
                self.dir.display()
            ),
        }
        self.artifacts.remove_if_empty();
    }
}

/// For a failed test whose artifacts are in `folder`: keeps the scratch directory there if it
/// holds anything, and says where; removes it if it is empty.
pub(crate) fn keep_with_failure(folder: &Path) {
    let dir = folder.join(NAME);
    if fs::remove_dir(&dir).is_err() && dir.is_dir() {
        eprintln!(
            "the files the test left in its scratch directory (TMPDIR): {}",
            dir.display()
        );
    }
}
