//! The harness's side: libtest's command line, one trial per test, each run in a fresh sandbox
//! by a process of its own, and its ending turned into libtest's verdict.

use std::process::ExitCode;
use std::time::Duration;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::config::Config;
use crate::harness::{TESTS, TestCase};

/// The `main` of a test binary (see [`crate::main!`]).
pub fn main() -> ExitCode {
    // SAFETY: the top of `main`, before any thread exists.
    #[cfg(target_os = "linux")]
    if let Some((name, limit)) = unsafe { crate::config::take_child_order() } {
        return super::child::run_named(&name, limit, &TESTS, &Config::from_env());
    }
    let config = Config::from_env();
    let args = Arguments::from_args();
    // A test kept on failure prints how to enter its nodes while it waits: that must not sit in
    // a pipe until it ends.
    let capture = !args.nocapture && !config.keep;
    let mut cases: Vec<&'static TestCase> = TESTS.iter().collect();
    cases.sort_by_key(|case| case.full_name());
    #[cfg(target_os = "linux")]
    let mut alone = run_alone(&args, &cases, capture, &config);
    let trials = cases
        .into_iter()
        .map(|case| {
            let name = case.full_name();
            let ignored = case.ignore;
            let config = config.clone();
            #[cfg(target_os = "linux")]
            let preforked = alone
                .take_if(|(alone, _)| *alone == name)
                .map(|(_, forked)| forked);
            #[cfg(not(target_os = "linux"))]
            let preforked = None;
            Trial::ignorable_test(name.clone(), move || {
                let timeout = config.time_limit(case.timeout)?;
                run_trial(&name, capture, timeout, &config, preforked)
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

/// A test process forked without `exec` and waiting in its sandbox, or the refusal that
/// stopped it (see the sandbox's `preforked.rs`).
#[cfg(target_os = "linux")]
type Preforked = crate::Result<crate::sandbox::Waiting>;
#[cfg(not(target_os = "linux"))]
type Preforked = ();

/// When the command line selects exactly one test to run (as cargo-nextest's `--exact NAME`
/// does), forks its sandbox now, while the process has one thread, and in the test process runs
/// it and ends; in the harness, returns its name and the waiting test process. `None` to
/// re-execute as for many tests.
#[cfg(target_os = "linux")]
fn run_alone(
    args: &Arguments,
    cases: &[&'static TestCase],
    capture: bool,
    config: &Config,
) -> Option<(String, Preforked)> {
    use crate::sandbox::{self, Forked};

    if config.reexec || args.list || args.bench || !args.exact || !args.skip.is_empty() {
        return None;
    }
    let name = args.filter.as_deref()?;
    let case = cases.iter().find(|case| case.full_name() == name)?;
    let runs = if args.ignored {
        case.ignore
    } else {
        !case.ignore || args.include_ignored
    };
    let limit = config.time_limit(case.timeout).ok()?;
    if !runs {
        return None;
    }
    // SAFETY: the top of `main`: no thread starts until this returns.
    match unsafe { sandbox::fork_test(capture) }? {
        Ok(Forked::Test(go)) => {
            let code = if go.wait() {
                super::child::run_case(case, limit, config)
            } else {
                0
            };
            let _ = std::io::Write::flush(&mut std::io::stdout());
            sandbox::exit_now(i32::from(code))
        }
        Ok(Forked::Harness(waiting)) => Some((name.to_string(), Ok(waiting))),
        Err(error) => Some((name.to_string(), Err(error))),
    }
}

/// Runs one test in its sandbox and turns its ending into libtest-mimic's verdict. A host that
/// refuses the sandbox fails the test, or skips it when the configuration says so.
#[cfg(target_os = "linux")]
fn run_trial(
    name: &str,
    capture: bool,
    timeout: Option<Duration>,
    config: &Config,
    preforked: Option<Preforked>,
) -> Result<Completion, Failed> {
    use crate::sandbox;

    let ended = match preforked {
        Some(preforked) => preforked.and_then(|waiting| waiting.run(timeout, config.keep)),
        None => sandbox::run_test(name, &[], capture, timeout, config.keep),
    };
    let ended = match ended {
        Ok(ended) => ended,
        Err(crate::Error::Refused(refusal)) => {
            return config
                .on_unsupported
                .verdict(&refusal.to_string())
                .map(Completion::ignored_with)
                .map_err(Failed::from);
        }
        Err(error) => return Err(crate::error::error_chain(&error).into()),
    };
    if ended.status.success() && !ended.timed_out {
        return Ok(Completion::Completed);
    }
    let mut message = ended.output;
    if !message.is_empty() && !message.ends_with('\n') {
        message.push('\n');
    }
    message.push_str("note: ");
    match timeout {
        Some(timeout) if ended.timed_out => message.push_str(&format!(
            "timed out after {}: the test was killed with every process it started",
            netns_test_topology::format_duration(timeout)
        )),
        _ => message.push_str(&sandbox::describe_status(ended.status)),
    }
    Err(message.into())
}

/// The verdict of every test on a system other than Linux: it needs Linux.
#[cfg(not(target_os = "linux"))]
fn run_trial(
    _name: &str,
    _capture: bool,
    _timeout: Option<Duration>,
    config: &Config,
    _preforked: Option<Preforked>,
) -> Result<Completion, Failed> {
    crate::other_os::verdict(config)
        .map(Completion::ignored_with)
        .map_err(Failed::from)
}
