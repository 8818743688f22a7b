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

use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("examples") => examples(rest),
        Some("test") => test(rest),
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

/// `cargo package` of the three publishable crates (`netns-test-topology`, `netns-test-macros`,
/// `netns-test`), each verified by building it from its package alone, the others coming from
/// the packages just made as from a registry. Uncommitted changes are packaged as they are.
fn package() -> Result<()> {
    let mut command = cargo();
    command.args(["package", "--workspace", "--allow-dirty"]);
    for excluded in ["netns-test-suites", "netns-test-examples", "xtask"] {
        command.args(["--exclude", excluded]);
    }
    run(&mut command)
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
