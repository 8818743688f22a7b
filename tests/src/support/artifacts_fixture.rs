//! Running the `artifacts_fixture` binary and reading what it leaves, for the suites that drive
//! it: `tests/artifacts.rs` (node files, artifact folders), `tests/capture.rs` (packet capture)
//! and `tests/keep.rs` (`NETNS_TEST_KEEP`).
//!
//! Where the binary is can only be known in the suite itself (`CARGO_BIN_EXE_artifacts_fixture`
//! is set when an integration test is compiled, not this library), so what depends on it is made
//! in the suite by [`artifacts_fixture!`](crate::artifacts_fixture); the rest is here.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// Something no other run uses: a folder name, a payload to look for in a capture.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

#[derive(Debug)]
pub struct Run {
    pub output: Output,
    pub stdout: String,
}

/// Runs the fixture at `path` with `args`, artifacts under `base` (or the default place if
/// `None`), the payloads carrying `marker`, and `env` on top.
pub fn run(
    path: &Path,
    args: &[&str],
    base: Option<&Path>,
    marker: &str,
    env: &[(&str, &str)],
) -> Run {
    let mut command = Command::new(path);
    command
        .args(args)
        .env_remove("NETNS_TEST_ARTIFACTS")
        .env_remove("NETNS_TEST_CAPTURE")
        .env_remove("NETNS_TEST_KEEP")
        .env("ARTIFACTS_MARKER", marker);
    if let Some(base) = base {
        command.env("NETNS_TEST_ARTIFACTS", base);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("run the fixture binary");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
        output,
    }
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The interfaces (`client:eth0`) on which tshark finds a frame carrying `marker`, in the
/// order of the file.
pub fn interfaces_carrying(capture: &Path, marker: &str) -> Vec<String> {
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

/// Makes, in the suite that calls it, what depends on where the `artifacts_fixture` binary is:
/// `fixture_path()`, `target_dir()`, `Base` (a fresh artifact base folder under the target
/// directory) and `fixture(args, base, marker, env)`.
#[macro_export]
macro_rules! artifacts_fixture {
    () => {
        /// The fixture binary: where cargo built it, or where cargo-nextest unpacked it from an
        /// archive.
        #[allow(dead_code)]
        fn fixture_path() -> std::path::PathBuf {
            std::env::var_os("NEXTEST_BIN_EXE_artifacts_fixture")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    std::path::PathBuf::from(env!("CARGO_BIN_EXE_artifacts_fixture"))
                })
        }

        /// The target directory the fixture lives in (`<target>/<profile>/artifacts_fixture`).
        #[allow(dead_code)]
        fn target_dir() -> std::path::PathBuf {
            let fixture = fixture_path();
            fixture
                .parent()
                .and_then(std::path::Path::parent)
                .expect("the fixture lives in <target>/<profile>")
                .to_path_buf()
        }

        /// A fresh artifact base folder, removed when the test that made it passes.
        #[allow(dead_code)]
        struct Base(std::path::PathBuf);

        #[allow(dead_code)]
        impl Base {
            fn new() -> Base {
                let dir = target_dir()
                    .join("artifacts-suite")
                    .join($crate::support::artifacts_fixture::unique("run"));
                std::fs::create_dir_all(&dir).expect("create the base folder");
                Base(dir)
            }

            fn test_dir(&self, test: &str) -> std::path::PathBuf {
                self.0.join("artifacts_fixture").join(test)
            }
        }

        impl Drop for Base {
            fn drop(&mut self) {
                if !std::thread::panicking() {
                    let _ = std::fs::remove_dir_all(&self.0);
                    let _ = std::fs::remove_dir(self.0.parent().unwrap());
                }
            }
        }

        /// Runs the fixture with `args`, artifacts under `base` (or the default place if
        /// `None`), the payloads carrying `marker`, and `env` on top.
        #[allow(dead_code)]
        fn fixture(
            args: &[&str],
            base: Option<&Base>,
            marker: &str,
            env: &[(&str, &str)],
        ) -> $crate::support::artifacts_fixture::Run {
            $crate::support::artifacts_fixture::run(
                &fixture_path(),
                args,
                base.map(|base| base.0.as_path()),
                marker,
                env,
            )
        }
    };
}
