//! `cargo xtask bench`: what a whole test costs, measured as cargo-nextest runs one.
//!
//! Each case is the release-built `bench_fixture` binary run as `bench_fixture --exact NAME` (a fresh process
//! that starts the harness, makes the sandbox, builds the network, runs the body and exits), many
//! times in a row; the report gives the median and the 90th percentile of wall-clock time. A
//! baseline row times `bench_fixture --list`: the process alone, with no sandbox and no network.
//!
//! Each test case runs twice, side by side: as the harness runs a test selected alone (its
//! sandbox forked from the top of `main`, no second `exec`), and with `__NETNS_TEST_REEXEC=1`,
//! the binary re-executed for the sandbox as it is for each of many tests; the last column is
//! the ratio of the two medians.
//!
//! Last, the seed test (walkthrough 3) with the DNS responder (the default) and with
//! `NETNS_TEST_DNS=off`, the runs of the two interleaved so that both see the same machine, and
//! the difference of the medians (and the median of the paired differences): what the
//! responder adds to a test.
//!
//! The numbers are for reading, not for asserting: these machines are shared and noisy.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{cargo, run};

const DEFAULT_RUNS: usize = 200;

pub(crate) fn run_bench(args: &[String]) -> Result<()> {
    let runs = match args.iter().position(|a| a == "--runs") {
        Some(i) => args
            .get(i + 1)
            .context("--runs needs a number")?
            .parse()
            .context("--runs needs a number")?,
        None => DEFAULT_RUNS,
    };
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "netns-test-suites",
        "--bin",
        "bench_fixture",
    ]))?;
    let binary = target_dir()?.join("release/bench_fixture");
    let cases: [(&str, &[&str]); 4] = [
        ("process only (--list)", &["--list"]),
        ("empty test: `a -- b`, empty body", &["--exact", "empty"]),
        (
            "walkthrough 3 + one TCP round trip",
            &["--exact", "walkthrough_3"],
        ),
        (
            "the same, async: a tokio runtime per node",
            &["--exact", "walkthrough_3_async"],
        ),
    ];
    println!("{runs} runs each, whole process per run, release build\n");
    println!(
        "{:40} {:>10} {:>10} {:>10} {:>10}",
        "case", "median", "p90", "min", "re-exec/fork"
    );
    for (label, args) in cases {
        let forked = time_runs(&binary, args, false, runs)?;
        print_row(label, &forked, None);
        if args[0] == "--exact" {
            let reexec = time_runs(&binary, args, true, runs)?;
            print_row("  the same, re-executed", &reexec, Some(&forked));
        }
    }
    compare_dns(&binary, runs)
}

/// The seed test with and without the DNS responder, runs interleaved, and the difference.
fn compare_dns(binary: &PathBuf, runs: usize) -> Result<()> {
    let args = ["--exact", "walkthrough_3"];
    let (mut on, mut off) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        on.extend(time_runs_with(binary, &args, false, &[], 1)?);
        off.extend(time_runs_with(
            binary,
            &args,
            false,
            &[("NETNS_TEST_DNS", "off")],
            1,
        )?);
    }
    // Each run on minus the run off next to it: the pairs share the machine's load of the
    // moment, so their median moves less than the difference of the two medians.
    let mut paired: Vec<f64> = (on.iter().zip(&off))
        .map(|(on, off)| on.as_secs_f64() - off.as_secs_f64())
        .collect();
    paired.sort_by(f64::total_cmp);
    on.sort();
    off.sort();
    println!();
    print_row("walkthrough 3, DNS responder on", &on, None);
    print_row("  the same, NETNS_TEST_DNS=off", &off, None);
    let difference = on[runs / 2].as_secs_f64() - off[runs / 2].as_secs_f64();
    println!(
        "the DNS responder adds {:+.3} ms per test (median on minus median off; median of the \
         paired differences {:+.3} ms)",
        difference * 1000.0,
        paired[runs / 2] * 1000.0
    );
    Ok(())
}

/// Times `runs` runs of `binary args`, sorted; re-executing the binary for the sandbox if
/// `reexec`.
fn time_runs(binary: &PathBuf, args: &[&str], reexec: bool, runs: usize) -> Result<Vec<Duration>> {
    time_runs_with(binary, args, reexec, &[], runs)
}

/// [`time_runs`] with more environment variables.
fn time_runs_with(
    binary: &PathBuf,
    args: &[&str],
    reexec: bool,
    env: &[(&str, &str)],
    runs: usize,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut command = Command::new(binary);
        command
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        if reexec {
            command.env("__NETNS_TEST_REEXEC", "1");
        }
        let start = Instant::now();
        let output = command
            .output()
            .with_context(|| format!("cannot run {}", binary.display()))?;
        times.push(start.elapsed());
        if !output.status.success() {
            bail!(
                "`bench_fixture {}` failed:\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    times.sort();
    Ok(times)
}

/// One row: median, 90th percentile, minimum, and the ratio of medians to `against`.
fn print_row(label: &str, times: &[Duration], against: Option<&[Duration]>) {
    let median = times[times.len() / 2];
    let ratio = against.map_or(String::new(), |against| {
        format!(
            "{:.2}x",
            median.as_secs_f64() / against[against.len() / 2].as_secs_f64()
        )
    });
    println!(
        "{:40} {:>10} {:>10} {:>10} {:>10}",
        label,
        ms(median),
        ms(times[times.len() * 9 / 10]),
        ms(times[0]),
        ratio
    );
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("cannot run cargo metadata")?;
    let text = String::from_utf8(output.stdout)?;
    let key = "\"target_directory\":\"";
    let start = text
        .find(key)
        .context("cargo metadata has no target_directory")?
        + key.len();
    let end = text[start..].find('"').context("bad cargo metadata")? + start;
    Ok(PathBuf::from(&text[start..end]))
}
