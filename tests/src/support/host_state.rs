//! What a test run could leave on the host, read from the host's side, and the difference
//! between two readings, for the leak audit (`leaks.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One reading of the host: for each kind of thing, the set of things seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostState {
    kinds: BTreeMap<&'static str, BTreeSet<String>>,
}

/// What belongs to the run being audited.
#[derive(Clone, Debug)]
pub struct Run<'a> {
    /// Test binaries of the run: any process running one of them (a harness, keeper, init or test
    /// process) is part of the run.
    pub binaries: &'a [PathBuf],
    /// Text on the command line of every program the run's tests start.
    pub marker: &'a str,
    /// The run's `TMPDIR`, empty before the run.
    pub temp_dir: &'a Path,
}

impl HostState {
    /// Reads mounts, `/run/netns`, the host namespace's interfaces, addresses and routes, the
    /// run's processes and temporary files.
    ///
    /// Temporary files are those in the run's own `TMPDIR` (where `std::env::temp_dir`,
    /// `mktemp` and most programs put theirs) and in `/dev/shm`. The rest of `/tmp` is left out:
    /// on a shared machine other programs (compilers, other suites) add to it at any moment.
    pub fn read(run: &Run<'_>) -> HostState {
        let mut kinds = BTreeMap::new();
        kinds.insert("mount", mounts());
        kinds.insert("/run/netns entry", names(Path::new("/run/netns")));
        kinds.insert("interface", names(Path::new("/sys/class/net")));
        kinds.insert(
            "address",
            lines("ip", &["-o", "addr", "show"], strip_lifetimes),
        );
        kinds.insert("route", routes());
        kinds.insert("process", run_processes(run));
        let mut temp = names(run.temp_dir);
        temp.extend(names(Path::new("/dev/shm")));
        kinds.insert("temporary file", temp);
        HostState { kinds }
    }

    /// How many things of each kind this reading holds, as `12 mounts, 3 interfaces, ...`.
    pub fn counts(&self) -> String {
        self.kinds
            .iter()
            .map(|(kind, set)| format!("{} {kind}(s)", set.len()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The total number of things this reading holds.
    pub fn total(&self) -> usize {
        self.kinds.values().map(BTreeSet::len).sum()
    }

    /// Every difference from `before`, one per line: `left: process ...` for something that
    /// appeared, `gone: route ...` for something that disappeared. Temporary files that
    /// disappeared are not differences: other programs on the machine delete theirs from
    /// `/dev/shm`.
    pub fn differences_from(&self, before: &HostState) -> Vec<String> {
        let mut differences = Vec::new();
        for (kind, after) in &self.kinds {
            let empty = BTreeSet::new();
            let before = before.kinds.get(kind).unwrap_or(&empty);
            for added in after.difference(before) {
                differences.push(format!("left: {kind} {added}"));
            }
            if *kind != "temporary file" {
                for removed in before.difference(after) {
                    differences.push(format!("gone: {kind} {removed}"));
                }
            }
        }
        differences
    }
}

/// Polls until the host reads as `before` again, for at most `patience`: the kernel frees a
/// namespace shortly after its last process is gone, not at once. Returns the differences left
/// at the end (empty when the host is back as it was).
pub fn settle(before: &HostState, run: &Run<'_>, patience: Duration) -> Vec<String> {
    let start = Instant::now();
    loop {
        let differences = HostState::read(run).differences_from(before);
        if differences.is_empty() || start.elapsed() > patience {
            return differences;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn mounts() -> BTreeSet<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .expect("read /proc/self/mountinfo")
        .lines()
        // Mount and parent IDs aside: the device, the root, the mount point, options, source.
        .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
        .collect()
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().display().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The lines a program prints, each passed through `clean`.
fn lines(program: &str, args: &[&str], clean: fn(&str) -> String) -> BTreeSet<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(output.status.success(), "{program} {args:?} failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(clean)
        .collect()
}

/// `ip -o addr` without the lifetimes, which count down on addresses that have one.
fn strip_lifetimes(line: &str) -> String {
    line.split_whitespace()
        .scan(false, |skip_next, word| {
            let keep = !*skip_next && word != "valid_lft" && word != "preferred_lft";
            *skip_next = word == "valid_lft" || word == "preferred_lft";
            Some(keep.then_some(word))
        })
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

fn routes() -> BTreeSet<String> {
    let same = |l: &str| l.trim().to_string();
    let mut routes = lines("ip", &["-4", "route", "show", "table", "all"], same);
    routes.extend(lines("ip", &["-6", "route", "show", "table", "all"], same));
    routes
}

/// The processes of the run: those running one of its binaries, and those carrying its marker.
fn run_processes(run: &Run<'_>) -> BTreeSet<String> {
    let me = std::process::id().to_string();
    fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.bytes().all(|b| b.is_ascii_digit()) && name != me.as_str()
        })
        .filter_map(|e| {
            let cmdline = fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let exe = fs::read_link(e.path().join("exe")).ok();
            let ours =
                exe.is_some_and(|exe| run.binaries.contains(&exe)) || cmdline.contains(run.marker);
            ours.then(|| format!("{} {}", e.file_name().to_string_lossy(), cmdline.trim()))
        })
        .collect()
}
