//! Keeping a failed or timed-out test's network up (`NETNS_TEST_KEEP`), seen from outside: the
//! `artifacts_fixture` binary's tests run on a terminal made by `script`, and the printed
//! `nsenter` commands used from the host.

use std::path::Path;
use std::process::Command;

netns_test_suites::artifacts_fixture!();

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

    /// Presses Enter on the test's terminal and waits for it to end; also says whether it was
    /// still waiting for Enter.
    fn press_enter(&mut self) -> (bool, std::process::ExitStatus) {
        use std::io::Write;

        let waiting = self.script.try_wait().unwrap().is_none();
        self.script
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"\n")
            .unwrap();
        (waiting, self.script.wait().unwrap())
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
    let (waiting, status) = kept.press_enter();
    assert!(
        addresses.contains("10.0.1.254/24") && addresses.contains("10.0.2.254/24"),
        "{addresses}"
    );
    assert!(ruleset.contains("table inet artifacts_check"), "{ruleset}");
    assert!(waiting, "the test did not wait for Enter");
    assert_eq!(status.code(), Some(101));
}

/// With `NETNS_TEST_KEEP`, a failed test's scratch directory is there while its network is held,
/// and stays with its artifacts after.
#[test]
fn a_kept_failure_keeps_its_scratch_directory() {
    use std::io::Write;

    let mut kept = Kept::start_test("exec \"$0\" \"$@\"", "scratch_with_a_failure");
    let line = kept.wait_for("the files the test left in its scratch directory (TMPDIR): ");
    let scratch = std::path::PathBuf::from(line.rsplit_once("(TMPDIR): ").unwrap().1);
    kept.wait_for("until you press Enter");
    let held = std::fs::read_to_string(scratch.join("server.log"));
    kept.script
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"\n")
        .unwrap();
    let status = kept.script.wait().unwrap();
    assert_eq!(held.ok().as_deref(), Some("kept\n"), "{}", kept.seen);
    assert_eq!(status.code(), Some(101));
    let after = std::fs::read_to_string(scratch.join("server.log"));
    assert_eq!(after.ok().as_deref(), Some("kept\n"), "{}", kept.seen);
    assert!(scratch.starts_with(&kept._base.0), "{}", scratch.display());
}

/// With `NETNS_TEST_KEEP`, a test past its time limit keeps its network up for the user as a
/// failure does, however long they take: the harness does not kill it.
#[test]
fn a_kept_timeout_stays_up_until_enter() {
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
    let (waiting, status) = kept.press_enter();
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
