//! `cargo xtask elsewhere`: checks that netns-test builds for systems other than Linux and that
//! each test there says it needs Linux.
//!
//! No other target's standard library is installed on the machines this runs on, so the check
//! builds a copy of the workspace in which the runtime's `target_os = "linux"` predicates (in its
//! source and in its `Cargo.toml`) read `target_os = "macos"`: on Linux that compiles exactly
//! the code other systems get, without the Linux-only dependencies, and its binaries can run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::{cargo, run};

pub(crate) fn check() -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives inside the workspace")?
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let work = target.join("elsewhere");
    let copy = work.join("workspace");
    if copy.exists() {
        fs::remove_dir_all(&copy).context("cannot clear the previous copy")?;
    }
    fs::create_dir_all(&copy)?;
    for entry in fs::read_dir(&root)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        run(Command::new("cp").arg("-a").arg(entry.path()).arg(&copy))?;
    }
    let runtime = copy.join("netns-test");
    let flipped = flip(&runtime.join("Cargo.toml"))? + flip_sources(&runtime.join("src"))?;
    ensure!(flipped > 0, "found no `target_os = \"linux\"` to flip");

    let tree = cargo()
        .args(["tree", "-p", "netns-test", "-e", "normal"])
        .current_dir(&copy)
        .output()?;
    let tree = String::from_utf8_lossy(&tree.stdout);
    ensure!(
        !tree.contains("netlink"),
        "netlink crates are still dependencies elsewhere:\n{tree}"
    );
    // The runtime with its unit tests, every example and test suite (code as users write it),
    // with no warning: code that only Linux uses must be gated as such.
    run(cargo()
        .args([
            "build",
            "--all-targets",
            "-p",
            "netns-test",
            "-p",
            "netns-test-examples",
        ])
        .args(["-p", "netns-test-suites", "--bin", "harness_fixture"])
        .current_dir(&copy)
        .env("RUSTFLAGS", "-D warnings")
        .env("CARGO_TARGET_DIR", work.join("target")))?;
    let fixture = work.join("target/debug/harness_fixture");

    let failed = Command::new(&fixture)
        .args(["--exact", "passes"])
        .output()?;
    let text = String::from_utf8_lossy(&failed.stdout);
    if failed.status.code() != Some(101)
        || !text.contains("netns-test needs Linux (network namespaces)")
    {
        bail!("elsewhere, a test must fail saying it needs Linux:\n{text}");
    }
    let skipped = Command::new(&fixture)
        .args(["--exact", "passes"])
        .env("NETNS_TEST_UNSUPPORTED", "skip")
        .output()?;
    let text = String::from_utf8_lossy(&skipped.stdout);
    if !skipped.status.success()
        || !text.contains("ignored (cannot run here: netns-test needs Linux (network namespaces))")
    {
        bail!("elsewhere, NETNS_TEST_UNSUPPORTED=skip must report the test ignored:\n{text}");
    }
    eprintln!(
        "elsewhere: {flipped} Linux-only predicates flipped; the runtime builds without netlink \
         and its tests fail, or skip when asked, saying they need Linux"
    );
    Ok(())
}

/// Flips every Rust source under `dir`, subdirectories included; returns how many predicates.
fn flip_sources(dir: &Path) -> Result<usize> {
    let mut flipped = 0;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            flipped += flip_sources(&path)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            flipped += flip(&path)?;
        }
    }
    Ok(flipped)
}

/// Rewrites `target_os = "linux"` as `target_os = "macos"` in a file; returns how many.
fn flip(path: &Path) -> Result<usize> {
    let text = fs::read_to_string(path)?;
    let count = text.matches("target_os = \"linux\"").count();
    if count > 0 {
        fs::write(
            path,
            text.replace("target_os = \"linux\"", "target_os = \"macos\""),
        )?;
    }
    Ok(count)
}
