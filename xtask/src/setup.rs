//! What a fresh machine needs before the tests can run, and the unprivileged run.

use std::fs;
use std::os::unix::fs::MetadataExt;
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
];

/// The user the second run of the suite runs as.
const CI_USER: &str = "netns-test-ci";

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
    let exists = Command::new("id")
        .arg("-u")
        .arg(CI_USER)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        run(Command::new("useradd").args(["--create-home", "--shell", "/bin/sh", CI_USER]))?;
    }
    Ok(CI_USER.to_string())
}

/// Builds every test as root (the toolchain lives in root's home, which other users cannot
/// enter), packs them into a nextest archive, and runs the archive as `user`.
///
/// The compile-fail suite (`ui`) is left out of this run: it drives `cargo` itself, and the
/// unprivileged user has no toolchain. It runs in the root pass.
pub(crate) fn run_as_user_with_nextest(user: &str, extra: &[String]) -> Result<()> {
    let workdir = Path::new("/tmp/netns-test-ci");
    if workdir.exists() {
        fs::remove_dir_all(workdir).context("cannot clear /tmp/netns-test-ci")?;
    }
    let workspace = workdir.join("workspace");
    fs::create_dir_all(&workspace)?;
    fs::create_dir_all(workdir.join("extracted"))?;
    let archive = workdir.join("tests.tar.zst");
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
    let local_nextest = workdir.join("cargo-nextest");
    fs::copy(&nextest, &local_nextest)?;
    // cargo-nextest extracts only into a directory that exists.
    fs::create_dir_all(workdir.join("extracted"))?;
    run(Command::new("chown").args(["-R", user]).arg(workdir))?;

    // insta finds its snapshots through `cargo metadata`, which this user cannot run: point it
    // at the copy of the sources.
    let mut script = format!(
        "cd {dir} && INSTA_WORKSPACE_ROOT={dir}/workspace ./cargo-nextest nextest run --archive-file tests.tar.zst \
         --workspace-remap workspace --extract-to extracted --extract-overwrite \
         -E 'not binary(ui)' --no-fail-fast",
        dir = workdir.display()
    );
    for arg in extra {
        script.push(' ');
        script.push_str(&shell_quote(arg));
    }
    run(Command::new("su").args([user, "-s", "/bin/sh", "-c", &script]))
}

fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest_dir
        .parent()
        .context("xtask lives inside the workspace")?
        .to_path_buf())
}

fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}
