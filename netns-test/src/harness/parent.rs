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
    #[cfg(target_os = "linux")]
    let server = if alone.is_none() {
        fork_server(&args, &config)
    } else {
        None
    };
    #[cfg(not(target_os = "linux"))]
    let server: Option<Server> = None;
    let trials = cases
        .into_iter()
        .map(|case| {
            let name = case.full_name();
            let ignored = case.ignore;
            let config = config.clone();
            let server = server.clone();
            #[cfg(target_os = "linux")]
            let preforked = alone
                .take_if(|(alone, _)| *alone == name)
                .map(|(_, forked)| forked);
            #[cfg(not(target_os = "linux"))]
            let preforked = None;
            Trial::ignorable_test(name.clone(), move || {
                let timeout = config.time_limit(case.timeout)?;
                run_trial(
                    &name,
                    capture,
                    timeout,
                    &config,
                    preforked,
                    server.as_deref(),
                )
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

/// The fork server that forks each test's sandbox (see the sandbox's `server.rs`).
#[cfg(target_os = "linux")]
type Server = std::sync::Arc<crate::sandbox::ForkServer>;
#[cfg(not(target_os = "linux"))]
type Server = std::sync::Arc<()>;

/// Forks the fork server now, while the process has one thread, unless the command line only
/// lists (`--list` must cost nothing) or [`REEXEC_ENV`](crate::config::REEXEC_ENV) asks for a
/// re-execution per test. A server that cannot start is said on stderr: every test then
/// re-executes the binary.
#[cfg(target_os = "linux")]
fn fork_server(args: &Arguments, config: &Config) -> Option<Server> {
    if config.reexec || args.list {
        return None;
    }
    let tests = config.clone();
    let run = move |name: &str, limit: Option<Duration>| match TESTS
        .iter()
        .find(|case| case.full_name() == name)
    {
        Some(case) => super::child::run_case(case, limit, &tests),
        None => {
            eprintln!("netns-test: this binary has no test named `{name}`");
            super::child::SETUP_FAILED
        }
    };
    // SAFETY: the top of `main`: no thread starts until this returns.
    match unsafe { crate::sandbox::start_fork_server(run) } {
        Ok(server) => Some(std::sync::Arc::new(server)),
        Err(error) => {
            eprintln!(
                "netns-test: cannot start the fork server ({error}); each test re-executes the \
                 test binary instead (set {}=1 to choose that)",
                crate::config::REEXEC_ENV
            );
            None
        }
    }
}

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
    server: Option<&crate::sandbox::ForkServer>,
) -> Result<Completion, Failed> {
    use crate::sandbox;

    let served = server.map(|server| server.run_test(name, capture, timeout, config.keep));
    let ended = match (preforked, served) {
        (Some(preforked), _) => preforked.and_then(|waiting| waiting.run(timeout, config.keep)),
        (None, Some(Ok(ended))) => ended,
        (None, Some(Err(gone))) => {
            warn_server_gone(&gone);
            sandbox::run_test(name, &[], capture, timeout, config.keep)
        }
        (None, None) => sandbox::run_test(name, &[], capture, timeout, config.keep),
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

/// Says once on stderr that the fork server is gone and tests re-execute from now on.
#[cfg(target_os = "linux")]
fn warn_server_gone(why: &str) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        eprintln!(
            "netns-test: {why}; each test re-executes the test binary from now on (set {}=1 \
             to choose that)",
            crate::config::REEXEC_ENV
        );
    });
}

/// The verdict of every test on a system other than Linux: it needs Linux.
#[cfg(not(target_os = "linux"))]
fn run_trial(
    _name: &str,
    _capture: bool,
    _timeout: Option<Duration>,
    config: &Config,
    _preforked: Option<Preforked>,
    _server: Option<&()>,
) -> Result<Completion, Failed> {
    crate::other_os::verdict(config)
        .map(Completion::ignored_with)
        .map_err(Failed::from)
}
