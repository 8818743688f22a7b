//! A test starts from clean state, however the harness starts it: forked without `exec` when it
//! runs alone (as under cargo-nextest), forked by the fork server when many run in one process
//! (as under `cargo test`), or re-executed (`__NETNS_TEST_REEXEC=1`). The `isolation_fixture`
//! tests look at their own process: descriptors, threads, statics, thread-locals, runtimes.
//! Each run here also hands the fixture a descriptor without close-on-exec, as a careless caller
//! would: no test may see it.

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The fixture binary, wherever this run has it.
fn fixture_binary() -> String {
    netns_test_suites::fixture_binary!("isolation_fixture")
}

/// The descriptor number the fixture inherits from its caller.
const INHERITED: i32 = 9;

/// The fixture with `args`, holding [`INHERITED`] open; the old re-exec path if `reexec`.
///
/// Each run gets an artifact folder of its own: this suite runs the fixture several times at
/// once, and two runs of one test in one folder would share its scratch directory, which the
/// first to pass removes under the other.
fn fixture(args: &[&str], reexec: bool) -> (Command, Artifacts) {
    let artifacts = Artifacts(
        std::path::Path::new(&fixture_binary())
            .with_file_name("isolation-suite")
            .join(netns_test_suites::support::artifacts_fixture::unique("run")),
    );
    let mut command = Command::new(fixture_binary());
    command
        .args(args)
        .env_remove("NETNS_TEST_TIMEOUT")
        .env("NETNS_TEST_ARTIFACTS", &artifacts.0);
    if reexec {
        command.env("__NETNS_TEST_REEXEC", "1");
    }
    let file = fs::File::open(fixture_binary()).expect("open the fixture");
    // SAFETY: dup2 is async-signal-safe; the new descriptor has no close-on-exec flag.
    unsafe {
        command.pre_exec(move || {
            if nix::libc::dup2(file.as_raw_fd(), INHERITED) == INHERITED {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    (command, artifacts)
}

/// A run's artifact folder, removed when the run is over (what a failed test leaves there is
/// in the fixture's output already).
struct Artifacts(std::path::PathBuf);

impl Drop for Artifacts {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs the fixture with `args`; the old re-exec path if `reexec`.
fn run(args: &[&str], reexec: bool) -> (bool, String) {
    let (mut command, _artifacts) = fixture(args, reexec);
    let output = command.output().expect("run the isolation fixture");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

const ALONE: [&str; 5] = [
    "descriptors_are_its_own",
    "one_thread",
    "statics_first",
    "statics_second",
    "runtime_first",
];

#[test]
fn a_test_run_alone_starts_clean() {
    for name in ALONE {
        let (passed, output) = run(&["--exact", name], false);
        assert!(passed, "{name} failed:\n{output}");
        assert!(output.contains(&format!("test {name} ... ok")), "{output}");
    }
}

/// The re-executed path gives the same descriptors, threads and statics.
#[test]
fn a_re_executed_test_starts_clean_too() {
    for name in ALONE {
        let (passed, output) = run(&["--exact", name], true);
        assert!(passed, "{name} failed:\n{output}");
    }
}

#[test]
fn a_test_run_alone_under_nocapture_prints_as_before() {
    let (passed, output) = run(
        &["--exact", "descriptors_are_its_own", "--nocapture"],
        false,
    );
    assert!(passed, "{output}");
    assert!(
        output.contains("open descriptors: [(0, \"/dev/null\")"),
        "{output}"
    );
}

/// Every test of the fixture, many at once: each forked by the fork server (or re-executed),
/// none sees what another changed, nor a descriptor of the harness or of its caller.
#[test]
fn many_tests_each_start_clean() {
    for reexec in [false, true] {
        for threads in ["1", "2"] {
            let (passed, output) = run(&["--test-threads", threads, "--skip", "holds_"], reexec);
            assert!(passed, "re-exec {reexec}, {threads} threads:\n{output}");
            assert!(output.contains("6 passed"), "{output}");
            assert!(
                !output.contains("fork server"),
                "the fork server was not used, or said something:\n{output}"
            );
        }
    }
}

/// Starts the fixture with `args` under the fork server and waits until the server is there;
/// returns the harness, the server's pid and the run's artifact folder.
#[allow(
    clippy::zombie_processes,
    reason = "the harness is returned, and every caller waits for it"
)]
fn with_fork_server(args: &[&str]) -> (std::process::Child, u32, Artifacts) {
    let (mut command, artifacts) = fixture(args, false);
    let mut harness = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the isolation fixture");
    let children = format!("/proc/{0}/task/{0}/children", harness.id());
    let started = Instant::now();
    loop {
        let text = fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = text.split_whitespace().next().and_then(|p| p.parse().ok()) {
            return (harness, pid, artifacts);
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = harness.kill();
            let _ = harness.wait();
            panic!("the harness started no fork server");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The process every test is forked from under `cargo test` has one thread and holds nothing
/// of the harness's but stdio and its socket.
#[test]
fn the_fork_server_holds_one_thread_and_its_socket() {
    let (harness, server, _artifacts) =
        with_fork_server(&["holds_the_run_open", "--test-threads", "2"]);
    // Read once the server serves a test (it holds that test's keeper's pidfd): by then it
    // has dropped all it inherited, which it does first.
    let started = Instant::now();
    let (threads, fds) = loop {
        let threads = fs::read_dir(format!("/proc/{server}/task")).map(|t| t.count());
        let mut fds: Vec<(u32, String)> = fs::read_dir(format!("/proc/{server}/fd"))
            .expect("list the server's descriptors")
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let fd = entry.file_name().to_str()?.parse().ok()?;
                let target = fs::read_link(entry.path()).ok()?.display().to_string();
                Some((fd, target))
            })
            .collect();
        fds.sort();
        if fds.iter().any(|(_, target)| target.contains("pidfd"))
            || started.elapsed() > Duration::from_secs(10)
        {
            break (threads, fds);
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let output = harness.wait_with_output().expect("wait for the fixture");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(threads.ok(), Some(1), "threads of the fork server");
    let beyond_stdio: Vec<_> = fds.iter().filter(|(fd, _)| *fd > 2).collect();
    // Its socket, and while a test runs, that test's channel and its keeper's pidfd.
    assert!(
        beyond_stdio
            .iter()
            .all(|(_, target)| target.starts_with("socket:[") || target.contains("pidfd")),
        "descriptors of the fork server: {fds:?}"
    );
    assert!(
        !fds.iter().any(|(fd, _)| *fd == INHERITED as u32),
        "the fork server kept its caller's descriptor: {fds:?}"
    );
}

/// A fork server killed during the run is not a silent change: the test it was running fails
/// saying so, the harness says that the tests re-execute from then on, and they pass.
#[test]
fn a_killed_fork_server_is_reported_and_the_run_goes_on() {
    let (harness, server, _artifacts) = with_fork_server(&["--test-threads", "1"]);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the fork server");
    let output = harness.wait_with_output().expect("wait for the fixture");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("each test re-executes the test binary from now on"),
        "{text}"
    );
    for last in ["statics_first", "statics_second"] {
        let passed = text.lines().any(|line| {
            line.strip_prefix("test ")
                .and_then(|rest| rest.strip_prefix(last))
                .is_some_and(|rest| rest.trim_start() == "... ok")
        });
        assert!(passed, "{last} did not pass:\n{text}");
    }
    for line in text.lines().filter(|line| line.ends_with("FAILED")) {
        assert!(
            text.contains("the fork server ended before the test process did"),
            "{line} failed for another reason:\n{text}"
        );
    }
}
