//! What failed tests leave behind, seen from outside: the artifact folder of the
//! `artifacts_fixture` binary, the state of its nodes, and its packet capture read by tshark.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The fixture binary: where cargo built it, or where cargo-nextest unpacked it from an archive.
fn fixture_path() -> PathBuf {
    std::env::var_os("NEXTEST_BIN_EXE_artifacts_fixture")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_artifacts_fixture")))
}

/// The target directory the fixture lives in (`<target>/<profile>/artifacts_fixture`).
fn target_dir() -> PathBuf {
    let fixture = fixture_path();
    fixture
        .parent()
        .and_then(Path::parent)
        .expect("the fixture lives in <target>/<profile>")
        .to_path_buf()
}

/// Something no other run uses: a folder name, a payload to look for in a capture.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A fresh artifact base folder, removed when the test that made it passes.
struct Base(PathBuf);

impl Base {
    fn new() -> Base {
        let dir = target_dir().join("artifacts-suite").join(unique("run"));
        fs::create_dir_all(&dir).expect("create the base folder");
        Base(dir)
    }

    fn test_dir(&self, test: &str) -> PathBuf {
        self.0.join("artifacts_fixture").join(test)
    }
}

impl Drop for Base {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.0);
            let _ = fs::remove_dir(self.0.parent().unwrap());
        }
    }
}

struct Run {
    output: Output,
    stdout: String,
}

/// Runs the fixture with `args`, artifacts under `base` (or the default place if `None`), the
/// payloads carrying `marker`, and `env` on top.
fn fixture(args: &[&str], base: Option<&Base>, marker: &str, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(fixture_path());
    command
        .args(args)
        .env_remove("NETNS_TEST_ARTIFACTS")
        .env_remove("NETNS_TEST_CAPTURE")
        .env_remove("NETNS_TEST_KEEP")
        .env("ARTIFACTS_MARKER", marker);
    if let Some(base) = base {
        command.env("NETNS_TEST_ARTIFACTS", &base.0);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("run the fixture binary");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
        output,
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The interfaces (`client:eth0`) on which tshark finds a frame carrying `marker`, in the
/// order of the file.
fn interfaces_carrying(capture: &Path, marker: &str) -> Vec<String> {
    let output = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args([
            "-Y",
            &format!("udp.port == 5555 && frame contains \"{marker}\""),
        ])
        .args(["-T", "fields", "-e", "frame.interface_name"])
        .output()
        .expect("run tshark (Debian package `tshark`)");
    assert!(
        output.status.success(),
        "tshark cannot read {}: {}",
        capture.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_failure_leaves_the_state_of_every_node_and_the_capture() {
    let base = Base::new();
    let marker = unique("marker");
    let run = fixture(
        &["--exact", "fails_after_a_datagram"],
        Some(&base),
        &marker,
        &[],
    );
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = base.test_dir("fails_after_a_datagram");
    assert!(
        run.stdout.contains(&format!(
            "the state of every node and the packet capture: {}",
            dir.display()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(
        names_in(&dir),
        ["capture.pcapng", "client.txt", "server.txt"]
    );

    let client = read(&dir.join("client.txt"));
    for expected in [
        "node `client`",
        "eth0  UP       mtu 1500   10.0.1.1/24",
        "10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.1",
        "net.ipv4.ip_forward = 0",
        "nftables ruleset (nft list ruleset):\n  (empty)",
    ] {
        assert!(
            client.contains(expected),
            "missing {expected:?} in:\n{client}"
        );
    }
    // The datagram went through ARP: each side knows the other's MAC address.
    assert!(
        client.contains("10.0.1.2 dev eth0 lladdr "),
        "no neighbour in:\n{client}"
    );
    let server = read(&dir.join("server.txt"));
    assert!(
        server.contains("10.0.1.1 dev eth0 lladdr "),
        "no neighbour in:\n{server}"
    );

    let seen = interfaces_carrying(&dir.join("capture.pcapng"), &marker);
    assert_eq!(
        seen,
        ["client:eth0", "server:eth0"],
        "frames with the marker"
    );
}

#[test]
fn the_state_shows_forwarding_routes_rules_qdiscs_and_the_nftables_ruleset() {
    let base = Base::new();
    let run = fixture(&["--exact", "fails_with_a_firewall"], Some(&base), "x", &[]);
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = base.test_dir("fails_with_a_firewall");
    assert!(
        run.stdout
            .contains(&format!("the state of every node: {}", dir.display())),
        "{}",
        run.stdout
    );
    // No capture was asked for.
    assert_eq!(names_in(&dir), ["client.txt", "gateway.txt", "server.txt"]);
    let gateway = read(&dir.join("gateway.txt"));
    for expected in [
        "net.ipv4.ip_forward = 1",
        "10.0.1.254/24",
        "10.0.2.254/24",
        "table inet artifacts_check",
        "routes of the other tables:\n  10.9.0.0/16 via 10.0.2.1 dev eth1 table 100\n",
        "from 10.0.1.0/24 lookup 100",
        "qdisc tbf ",
    ] {
        assert!(
            gateway.contains(expected),
            "missing {expected:?} in:\n{gateway}"
        );
    }
    let client = read(&dir.join("client.txt"));
    assert!(
        client.contains("default via 10.0.1.254 dev eth0"),
        "{client}"
    );
}

#[test]
fn the_switches_have_a_file_of_their_own() {
    let base = Base::new();
    let run = fixture(&["--exact", "fails_on_a_switch"], Some(&base), "x", &[]);
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = base.test_dir("fails_on_a_switch");
    assert_eq!(names_in(&dir), ["_switches.txt", "a.txt", "b.txt"]);
    let switches = read(&dir.join("_switches.txt"));
    assert!(
        switches.contains("(switch `lan`)") && switches.contains("ports "),
        "{switches}"
    );
}

#[test]
fn passing_tests_leave_nothing_not_even_stale_artifacts() {
    let base = Base::new();
    // What an earlier failure of `passes` left.
    let stale = base.test_dir("passes");
    fs::create_dir_all(&stale).unwrap();
    fs::write(stale.join("client.txt"), "stale").unwrap();
    let run = fixture(
        &["passes", "--skip", "always", "--test-threads=1"],
        Some(&base),
        &unique("marker"),
        &[],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("2 passed"), "{}", run.stdout);
    assert_eq!(names_in(&base.0), Vec::<String>::new(), "left behind");
}

#[test]
fn capture_always_keeps_the_file_of_a_passing_test() {
    let base = Base::new();
    let marker = unique("marker");
    let run = fixture(
        &["--exact", "passes_with_capture_always"],
        Some(&base),
        &marker,
        &[],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    let dir = base.test_dir("passes_with_capture_always");
    assert_eq!(names_in(&dir), ["capture.pcapng"]);
    let seen = interfaces_carrying(&dir.join("capture.pcapng"), &marker);
    assert_eq!(seen, ["client:eth0", "server:eth0"]);
}

/// A bulk transfer is captured whole: a packet socket's own receive buffer (at most about
/// 400 KiB for an unprivileged user) holds only a few of the 64 KiB frames veth hands over.
#[test]
fn a_bulk_transfer_is_captured_whole() {
    let base = Base::new();
    let run = fixture(
        &["--exact", "sends_1_mib_with_capture_always"],
        Some(&base),
        "x",
        &[],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    assert!(!run.stdout.contains("incomplete"), "{}", run.stdout);
    let capture = base
        .test_dir("sends_1_mib_with_capture_always")
        .join("capture.pcapng");
    // Which bytes of the stream each interface saw, from the relative sequence numbers
    // (retransmissions may repeat some).
    let output = Command::new("tshark")
        .arg("-r")
        .arg(&capture)
        .args(["-Y", "tcp.dstport == 9000 && tcp.len > 0"])
        .args(["-T", "fields", "-e", "frame.interface_name"])
        .args(["-e", "tcp.seq", "-e", "tcp.len"])
        .output()
        .expect("run tshark");
    let mut segments = std::collections::BTreeMap::<String, Vec<(u64, u64)>>::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<u64> = line
            .split('\t')
            .skip(1)
            .map(|f| f.parse().unwrap())
            .collect();
        let interface = line.split('\t').next().unwrap().to_string();
        segments
            .entry(interface)
            .or_default()
            .push((fields[0], fields[0] + fields[1]));
    }
    let expected = 1u64 << 20;
    let covered: Vec<(String, u64)> = segments
        .into_iter()
        .map(|(interface, mut ranges)| {
            ranges.sort();
            // Bytes from the first one (sequence number 1) up to the first gap.
            let mut end = 1;
            for (start, stop) in ranges {
                if start <= end {
                    end = end.max(stop);
                }
            }
            (interface, end - 1)
        })
        .collect();
    assert_eq!(
        covered,
        [
            ("client:eth0".to_string(), expected),
            ("server:eth0".to_string(), expected)
        ],
        "stream bytes captured without a gap, per interface"
    );
}

#[test]
fn the_environment_sets_the_capture_of_the_whole_run() {
    let base = Base::new();
    let marker = unique("marker");
    let run = fixture(
        &["--exact", "passes"],
        Some(&base),
        &marker,
        &[("NETNS_TEST_CAPTURE", "always")],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    let capture = base.test_dir("passes").join("capture.pcapng");
    assert_eq!(
        interfaces_carrying(&capture, &marker),
        ["client:eth0", "server:eth0"]
    );

    let run = fixture(
        &["--exact", "passes_with_capture_always"],
        Some(&base),
        &marker,
        &[("NETNS_TEST_CAPTURE", "off")],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    assert!(!base.test_dir("passes_with_capture_always").exists());

    let run = fixture(
        &["--exact", "passes"],
        Some(&base),
        &marker,
        &[("NETNS_TEST_CAPTURE", "sometimes")],
    );
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "NETNS_TEST_CAPTURE must be `off`, `on-failure` or `always`, not `sometimes`"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn artifacts_go_under_the_target_directory_by_default() {
    let run = fixture(&["--exact", "fails_with_a_firewall"], None, "x", &[]);
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = target_dir()
        .join("netns-test")
        .join("artifacts_fixture")
        .join("fails_with_a_firewall");
    assert!(
        run.stdout
            .contains(&format!("the state of every node: {}", dir.display())),
        "{}",
        run.stdout
    );
    assert!(read(&dir.join("gateway.txt")).contains("table inet artifacts_check"));
    fs::remove_dir_all(&dir).unwrap();
    for parent in dir.ancestors().skip(1).take(2) {
        let _ = fs::remove_dir(parent);
    }
}

/// `fails_with_a_firewall` run with `NETNS_TEST_KEEP` on a pseudo-terminal made by `script`,
/// through `shell` (a `sh` command line where `$0` is the fixture), with its output read line
/// by line.
struct Kept {
    script: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: String,
    _base: Base,
}

impl Kept {
    fn start(shell: &str) -> Kept {
        Kept::start_test(shell, "fails_with_a_firewall")
    }

    /// Runs fixture test `test` under `shell`, on a terminal, with `NETNS_TEST_KEEP` set.
    fn start_test(shell: &str, test: &str) -> Kept {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;

        let base = Base::new();
        let command = format!(
            "sh -c '{shell}' '{}' --exact {test}",
            fixture_path().display()
        );
        let mut script = Command::new("script")
            .args(["--quiet", "--return", "--command", &command, "/dev/null"])
            .env("NETNS_TEST_KEEP", "1")
            .env("NETNS_TEST_ARTIFACTS", &base.0)
            .env_remove("NETNS_TEST_CAPTURE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run script (Debian package `bsdutils`)");
        let (sender, lines) = std::sync::mpsc::channel();
        let stdout = script.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line.trim_end().to_string()).is_err() {
                    break;
                }
            }
        });
        Kept {
            script,
            lines,
            seen: String::new(),
            _base: base,
        }
    }

    /// Reads lines until one contains `text`; returns that line.
    fn wait_for(&mut self, text: &str) -> String {
        loop {
            let Ok(line) = self.lines.recv_timeout(std::time::Duration::from_secs(60)) else {
                let _ = self.script.kill();
                panic!("no {text:?} in:\n{}", self.seen);
            };
            self.seen.push_str(&line);
            self.seen.push('\n');
            if line.contains(text) {
                return line;
            }
        }
    }

    /// The printed command that enters the gateway.
    fn enter_gateway(&mut self) -> String {
        let line = self.wait_for("gateway  nsenter ");
        line.trim_start()
            .strip_prefix("gateway  ")
            .unwrap()
            .to_string()
    }
}

/// Runs `program` in the node that `enter` (a printed nsenter command) enters.
fn run_in(enter: &str, program: &str) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("{enter} {program}"))
        .output()
        .expect("run nsenter");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// With `NETNS_TEST_KEEP`, a failed test waits on its terminal and prints commands that really
/// enter its nodes from the host.
#[test]
fn a_kept_failure_waits_with_commands_that_enter_its_nodes() {
    use std::io::Write;

    let mut kept = Kept::start("exec \"$0\" \"$@\"");
    let enter = kept.enter_gateway();
    assert!(
        kept.seen
            .contains("the network of this test stays up until you press Enter"),
        "{}",
        kept.seen
    );
    assert!(enter.starts_with("nsenter "), "{enter}");
    // The printed command enters the live gateway: its addresses and its firewall table.
    let addresses = run_in(&enter, "ip -br addr");
    let ruleset = run_in(&enter, "nft list ruleset");
    let waiting = kept.script.try_wait().unwrap().is_none();
    kept.script
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"\n")
        .unwrap();
    let status = kept.script.wait().unwrap();
    assert!(
        addresses.contains("10.0.1.254/24") && addresses.contains("10.0.2.254/24"),
        "{addresses}"
    );
    assert!(ruleset.contains("table inet artifacts_check"), "{ruleset}");
    assert!(waiting, "the test did not wait for Enter");
    assert_eq!(status.code(), Some(101));
}

/// With `NETNS_TEST_KEEP`, a test past its time limit keeps its network up for the user as a
/// failure does, however long they take: the harness does not kill it.
#[test]
fn a_kept_timeout_stays_up_until_enter() {
    use std::io::Write;

    let mut kept = Kept::start_test("exec \"$0\" \"$@\"", "hangs_with_a_firewall");
    let enter = kept.enter_gateway();
    assert!(
        kept.seen
            .contains("netns-test: the test ran past its time limit of 1s"),
        "{}",
        kept.seen
    );
    // Past the harness's grace for a test that reports its own timeout (5 s).
    std::thread::sleep(std::time::Duration::from_secs(6));
    let ruleset = run_in(&enter, "nft list ruleset");
    let waiting = kept.script.try_wait().unwrap().is_none();
    kept.script
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"\n")
        .unwrap();
    let status = kept.script.wait().unwrap();
    assert!(ruleset.contains("table inet artifacts_check"), "{ruleset}");
    assert!(waiting, "the test did not wait for Enter");
    assert_eq!(status.code(), Some(101));
}

/// A kept failure in the background of its terminal (a process group of its own, as
/// cargo-nextest runs tests) cannot read Enter: it says so, stays up, and ends when the
/// terminal goes away instead of being stopped by SIGTTIN or outliving it.
#[test]
fn a_kept_failure_in_the_background_waits_until_the_terminal_goes() {
    use std::time::{Duration, Instant};

    // `set -m`: job control, so the `&` job gets a process group of its own.
    let mut kept = Kept::start("set -m; \"$0\" \"$@\" & wait $!");
    let enter = kept.enter_gateway();
    kept.wait_for("cannot read Enter: press Ctrl-C to end it");
    let pid: u32 = enter
        .split("--target ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {enter:?}"));
    let addresses = run_in(&enter, "ip -br addr");
    assert!(addresses.contains("10.0.2.254/24"), "{addresses}");
    assert!(Path::new(&format!("/proc/{pid}")).exists());

    // The terminal goes away: the test must end soon after.
    kept.script.kill().unwrap();
    kept.script.wait().unwrap();
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the kept test outlived its terminal"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Without a terminal (as in CI), a kept failure says why it does not wait, and ends.
#[test]
fn a_kept_failure_without_a_terminal_does_not_hang() {
    let base = Base::new();
    let output = Command::new("setsid")
        .arg("--wait")
        .arg(fixture_path())
        .args(["--exact", "fails_with_a_firewall"])
        .env("NETNS_TEST_KEEP", "1")
        .env("NETNS_TEST_ARTIFACTS", &base.0)
        .env_remove("NETNS_TEST_CAPTURE")
        .output()
        .expect("run setsid");
    let all = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "{all}");
    assert!(
        all.contains("NETNS_TEST_KEEP is set but this test has no terminal to wait on"),
        "{all}"
    );
}
