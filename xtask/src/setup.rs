//! What a fresh machine needs before the tests can run, and the unprivileged run.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, run};

/// The programs the tests and examples start, with the Debian package of each.
const PROGRAMS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("ping", "iputils-ping"),
    ("nft", "nftables"),
    ("unshare", "util-linux"),
    ("ps", "procps"),
    ("tshark", "tshark"),
    ("script", "bsdutils"),
    ("dig", "bind9-dnsutils"),
    ("curl", "curl"),
    ("python3", "python3"),
];

/// The user the second run of the suite runs as. Runs at the same time share this user (making
/// one per run would be slow and leave users behind); everything a run writes lives in its own
/// [`RunDir`].
const CI_USER: &str = "netns-test-ci";

/// Where the directories of unprivileged runs go: `/tmp` itself, not root's `$TMPDIR`, which may
/// be a directory the unprivileged user cannot enter.
const RUN_DIR_PARENT: &str = "/tmp";

/// Each run's directory is `/tmp/netns-test-ci-<pid>-<n>`, `<pid>` that of the `xtask` making it.
const RUN_DIR_PREFIX: &str = "netns-test-ci-";

pub(crate) fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

pub(crate) fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Installs the Debian packages of missing programs (as root), or says how to.
pub(crate) fn ensure_packages() -> Result<()> {
    let missing: Vec<&str> = PROGRAMS
        .iter()
        .filter(|(program, _)| on_path(program).is_none())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "the tests need these Debian packages: {0}\ninstall them with: sudo apt-get install {0}",
            missing.join(" ")
        );
    }
    run(Command::new("apt-get").arg("update").arg("-qq"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Creates the unprivileged user of the second run, if it does not exist yet.
pub(crate) fn ensure_unprivileged_user() -> Result<String> {
    if user_exists(CI_USER) {
        return Ok(CI_USER.to_string());
    }
    let created =
        run(Command::new("useradd").args(["--create-home", "--shell", "/bin/sh", CI_USER]));
    // A run started at the same moment may have created it first.
    match created {
        Err(_) if user_exists(CI_USER) => Ok(CI_USER.to_string()),
        Err(error) => Err(error),
        Ok(()) => Ok(CI_USER.to_string()),
    }
}

fn user_exists(user: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(user)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Builds every test as root (the toolchain lives in root's home, which other users cannot
/// enter), packs them into a nextest archive, and runs the archive as `user`.
///
/// Everything lives in a directory of this run's own, so two runs on one machine do not clobber
/// each other: the archive, the copy of the sources, nextest's copy, where it unpacks, and the
/// tests' `TMPDIR`.
///
/// The compile-fail suite (`ui`) is left out of this run: it drives `cargo` itself, and the
/// unprivileged user has no toolchain. It runs in the root pass.
pub(crate) fn run_as_user_with_nextest(user: &str, extra: &[String]) -> Result<()> {
    let run_dir = RunDir::create()?;
    let dir = run_dir.path.as_path();
    eprintln!("this run's directory: {}", dir.display());
    let workspace = dir.join("workspace");
    fs::create_dir(&workspace)?;
    // cargo-nextest extracts only into a directory that exists.
    fs::create_dir(dir.join("extracted"))?;
    fs::create_dir(dir.join("tmp"))?;
    let archive = dir.join("tests.tar.zst");
    run(cargo()
        .args(["nextest", "archive", "--workspace", "--archive-file"])
        .arg(&archive))?;

    // The sources, where the user can read them: tests run with their package as working
    // directory, and snapshot tests read their snapshots there (INSTA_WORKSPACE_ROOT below).
    let root = workspace_root()?;
    for entry in fs::read_dir(&root)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        run(Command::new("cp")
            .arg("-a")
            .arg(entry.path())
            .arg(&workspace))?;
    }
    let nextest = on_path("cargo-nextest")
        .or_else(|| {
            let home = std::env::var_os("CARGO_HOME").map(PathBuf::from)?;
            Some(home.join("bin/cargo-nextest")).filter(|p| p.is_file())
        })
        .context("cargo-nextest is not installed (cargo install cargo-nextest)")?;
    fs::copy(&nextest, dir.join("cargo-nextest"))?;
    run(Command::new("chown").args(["-R", user]).arg(dir))?;

    // insta finds its snapshots through `cargo metadata`, which this user cannot run: point it
    // at the copy of the sources.
    let mut script = format!(
        "cd {dir} && TMPDIR={dir}/tmp INSTA_WORKSPACE_ROOT={dir}/workspace ./cargo-nextest nextest run \
         --archive-file tests.tar.zst --workspace-remap workspace --extract-to extracted -E 'not binary(ui)' --no-fail-fast",
        dir = shell_quote(&dir.to_string_lossy())
    );
    for arg in extra {
        script.push(' ');
        script.push_str(&shell_quote(arg));
    }
    run(Command::new("su").args([user, "-s", "/bin/sh", "-c", &script]))
}

/// The directory of one unprivileged run, `/tmp/netns-test-ci-<pid>-<n>`, made afresh (never
/// reused, so nothing of another run is in it) and readable by root and the run's user only.
/// It is removed when dropped, so also when the run fails; a run killed before that leaves it
/// behind, and the next run removes it once no process has that pid.
struct RunDir {
    path: PathBuf,
}

impl RunDir {
    fn create() -> Result<RunDir> {
        remove_abandoned_run_dirs();
        let pid = std::process::id();
        for n in 0..100 {
            let path = Path::new(RUN_DIR_PARENT).join(format!("{RUN_DIR_PREFIX}{pid}-{n}"));
            match fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(RunDir { path }),
                // Left by an earlier run whose pid this one now has.
                Err(error) if error.kind() == ErrorKind::AlreadyExists => continue,
                Err(error) => {
                    return Err(error).with_context(|| format!("cannot create {}", path.display()));
                }
            }
        }
        bail!("cannot find a free name for {RUN_DIR_PARENT}/{RUN_DIR_PREFIX}{pid}-<n>")
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if let Err(error) = fs::remove_dir_all(&self.path) {
            eprintln!("cannot remove {}: {error}", self.path.display());
        }
    }
}

/// Removes the run directories whose `xtask` is gone (killed before it could clean up).
fn remove_abandoned_run_dirs() {
    let Ok(entries) = fs::read_dir(RUN_DIR_PARENT) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(RUN_DIR_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            eprintln!(
                "removing {}, left by a run that is gone",
                entry.path().display()
            );
            if let Err(error) = fs::remove_dir_all(entry.path()) {
                eprintln!("cannot remove {}: {error}", entry.path().display());
            }
        }
    }
}

pub(crate) fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest_dir
        .parent()
        .context("xtask lives inside the workspace")?
        .to_path_buf())
}

fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}
