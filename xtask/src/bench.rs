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
//! Then the link impairments, each case run once and printing its own figures: the round trip of
//! `delay=20ms` (median, p99), the spread of `jitter=5ms`, `loss=10%` against the binomial 99%
//! bounds over 2000 datagrams, the runs of `burst=5`, and bulk TCP through `delay=1ms` with the
//! relay thread's CPU time per Gbit (a plain veth beside it). The `[delay=0ms]` row of the table
//! against the `a -- b` row is what a relayed link adds to building a network.
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
    let cases: [(&str, &[&str]); 5] = [
        ("process only (--list)", &["--list"]),
        ("empty test: `a -- b`, empty body", &["--exact", "empty"]),
        (
            "the same, `[delay=0ms]` (relayed here?)",
            &["--exact", "relayed_empty"],
        ),
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
    build_cost(&binary, runs)?;
    impairments(&binary)
}

/// What a relayed link adds to building a network: the time from launch to the body (no
/// teardown) of `a -- b` and of `a -- b [delay=0ms]`, medians.
fn build_cost(binary: &PathBuf, runs: usize) -> Result<()> {
    let mut medians = Vec::new();
    for case in ["plain_empty", "relayed_empty"] {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let launch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos();
            let output = Command::new(binary)
                .args(["--exact", case, "--nocapture"])
                .env("BENCH_LAUNCH_NS", launch.to_string())
                .stdin(Stdio::null())
                .output()
                .with_context(|| format!("cannot run {}", binary.display()))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let ns: u64 = stdout
                .lines()
                .find_map(|l| l.strip_prefix("to-body-ns: "))
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("`{case}` printed no time:\n{stdout}"))?;
            times.push(Duration::from_nanos(ns));
        }
        times.sort();
        medians.push(times[times.len() / 2]);
    }
    println!(
        "\nlaunch to body (no teardown), median: `a -- b` {}, `a -- b [delay=0ms]` {}: a relayed \
         link adds {:.2} ms to building (goal <= 1 ms)",
        ms(medians[0]),
        ms(medians[1]),
        (medians[1].as_secs_f64() - medians[0].as_secs_f64()) * 1000.0
    );
    Ok(())
}

/// The impairment cases, run once each: their bodies measure and print `bench: ` lines.
fn impairments(binary: &PathBuf) -> Result<()> {
    let impair = std::env::var("NETNS_TEST_IMPAIR").unwrap_or_else(|_| "auto".to_string());
    println!(
        "
link impairment (NETNS_TEST_IMPAIR={impair}; `doctor` says which path that is):"
    );
    let cases = [
        "delay_accuracy",
        "jitter_accuracy",
        "loss_accuracy",
        "burst_accuracy",
        "tcp_delayed",
        "tcp_plain",
    ];
    for case in cases {
        let output = Command::new(binary)
            .args(["--exact", case, "--nocapture"])
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", binary.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "`bench_fixture --exact {case}` failed:\n{stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        for line in stdout.lines().filter_map(|l| l.strip_prefix("bench: ")) {
            println!("  {line}");
        }
    }
    Ok(())
}

/// Times `runs` runs of `binary args`, sorted; re-executing the binary for the sandbox if
/// `reexec`.
fn time_runs(binary: &PathBuf, args: &[&str], reexec: bool, runs: usize) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut command = Command::new(binary);
        command.args(args).stdin(Stdio::null());
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
