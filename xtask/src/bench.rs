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
//! Then the goals of a test that costs what its network costs, side by side in the same run:
//!
//! - **the floor**: `bench_fixture --floor`, a program that makes its user, network and mount
//!   namespaces, builds the seed network (client, gateway, server) with the crate's own netlink
//!   code and does one UDP round trip, nothing else; the seed test run alone (`--exact seed`,
//!   as cargo-nextest runs it) is given as a ratio to it;
//! - **many tests in one process**: the hundred seed tests `a0::` of `bench_many_fixture` with
//!   `--test-threads 2`, as `cargo test` runs them, forked by the fork server and re-executed,
//!   beside a hundred floors run two at a time and one at a time, and the CPU time the whole
//!   machine spent on each run (kernel workers included, see `cpu.rs`): divided by the cores,
//!   the least time the run could take with every core busy throughout;
//! - **a thousand tests**: one run of all of `bench_many_fixture`, the time its first hundred
//!   results took against its last hundred, and the peak memory of the fork server
//!   (`VmHWM`), read while it runs;
//! - **`--list`** of those thousand tests.
//!
//! Rerun with `cargo xtask bench` (`--runs N` for the per-process rows; the many-test rows run a
//! twentieth as often, at least three times).
//!
//! Last, the seed test (walkthrough 3) with the DNS responder (the default) and with
//! `NETNS_TEST_DNS=off` (at least 80 of each), the runs of the two interleaved so that both see
//! the same machine, and
//! the difference of the medians (and the median of the paired differences): what the
//! responder adds to a test.
//!
//! Then the link impairments, each case run once and printing its own figures: the round trip of
//! `delay=20ms` (median, p99), the spread of `jitter=5ms` (less the machine's own spread, from a
//! `delay=20ms` link without jitter measured in turns with it), `loss=10%` against the binomial 99%
//! bounds over 2000 datagrams, the runs of `burst=5`, and bulk TCP through `delay=1ms` with the
//! relay thread's CPU time per Gbit (a plain veth beside it). What a relayed link adds to
//! building a network is `a -- b [delay=0ms]` against `a -- b`, run in turns (at least 40 of
//! each), from launch to the body and as whole processes, with the median of the paired
//! differences.
//!
//! Then what NAT costs: `two_homes` (a server and two homes on an `internet` switch, a peer
//! behind each, one UDP round trip from each peer to the server) against `two_homes_nat`, the
//! same with both homes NATs (port-restricted and symmetric), whole process, side by side.
//!
//! The numbers are for reading, not for asserting: these machines are shared and noisy.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cpu::{self, Baseline};
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
        "--bin",
        "bench_many_fixture",
    ]))?;
    let binary = target_dir()?.join("release/bench_fixture");
    let many = target_dir()?.join("release/bench_many_fixture");
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
        "{:40} {:>10} {:>10} {:>10} {:>17}",
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
    goals(&binary, &many, runs)?;
    build_cost(&binary, runs)?;
    nat_cost(&binary, runs)?;
    impairments(&binary)
}

/// The goals' figures, each beside what it is compared with.
fn goals(binary: &PathBuf, many: &PathBuf, runs: usize) -> Result<()> {
    println!("\nthe seed test against its floor ({runs} runs each)\n");
    println!(
        "{:40} {:>10} {:>10} {:>10} {:>17}",
        "case", "median", "p90", "min", "x floor"
    );
    let floor = time_runs(binary, &["--floor"], false, runs)?;
    print_row("floor: namespaces, network, round trip", &floor, None);
    let seed = time_runs(binary, &["--exact", "seed"], false, runs)?;
    print_row("seed test alone (nextest), forked", &seed, Some(&floor));
    let seed_reexec = time_runs(binary, &["--exact", "seed"], true, runs)?;
    print_row("  the same, re-executed", &seed_reexec, Some(&floor));

    let repeats = (runs / 20).max(3);
    println!("\n100 seed tests in one process, --test-threads 2 ({repeats} runs each)\n");
    println!(
        "{:40} {:>10} {:>10} {:>10} {:>17}",
        "case", "median", "p90", "min", "x server"
    );
    let hundred = ["a0::", "--test-threads", "2"];
    let baseline = Baseline::measure()?;
    let (served, served_cpu) =
        with_cpu(&baseline, repeats, || time_runs(many, &hundred, false, 1))?;
    print_row("fork server (cargo test's default)", &served, None);
    let reexec = time_runs(many, &hundred, true, repeats)?;
    print_row(
        "re-executed (__NETNS_TEST_REEXEC=1)",
        &reexec,
        Some(&served),
    );
    let (floors, floors_cpu) = with_cpu(&baseline, repeats, || time_floors(binary, 100, 2))?;
    print_row("100 floors, two at a time", &floors, Some(&served));
    let (alone, alone_cpu) = with_cpu(&baseline, repeats, || time_floors(binary, 100, 1))?;
    print_row("100 floors, one at a time", &alone, Some(&served));
    let cores = cpu::cores();
    let [served_cpu, floors_cpu, alone_cpu] =
        [&served_cpu, &floors_cpu, &alone_cpu].map(|cpu| cpu[cpu.len() / 2]);
    let floors_wall = floors[floors.len() / 2];
    println!(
        "CPU time of the whole machine per run, teardown in kernel workers included (medians): \
         fork server {}, floors two at a time {}, one at a time {}. On {cores} cores the 100 \
         floors could take no less than {} even with every core busy throughout; two at a \
         time they took {}, the cores busy {:.0}% of it.",
        secs(served_cpu),
        secs(floors_cpu),
        secs(alone_cpu),
        secs(floors_cpu / cores as u32),
        secs(floors_wall),
        100.0 * floors_cpu.as_secs_f64() / (floors_wall.as_secs_f64() * cores as f64),
    );

    println!("\n1000 seed tests in one process, --test-threads 2 (one run)\n");
    let thousand = run_thousand(many)?;
    let (first, last) = (thousand.first_hundred, thousand.last_hundred);
    println!(
        "first hundred {}, last hundred {} ({:.2}x); whole run {}",
        secs(first),
        secs(last),
        last.as_secs_f64() / first.as_secs_f64(),
        secs(thousand.whole)
    );
    println!(
        "fork server memory: peak {:.1} MiB (VmHWM), largest seen {:.1} MiB (VmRSS)",
        thousand.peak_kib as f64 / 1024.0,
        thousand.rss_kib as f64 / 1024.0
    );

    println!("\n--list of 1000 tests ({runs} runs)\n");
    let list = time_runs(many, &["--list"], false, runs)?;
    print_row("bench_many_fixture --list", &list, None);
    compare_dns(binary, runs)
}

/// The seed test with and without the DNS responder, runs interleaved, and the difference.
fn compare_dns(binary: &PathBuf, runs: usize) -> Result<()> {
    // A difference of a fraction of a millisecond in runs of 8: 20 pairs swing by a millisecond
    // or two, so at least 80.
    let runs = runs.max(80);
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
    println!("\nthe DNS responder ({runs} runs of each, in turns)\n");
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

/// What a relayed link adds to building a network: `a -- b` against `a -- b [delay=0ms]`,
/// the two run in turns so that each pair shares the machine's load of the moment, measured
/// from launch to the body (building, no teardown) and as whole processes; the differences of
/// the medians and the medians of the paired differences.
fn build_cost(binary: &PathBuf, runs: usize) -> Result<()> {
    let to_body = |case: &str| -> Result<Duration> {
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
        Ok(Duration::from_nanos(ns))
    };
    let runs = runs.max(40);
    let (mut plain, mut relayed) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    let (mut whole_plain, mut whole_relayed) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        plain.push(to_body("plain_empty")?);
        relayed.push(to_body("relayed_empty")?);
        whole_plain.extend(time_runs(binary, &["--exact", "empty"], false, 1)?);
        whole_relayed.extend(time_runs(binary, &["--exact", "relayed_empty"], false, 1)?);
    }
    println!("\nwhat a relayed link adds ({runs} runs of each, in turns):");
    for (what, a, b) in [
        ("launch to body (building)", &mut plain, &mut relayed),
        ("whole process", &mut whole_plain, &mut whole_relayed),
    ] {
        let mut paired: Vec<f64> = (b.iter().zip(a.iter()))
            .map(|(b, a)| b.as_secs_f64() - a.as_secs_f64())
            .collect();
        paired.sort_by(f64::total_cmp);
        a.sort();
        b.sort();
        println!(
            "  {what}: `a -- b` {}, `a -- b [delay=0ms]` {}: {:+.2} ms (median of the paired \
             differences {:+.2} ms; goal <= 1 ms)",
            ms(a[runs / 2]),
            ms(b[runs / 2]),
            (b[runs / 2].as_secs_f64() - a[runs / 2].as_secs_f64()) * 1000.0,
            paired[runs / 2] * 1000.0
        );
    }
    Ok(())
}

/// What NAT adds to a test: two homes, a server and one UDP round trip from each peer, without
/// and with both homes NATs, whole process, run in turns.
fn nat_cost(binary: &PathBuf, runs: usize) -> Result<()> {
    println!(
        "\ntwo homes and a server, one UDP round trip per peer ({runs} runs each, in turns)\n"
    );
    let (mut plain, mut nat) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        plain.extend(time_runs(binary, &["--exact", "two_homes"], false, 1)?);
        nat.extend(time_runs(binary, &["--exact", "two_homes_nat"], false, 1)?);
    }
    let mut ratios: Vec<f64> = (nat.iter().zip(&plain))
        .map(|(n, p)| n.as_secs_f64() / p.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    plain.sort();
    nat.sort();
    print_row("without NAT", &plain, None);
    print_row("both homes NATs (goal <= 1.3x)", &nat, Some(&plain));
    println!("median of the paired ratios: {:.2}x", ratios[runs / 2]);
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

/// Runs `count` floors, `at_once` at a time (two as two test threads would).
fn time_floors(binary: &std::path::Path, count: usize, at_once: usize) -> Result<()> {
    let shares: Vec<_> = (0..at_once)
        .map(|_| {
            let binary = binary.to_path_buf();
            std::thread::spawn(move || time_runs(&binary, &["--floor"], false, count / at_once))
        })
        .collect();
    for share in shares {
        share.join().expect("a floor thread panicked")?;
    }
    Ok(())
}

/// `repeats` runs of `run`: the wall-clock time and the machine's CPU time of each (see
/// `cpu.rs`), each sorted.
fn with_cpu<T>(
    baseline: &Baseline,
    repeats: usize,
    mut run: impl FnMut() -> Result<T>,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut walls, mut cpus) = (Vec::with_capacity(repeats), Vec::with_capacity(repeats));
    for _ in 0..repeats {
        let (_, wall, cpu) = baseline.time(&mut run)?;
        walls.push(wall);
        cpus.push(cpu);
    }
    walls.sort();
    cpus.sort();
    Ok((walls, cpus))
}

/// What one run of a thousand tests showed.
struct Thousand {
    first_hundred: Duration,
    last_hundred: Duration,
    whole: Duration,
    /// The fork server's `VmHWM`, in KiB, as last read.
    peak_kib: u64,
    /// The largest `VmRSS` of the fork server seen.
    rss_kib: u64,
}

/// Runs all of `many`, stamping each result line as it comes, and reads the fork server's
/// memory meanwhile (the server is the harness's only child).
fn run_thousand(many: &PathBuf) -> Result<Thousand> {
    use std::io::BufRead;

    let start = Instant::now();
    let mut child = Command::new(many)
        .args(["--test-threads", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {}", many.display()))?;
    let children = format!("/proc/{0}/task/{0}/children", child.id());
    let stdout = child.stdout.take().context("no stdout")?;
    let mut stamps = Vec::with_capacity(1000);
    let (mut peak_kib, mut rss_kib) = (0, 0);
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        if line.starts_with("test ") && line.ends_with(" ok") {
            stamps.push(start.elapsed());
        }
        let server = std::fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = server.split_whitespace().next() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            peak_kib = peak_kib.max(status_kib(&status, "VmHWM:"));
            rss_kib = rss_kib.max(status_kib(&status, "VmRSS:"));
        }
    }
    let status = child.wait()?;
    let whole = start.elapsed();
    if !status.success() || stamps.len() != 1000 {
        bail!(
            "the run of 1000 tests ended with {status} after {} passed",
            stamps.len()
        );
    }
    Ok(Thousand {
        first_hundred: stamps[99],
        last_hundred: stamps[999] - stamps[899],
        whole,
        peak_kib,
        rss_kib,
    })
}

/// A `kB` field of `/proc/PID/status`.
fn status_kib(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
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
    // The ratio of minimums beside that of medians: on a shared machine the minimum is the run
    // least disturbed by others.
    let ratio = against.map_or(String::new(), |against| {
        format!(
            "{:.2}x (min {:.2}x)",
            median.as_secs_f64() / against[against.len() / 2].as_secs_f64(),
            times[0].as_secs_f64() / against[0].as_secs_f64()
        )
    });
    println!(
        "{:40} {:>10} {:>10} {:>10} {:>17}",
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
