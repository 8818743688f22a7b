//! Where a failed test leaves what it knew: one folder per test, in a place the user owns.
//!
//! The folder of a test is `<base>/<binary>/<test>/`, where `<binary>` is the binary's name
//! without cargo's hash, and `<base>` the first of:
//!
//! 1. `NETNS_TEST_ARTIFACTS=<dir>`, if set;
//! 2. `<target>/netns-test`, where `<target>` is the cargo target directory the binary is in
//!    (`<target>/<profile>/deps/<binary>-<hash>`, `<target>/<profile>/<binary>`, the folder
//!    cargo marks with `CACHEDIR.TAG`, or, without the tag, above a profile folder with cargo's
//!    `deps` folder in it, as an unpacked cargo-nextest archive has), if this user may write
//!    there;
//! 3. for a binary that is in no target directory (copied elsewhere, installed), a place that
//!    belongs to the user: `$XDG_STATE_HOME/netns-test`, else `$HOME/.local/state/netns-test`
//!    (made `0700` if missing), else `$TMPDIR/netns-test-<uid>` (`/tmp` without `TMPDIR`;
//!    made `0700`, and refused if it is not a folder of this user's that only this user can
//!    write, so that no other user can plant or read files there).
//!
//! Each failure says where its folder is; in the third case it also says why there. If no
//! place can be used, the test fails before its body runs and says what was tried.
//!
//! # Why the test process writes it, and why files belong to the user
//!
//! The state of a node can only be read while its namespace exists, and the namespaces end with
//! the test process: so the test process itself writes the folder, just before it exits. Its
//! mount namespace is private, but only `/run`, `/proc` and `/etc/hosts` are mounted over; the
//! rest is the host's file system. It runs as uid 0 of a user namespace that maps to the user
//! who started the tests, so what it writes there belongs to that user on the host.
//!
//! # Two runs of one test at once
//!
//! Two runs of the same binary (two terminals, an IDE beside `cargo test`) may run one test at
//! the same time. Each test process holds a lock on `<base>/<binary>/.<test>.lock` for as long
//! as it lives (an advisory `flock`, released by the kernel however the process ends); a run
//! that finds the lock held takes `<test>.2` (then `.3`, ...) instead, with a lock of its own,
//! so that neither removes the other's folder, scratch directory or capture, and its failure
//! says why its folder has that name. The lock's descriptor is the one the test process holds
//! of the harness's (close-on-exec: no program the test starts holds it).
//!
//! # Nothing stale, nothing left by a pass
//!
//! The folder of a test is removed when the test starts, so that what a previous failure left
//! cannot be taken for this run's. It holds the test's scratch directory while the test runs
//! (`scratch.rs`), and the packet capture's file from the moment the capture starts (so that a
//! test process that dies keeps it). When the test passes, the scratch directory goes, and so
//! do the capture it was not asked to keep and the folders that leaves empty: a passing test
//! leaves nothing behind (but the packet capture it was asked to keep).

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::config::{ARTIFACTS_ENV, ArtifactPlaces};
use crate::kernel::snapshot::sanitize;
use crate::{Net, failure::capture};

/// The name of the folder under the target directory.
const UNDER_TARGET: &str = "netns-test";

/// The artifact folder of one test. Nothing of it exists on disk until [`Artifacts::create`]
/// (which the scratch directory calls when the test starts).
#[derive(Debug)]
pub(crate) struct Artifacts {
    /// `<base>/<binary>/<test>`.
    dir: PathBuf,
    /// The folders above `dir` that belong to netns-test and may be removed once empty,
    /// innermost first.
    owned_parents: Vec<PathBuf>,
    /// Why the base is where it is, when that is not where the user would look first: said
    /// with the folder's path.
    why_here: Option<String>,
    /// Whether the test failed and its folder was kept ([`Artifacts::keep_failure`]).
    kept: AtomicBool,
    /// The lock that makes the folder this run's, and its file (see the module's docs);
    /// `None` where no lock could be taken, as on a file system without `flock`.
    lock: Option<(Flock<File>, PathBuf)>,
    /// Why the folder is not `<test>` itself: another run held that one.
    why_renamed: Option<String>,
}

impl Artifacts {
    /// The folder of test `test` of the running binary, cleared of what an earlier run left,
    /// in the first usable place of `places` (see the module's docs).
    ///
    /// # Errors
    ///
    /// When no place can be used: a sentence with each place tried and why not.
    pub(crate) fn for_test(test: &str, places: &ArtifactPlaces) -> Result<Artifacts, String> {
        let exe = fs::read_link("/proc/self/exe").unwrap_or_default();
        let binary = binary_name(&exe);
        let (base, owned_base, why_here) = match &places.chosen {
            Some(dir) => (dir.clone(), false, None),
            None => match target_dir(&exe) {
                Some(target) if writable(&target) => (target.join(UNDER_TARGET), true, None),
                found => {
                    let why = match found {
                        Some(target) => format!(
                            "this user cannot write in {}, the target directory of the test \
                             binary",
                            target.display()
                        ),
                        None => format!(
                            "the test binary {} is in no cargo target directory",
                            exe.display()
                        ),
                    };
                    (user_place(places, &why)?, false, Some(why))
                }
            },
        };
        let binary_dir = base.join(sanitize(&binary));
        let mut owned_parents = vec![binary_dir.clone()];
        if owned_base {
            owned_parents.push(base);
        }
        let test = sanitize(test);
        let (name, lock) = claim(&binary_dir, &test);
        let why_renamed = (name != test).then(|| {
            format!(
                "another run of this test holds {}",
                binary_dir.join(&test).display()
            )
        });
        let artifacts = Artifacts {
            dir: binary_dir.join(name),
            owned_parents,
            why_here,
            kept: AtomicBool::new(false),
            lock,
            why_renamed,
        };
        artifacts.clear();
        Ok(artifacts)
    }

    /// The folder: `<base>/<binary>/<test>`.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the test failed and its folder is kept.
    pub(crate) fn kept(&self) -> bool {
        self.kept.load(Ordering::SeqCst)
    }

    /// Makes the folder and returns its path.
    pub(crate) fn create(&self) -> io::Result<&Path> {
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

    /// Removes the packet capture of a test that passed and is not to keep it, and the folders
    /// that leaves empty.
    pub(crate) fn discard(&self) {
        let _ = fs::remove_file(self.dir.join(capture::FILE_NAME));
        self.remove_if_empty();
    }

    /// Saves what a failed test leaves (the state of every node, beside the packet capture if
    /// `captured`) and says where on stderr, for the failure report.
    /// The test's scratch directory is kept with them if it holds anything (see
    /// `scratch.rs`).
    pub(crate) fn keep_failure(&self, net: &Net, captured: bool) {
        self.kept.store(true, Ordering::SeqCst);
        match self.save_failure(net) {
            Ok(dir) => {
                eprintln!(
                    "the state of every node{}: {}",
                    if captured {
                        " and the packet capture"
                    } else {
                        ""
                    },
                    dir.display()
                );
                super::scratch::keep_with_failure(dir);
                self.say_why_here();
            }
            Err(error) => eprintln!(
                "netns-test: cannot save the artifacts in {}: {error}; set {ARTIFACTS_ENV} to \
                 a folder this user can write",
                self.dir.display()
            ),
        }
    }

    /// Says why the folder is where it is, if that is not where the user would look first.
    fn say_why_here(&self) {
        if let Some(why) = &self.why_here {
            eprintln!("(there because {why}; {ARTIFACTS_ENV}=<dir> chooses the place)");
        }
        if let Some(why) = &self.why_renamed {
            eprintln!("(that folder because {why})");
        }
    }

    /// Removes the folder if it is empty, and then the parents that leaves empty: what a passed
    /// test does once its scratch directory is gone.
    pub(crate) fn remove_if_empty(&self) {
        if fs::remove_dir(&self.dir).is_ok() {
            // Still held: a run that opens the file now finds it gone once it has the lock,
            // and takes a new one (see `claim`).
            if let Some((_, path)) = &self.lock {
                let _ = fs::remove_file(path);
            }
            self.remove_empty_parents();
        }
    }

    /// Says where the packet capture of a test that passed is.
    pub(crate) fn keep_capture(&self) {
        eprintln!(
            "packet capture: {}",
            self.dir.join(capture::FILE_NAME).display()
        );
        self.say_why_here();
    }

    fn save_failure(&self, net: &Net) -> io::Result<&Path> {
        let dir = self.create()?;
        net.save_state(dir)?;
        Ok(dir)
    }

    /// Removes the folder and the parents it leaves empty.
    fn clear(&self) {
        let _ = fs::remove_dir_all(&self.dir);
        self.remove_empty_parents();
    }

    fn remove_empty_parents(&self) {
        for parent in &self.owned_parents {
            // Fails, as it should, when the folder holds another test's artifacts.
            if fs::remove_dir(parent).is_err() {
                break;
            }
        }
    }
}

/// The name of this run's folder in `binary_dir` for test `test` (`test`, or `test.2`, ... when
/// another live run holds that one), and the lock that makes it this run's: see the module's
/// docs. Without a lock (the folder cannot be made, or the file system has no `flock`), the
/// test's own name, as before locks.
fn claim(binary_dir: &Path, test: &str) -> (String, Option<(Flock<File>, PathBuf)>) {
    let mut n = 1;
    for _ in 0..1000 {
        let name = if n == 1 {
            test.to_owned()
        } else {
            format!("{test}.{n}")
        };
        let path = binary_dir.join(format!(".{name}.lock"));
        let opened = File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path);
        let file = match opened {
            Ok(file) => file,
            // Not made yet, or removed by a test of the same binary that passed just now (as
            // in `Artifacts::create`): make it, and try again.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if fs::create_dir_all(binary_dir).is_err() {
                    break;
                }
                continue;
            }
            Err(_) => break,
        };
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => {
                // The run that held it may have removed the file before letting go: then the
                // lock is on a file no one else will open, and this name must be claimed anew.
                let same = fs::metadata(&path).ok().zip(lock.metadata().ok());
                if same.is_some_and(|(on_disk, held)| on_disk.ino() == held.ino()) {
                    return (name, Some((lock, path)));
                }
            }
            Err((_, Errno::EWOULDBLOCK)) => n += 1,
            Err(_) => break,
        }
    }
    (test.to_owned(), None)
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

/// The target directory a binary was built in (`<target>/debug/deps/<bin>`,
/// `<target>/debug/<bin>`, `<target>/<triple>/debug/deps/<bin>`), if it is in one: the folder
/// above its profile folder, or one more level up, when that is the one cargo marked with
/// `CACHEDIR.TAG`; or, without the tag, the folder above a profile folder that has cargo's
/// `deps` folder (an unpacked cargo-nextest archive). `None` for a binary copied anywhere else.
fn target_dir(exe: &Path) -> Option<PathBuf> {
    let mut profile = exe.parent()?;
    let in_deps = profile.file_name().is_some_and(|n| n == "deps");
    if in_deps || profile.file_name().is_some_and(|n| n == "examples") {
        profile = profile.parent()?;
    }
    let above = profile.parent()?;
    let marked = |dir: &Path| dir.join("CACHEDIR.TAG").is_file();
    if marked(above) {
        return Some(above.to_path_buf());
    }
    match above.parent() {
        Some(triple_parent) if marked(triple_parent) => Some(triple_parent.to_path_buf()),
        // `<profile>/deps` holds cargo's test binaries, `<profile>` its other binaries.
        _ if in_deps || profile.join("deps").is_dir() => Some(above.to_path_buf()),
        _ => None,
    }
}

/// Whether this process may make files in `dir` (it exists: it holds the binary).
fn writable(dir: &Path) -> bool {
    nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok()
}

/// The base for a binary that is in no target directory (`why`): the user's state folder, else
/// the user's own folder under the temporary folder (see the module's docs).
fn user_place(places: &ArtifactPlaces, why: &str) -> Result<PathBuf, String> {
    let mut tried = Vec::new();
    if let Some(state) = &places.state {
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(state)
        {
            Ok(()) => return Ok(state.clone()),
            Err(error) => tried.push(format!("cannot create {}: {error}", state.display())),
        }
    } else {
        tried.push("neither XDG_STATE_HOME nor HOME is set".to_string());
    }
    match private_folder(&places.tmp) {
        Ok(()) => Ok(places.tmp.clone()),
        Err(problem) => {
            tried.push(problem);
            Err(format!(
                "no folder for this test's artifacts and scratch directory: {why}, and {}; set \
                 {ARTIFACTS_ENV} to a folder this user can write",
                tried.join(", and ")
            ))
        }
    }
}

/// Makes `dir` (`0700`) in a folder everyone may write, such as `/tmp`, or checks that the one
/// there is this user's own: a folder, not a link, owned by this user, that no one else may
/// write. Anyone could have made it first.
fn private_folder(dir: &Path) -> Result<(), String> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(format!("cannot create {}: {error}", dir.display())),
    }
    let meta = fs::symlink_metadata(dir)
        .map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
    check_private(dir, &meta, nix::unistd::geteuid().as_raw())
}

/// The checks of [`private_folder`] on what `lstat` said of `dir`, for a user of uid `uid`.
fn check_private(dir: &Path, meta: &fs::Metadata, uid: u32) -> Result<(), String> {
    if !meta.is_dir() {
        return Err(format!(
            "{} is not a folder (a link, or a file): remove it",
            dir.display()
        ));
    }
    if meta.uid() != uid {
        return Err(format!(
            "{} belongs to another user, so this one does not use it: remove it",
            dir.display()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} may be written by other users (mode {:o}): `chmod 700` it",
            dir.display(),
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

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
    fn the_target_dir_is_the_one_cargo_marked() {
        let root = std::env::temp_dir().join(format!("netns-test-unit-{}", std::process::id()));
        let target = root.join("target");
        fs::create_dir_all(target.join("debug/deps")).unwrap();
        fs::create_dir_all(target.join("x86_64-unknown-linux-gnu/release/deps")).unwrap();
        fs::write(
            target.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .unwrap();
        let t = Some(target.clone());
        assert_eq!(target_dir(&target.join("debug/deps/x-0f1e2d3c4b5a6978")), t);
        assert_eq!(target_dir(&target.join("debug/fixture")), t);
        let triple = target.join("x86_64-unknown-linux-gnu/release/deps/x-0f1e2d3c4b5a6978");
        assert_eq!(target_dir(&triple), t);
        // Copied out of the target directory: in none.
        assert_eq!(target_dir(&root.join("programs")), None);
        assert_eq!(target_dir(Path::new("/programs")), None);
        assert_eq!(target_dir(Path::new("/usr/local/bin/programs")), None);
        // An unpacked archive has no tag, but keeps cargo's `deps` folder.
        let unpacked = root.join("extracted/target");
        fs::create_dir_all(unpacked.join("debug/deps")).unwrap();
        let u = Some(unpacked.clone());
        assert_eq!(
            target_dir(&unpacked.join("debug/deps/x-0f1e2d3c4b5a6978")),
            u
        );
        assert_eq!(target_dir(&unpacked.join("debug/fixture")), u);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_shared_folder_is_used_only_if_it_is_the_users_alone() {
        let root = std::env::temp_dir().join(format!("netns-test-unit-p-{}", std::process::id()));
        let dir = root.join("netns-test-1000");
        fs::create_dir_all(&root).unwrap();
        assert_eq!(private_folder(&dir), Ok(()));
        let meta = fs::symlink_metadata(&dir).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700);
        let me = nix::unistd::geteuid().as_raw();
        assert_eq!(check_private(&dir, &meta, me), Ok(()));
        let theirs = check_private(&dir, &meta, me + 1).unwrap_err();
        assert!(
            theirs.ends_with("belongs to another user, so this one does not use it: remove it"),
            "{theirs}"
        );
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let open = private_folder(&dir).unwrap_err();
        assert!(
            open.contains("may be written by other users (mode 777)"),
            "{open}"
        );
        let link = root.join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let linked = private_folder(&link).unwrap_err();
        assert!(linked.contains("is not a folder"), "{linked}");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn names_become_single_plain_folders() {
        assert_eq!(sanitize("nested::inner"), "nested__inner");
        assert_eq!(sanitize("a/../b"), "a_.._b");
        assert_eq!(sanitize(".."), "_");
        assert_eq!(sanitize("ok-name_1.2"), "ok-name_1.2");
    }
}
