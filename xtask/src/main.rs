//! Project automation, reached as `cargo xtask <command>`.
//!
//! - `cargo xtask examples`: installs what the examples need, then runs the example suites with
//!   their output shown.
//! - `cargo xtask test`: installs what the tests need, then runs the whole test suite as the
//!   current user and, when that user is root, once more as an unprivileged user it creates,
//!   under cargo-nextest, from a directory of the run's own that it removes afterwards, so runs
//!   at the same time do not clobber each other (see `setup.rs`). `.ci/run` runs exactly this.
//!   A test-name filter after `test` narrows both runs; without one, it also packages the three
//!   publishable crates (`cargo package`, each built from its package alone).
//! - `cargo xtask package`: that packaging alone.
//! - `cargo xtask bench`: times whole tests (see `bench.rs`).
//! - `cargo xtask topo`: draws a topology as SVG, or the README's walkthrough pictures (see
//!   `topo.rs`).
//! - `cargo xtask doctor`: what this machine offers (see `doctor.rs`).
//! - `cargo xtask elsewhere`: the build for systems other than Linux (see `elsewhere.rs`);
//!   `cargo xtask test` runs it too.

mod bench;
mod cpu;
mod doctor;
mod elsewhere;
mod setup;
mod topo;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("examples") => examples(rest),
        Some("test") => test(rest),
        Some("package") => package(),
        Some("bench") => bench::run_bench(rest),
        Some("topo") => topo::run_topo(rest),
        Some("doctor") => doctor::doctor(),
        Some("elsewhere") => elsewhere::check(),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 examples   run the example suites with their output\n  \
                 test       run every test, as root and as an unprivileged user (what CI runs)\n  \
                 package    package the publishable crates, each built from its package\n  \
                 bench      time whole tests: walkthrough 3 against an empty test\n  \
                 topo       draw a topology: `topo \"a -- b\" -o a.svg`, `topo --walkthroughs`\n  \
                 doctor     what this machine offers: namespaces, link kinds, qdiscs, tools\n  \
                 elsewhere  check the build for systems other than Linux"
            );
            bail!("no command given")
        }
    }
}

/// Runs a command, echoing it first, and fails if it fails.
pub(crate) fn run(command: &mut Command) -> Result<()> {
    eprintln!("$ {}", show(command));
    let status = command
        .status()
        .with_context(|| format!("cannot start {}", show(command)))?;
    if !status.success() {
        bail!("{} failed: {status}", show(command));
    }
    Ok(())
}

pub(crate) fn show(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn examples(extra: &[String]) -> Result<()> {
    setup::ensure_packages()?;
    run(cargo()
        .args(["test", "--package", "netns-test-examples", "--"])
        .args(["--nocapture", "--test-threads=1"])
        .args(extra))
}

/// The crates `cargo xtask test` packages, in the order they depend on each other.
const PUBLISHABLE: [&str; 3] = ["netns-test-topology", "netns-test-macros", "netns-test"];

/// `cargo package` of the three publishable crates (`netns-test-topology`, `netns-test-macros`,
/// `netns-test`), each verified by building it from its package alone, the others coming from
/// the packages just made as from a registry. Uncommitted changes are packaged as they are; the
/// packages are left in `target/packaged/package`.
///
/// Cargo takes a package from a registry to be the same whenever its name, version and registry
/// are, and that registry is `target/packaged/package/tmp-registry` in every run from the same
/// checkout: a package unpacked into Cargo's home, or built in the target directory, by an
/// earlier run would stand in for the one just made, and `netns-test` would be verified against
/// `netns-test-topology` as it was the first time this checkout was packaged. So each run starts
/// from a target directory of its own and without those unpacked copies.
fn package() -> Result<()> {
    let target = setup::workspace_root()?.join("target/packaged");
    if target.exists() {
        fs::remove_dir_all(&target)
            .with_context(|| format!("cannot remove {}", target.display()))?;
    }
    forget_unpacked_packages()?;
    let mut command = cargo();
    command.args(["package", "--workspace", "--allow-dirty", "--target-dir"]);
    command.arg(&target);
    for excluded in ["netns-test-suites", "netns-test-examples", "xtask"] {
        command.args(["--exclude", excluded]);
    }
    run(&mut command)
}

/// Removes the copies of our publishable crates unpacked into
/// `$CARGO_HOME/registry/src/<registry>/<name>-<version>`, where Cargo unpacks a package only
/// when that directory is not there yet. A published version removed here is unpacked again
/// from Cargo's cache when next needed.
fn forget_unpacked_packages() -> Result<()> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cargo"),
    };
    let Ok(registries) = fs::read_dir(home.join("registry/src")) else {
        return Ok(());
    };
    for registry in registries {
        for unpacked in fs::read_dir(registry?.path())? {
            let unpacked = unpacked?.path();
            let name = unpacked.file_name().unwrap_or_default().to_string_lossy();
            let ours = PUBLISHABLE.iter().any(|krate| {
                (name.strip_prefix(krate))
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                fs::remove_dir_all(&unpacked)
                    .with_context(|| format!("cannot remove {}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

fn test(extra: &[String]) -> Result<()> {
    setup::ensure_packages()?;
    let root = setup::is_root();
    eprintln!(
        "== the whole suite as {} ==",
        if root { "root" } else { "the current user" }
    );
    run(cargo().args(["test", "--workspace"]).args(extra))?;
    if extra.is_empty() {
        eprintln!("== the publishable crates, packaged and built from their packages ==");
        package()?;
    }
    eprintln!("== the build for systems other than Linux ==");
    elsewhere::check()?;
    if root {
        let user = setup::ensure_unprivileged_user()?;
        eprintln!(
            "== the whole suite again as the unprivileged user `{user}`, under cargo-nextest =="
        );
        setup::run_as_user_with_nextest(&user, extra)?;
    }
    Ok(())
}
