//! Every knob of a run: the `NETNS_TEST_*` environment variables, read once, at the top.
//!
//! The harness reads [`Config`] when its `main` starts, and so does a test process when it
//! starts inside its sandbox; everything below them takes the values it needs as parameters.
//! So a reader finds every knob here, and a test of a lower layer sets a knob by passing it.
//!
//! | variable | meaning | values |
//! |---|---|---|
//! | [`TIMEOUT_ENV`] | the time limit of every test without a `timeout = "..."` | a duration: `30s`, `1.5m` |
//! | [`UNSUPPORTED_ENV`] | a test this machine cannot run: failed or ignored | `fail` (default), `skip` |
//! | [`KEEP_ENV`] | a failed test keeps its network up for the user to enter | `1` (anything but `0` or nothing) |
//! | [`CAPTURE_ENV`] | the packet capture of every test of the run | `off`, `on-failure`, `always`, each but `off` with `,both-ends` |
//! | [`ARTIFACTS_ENV`] | where failed tests leave their folders | a directory |
//! | [`DNS_ENV`] | the test's DNS responder for node names | `on` (default), `off` |
//! | [`IMPAIR_ENV`] | what carries `delay=` and `loss=` | `auto` (default: netem if the kernel has it, else the relay), `netem`, `relay` |
//!
//! Without [`ARTIFACTS_ENV`], and for a test binary that is in no cargo target directory, the
//! artifacts go to the first of `$XDG_STATE_HOME/netns-test`, `$HOME/.local/state/netns-test`
//! and `$TMPDIR/netns-test-<uid>` (`/tmp` without `TMPDIR`) that can be used; those variables
//! are read here too ([`ArtifactPlaces`]).
//!
//! Two more variables are the harness's own word to the test process it starts, not knobs:
//! which test to run ([`CHILD_ENV`]) and its time limit ([`LIMIT_ENV`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::failure::CaptureMode;
#[cfg(target_os = "linux")]
use crate::kernel::relay::Choice;

/// The environment variable that gives every test without a `timeout = "..."` a time limit:
/// `NETNS_TEST_TIMEOUT=30s` (any duration: `500ms`, `1.5s`, `2m`).
pub const TIMEOUT_ENV: &str = "NETNS_TEST_TIMEOUT";

/// The environment variable that chooses what a test does on a machine that cannot run it:
/// `fail` (the default) or `skip` (reported as ignored, with the reason).
pub const UNSUPPORTED_ENV: &str = "NETNS_TEST_UNSUPPORTED";

/// The environment variable that keeps the network of a failed test up: `NETNS_TEST_KEEP=1`.
pub const KEEP_ENV: &str = "NETNS_TEST_KEEP";

/// The environment variable that sets the capture of every test of the run:
/// `NETNS_TEST_CAPTURE=off|on-failure|always`, over what the attributes say; `both-ends`
/// (alone or after a comma: `always,both-ends`) keeps each frame at both ends of its link.
pub const CAPTURE_ENV: &str = "NETNS_TEST_CAPTURE";

/// The environment variable that chooses the base folder of the artifacts:
/// `NETNS_TEST_ARTIFACTS=<dir>` puts a failed test's folder at `<dir>/<binary>/<test>/`.
pub const ARTIFACTS_ENV: &str = "NETNS_TEST_ARTIFACTS";

/// The environment variable that turns off the DNS responder of every test:
/// `NETNS_TEST_DNS=off`. Node names then resolve through `/etc/hosts` alone, and a lookup it
/// does not settle still fails at once: the test's `/etc/resolv.conf` points at `[::1]:53` in
/// the node, where nothing answers unless the test runs a server there. The host's resolver
/// configuration is not used either way.
pub const DNS_ENV: &str = "NETNS_TEST_DNS";
/// The environment variable that chooses what carries `delay=` and `loss=`:
/// `NETNS_TEST_IMPAIR=auto|netem|relay`. `auto` (the default) uses the kernel's netem where it
/// has it and the userspace relay where it does not; `relay` forces the relay even where netem
/// exists (so that both paths can be tested on one machine); `netem` forces netem, and fails
/// every test that needs it on a kernel without it.
pub const IMPAIR_ENV: &str = "NETNS_TEST_IMPAIR";

/// The environment variable that tells a re-executed test binary which test to run inside its
/// sandbox.
#[cfg(target_os = "linux")]
pub(crate) const CHILD_ENV: &str = "__NETNS_TEST_CHILD";

/// The environment variable in which the harness gives the test process its time limit, in
/// microseconds.
#[cfg(target_os = "linux")]
pub(crate) const LIMIT_ENV: &str = "__NETNS_TEST_TIME_LIMIT_US";

/// The environment variable that makes the harness start every test by re-executing the test
/// binary, as it did before tests ran in processes forked without `exec` (by the fork server,
/// or from the top of `main` for a test run alone) (`__NETNS_TEST_REEXEC=1`): for the benchmark,
/// which compares the two in one run, and for a user who suspects the fork (see the sandbox's
/// module docs).
#[doc(hidden)]
pub const REEXEC_ENV: &str = "__NETNS_TEST_REEXEC";

/// The settings of a run, from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    /// [`TIMEOUT_ENV`]: the default time limit, or why it cannot be read (which fails every test
    /// that has no `timeout` of its own, rather than run it without the limit it was meant to
    /// have).
    pub(crate) timeout: Result<Option<Duration>, String>,
    /// [`UNSUPPORTED_ENV`].
    pub(crate) on_unsupported: OnUnsupported,
    /// [`KEEP_ENV`].
    pub(crate) keep: bool,
    /// [`CAPTURE_ENV`]: the mode that overrides the attributes', or why it cannot be read.
    pub(crate) capture: Result<Option<CaptureMode>, String>,
    /// [`ARTIFACTS_ENV`], and the places used without it.
    pub(crate) artifacts: ArtifactPlaces,
    /// [`REEXEC_ENV`]: every test re-executes the binary, even one run alone.
    pub(crate) reexec: bool,
    /// [`DNS_ENV`]: whether the DNS responder runs, or why the variable cannot be read.
    #[cfg(target_os = "linux")]
    pub(crate) dns: Result<crate::dns::Dns, String>,
    /// [`IMPAIR_ENV`], or why it cannot be read (which fails every test that builds a network).
    #[cfg(target_os = "linux")]
    pub(crate) impair: Result<Choice, String>,
}

impl Config {
    /// Reads every variable.
    pub(crate) fn from_env() -> Config {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        Config {
            timeout: read_timeout(std::env::var(TIMEOUT_ENV)),
            on_unsupported: OnUnsupported::parse(std::env::var(UNSUPPORTED_ENV).ok().as_deref()),
            keep: var(KEEP_ENV).is_some_and(|value| value != "0"),
            capture: read_capture(std::env::var(CAPTURE_ENV)),
            artifacts: ArtifactPlaces::new(
                var(ARTIFACTS_ENV).map(PathBuf::from),
                var("XDG_STATE_HOME").map(PathBuf::from),
                var("HOME").map(PathBuf::from),
                var("TMPDIR").map(PathBuf::from),
                host_uid(),
            ),
            reexec: var(REEXEC_ENV).is_some_and(|value| value != "0"),
            #[cfg(target_os = "linux")]
            dns: read_dns(std::env::var(DNS_ENV)),
            #[cfg(target_os = "linux")]
            impair: read_impair(std::env::var(IMPAIR_ENV)),
        }
    }

    /// The time limit of a test that declares `declared`: its own, else the run's default.
    pub(crate) fn time_limit(
        &self,
        declared: Option<Duration>,
    ) -> Result<Option<Duration>, String> {
        match declared {
            Some(limit) => Ok(Some(limit)),
            None => self.timeout.clone(),
        }
    }

    /// The capture mode of a test whose attribute asked for `declared`: the run's, if set.
    #[cfg(target_os = "linux")]
    pub(crate) fn capture_mode(&self, declared: CaptureMode) -> Result<CaptureMode, String> {
        self.capture.clone().map(|run| run.unwrap_or(declared))
    }
}

/// Where the artifact folders of a run go: [`ARTIFACTS_ENV`] if set; else the target
/// directory the test binary was built in (found from the binary's path, not from here); else,
/// for a binary copied out of its target directory, a place that belongs to the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ArtifactPlaces {
    /// [`ARTIFACTS_ENV`]: the base the user chose.
    pub(crate) chosen: Option<PathBuf>,
    /// `$XDG_STATE_HOME/netns-test`, else `$HOME/.local/state/netns-test` (the XDG base
    /// directory specification's place for state worth keeping but not for backups); `None`
    /// without either (a relative value does not count, as the specification says).
    pub(crate) state: Option<PathBuf>,
    /// `$TMPDIR/netns-test-<uid>`, `/tmp` without `TMPDIR`, with the user's uid on the host:
    /// the last resort, used only if it is a folder of the user's that no one else may write.
    pub(crate) tmp: PathBuf,
}

impl ArtifactPlaces {
    fn new(
        chosen: Option<PathBuf>,
        xdg_state_home: Option<PathBuf>,
        home: Option<PathBuf>,
        tmpdir: Option<PathBuf>,
        uid: u32,
    ) -> ArtifactPlaces {
        let state = match (xdg_state_home.filter(|p| p.is_absolute()), home) {
            (Some(state), _) => Some(state.join("netns-test")),
            (None, Some(home)) if home.is_absolute() => Some(home.join(".local/state/netns-test")),
            (None, _) => None,
        };
        let tmp = tmpdir
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| PathBuf::from("/tmp"))
            .join(format!("netns-test-{uid}"));
        ArtifactPlaces { chosen, state, tmp }
    }
}

/// The uid of the user who runs the tests, as the host sees it: the same outside the sandbox
/// and inside, where the process is uid 0 of its own user namespace (`/proc/self/uid_map` says
/// which host uid that is).
fn host_uid() -> u32 {
    let euid = nix::unistd::geteuid().as_raw();
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    map.lines()
        .find_map(|line| {
            let mut fields = line.split_whitespace().map(|f| f.parse::<u32>().ok());
            let (inside, outside, count) = (fields.next()??, fields.next()??, fields.next()??);
            (euid >= inside && euid - inside < count).then(|| outside + (euid - inside))
        })
        .unwrap_or(euid)
}

/// What the harness asked of this process, if it is a test process it started: the test to run
/// and its time limit. Both variables are removed, so that programs the test starts do not see
/// them.
///
/// # Safety
///
/// Call it at the top of `main`, before any other thread exists (it changes the environment).
#[cfg(target_os = "linux")]
pub(crate) unsafe fn take_child_order() -> Option<(String, Option<Duration>)> {
    let name = std::env::var_os(CHILD_ENV)?.to_string_lossy().into_owned();
    let limit = child_time_limit();
    // SAFETY: the caller promises one thread.
    unsafe {
        std::env::remove_var(CHILD_ENV);
        std::env::remove_var(LIMIT_ENV);
    }
    Some((name, limit))
}

/// The time limit the harness gave this test process, under libtest's harness, where the
/// environment cannot be changed (see [`take_child_order`]).
#[cfg(target_os = "linux")]
pub(crate) fn child_time_limit() -> Option<Duration> {
    let micros = std::env::var(LIMIT_ENV).ok()?.parse().ok()?;
    Some(Duration::from_micros(micros))
}

fn read_timeout(value: Result<String, std::env::VarError>) -> Result<Option<Duration>, String> {
    match value {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => netns_test_topology::parse_timeout(&text)
            .map(Some)
            .map_err(|message| format!("{TIMEOUT_ENV}: {message}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "{TIMEOUT_ENV} is not valid UTF-8: write a duration such as `30s`"
        )),
    }
}

#[cfg(target_os = "linux")]
fn read_impair(value: Result<String, std::env::VarError>) -> Result<Choice, String> {
    match value {
        Ok(text) => {
            Choice::parse(Some(&text)).map_err(|message| format!("{IMPAIR_ENV}: {message}"))
        }
        Err(_) => Ok(Choice::Auto),
    }
}

fn read_capture(value: Result<String, std::env::VarError>) -> Result<Option<CaptureMode>, String> {
    let Ok(value) = value else {
        return Ok(None);
    };
    CaptureMode::parse(&value).map(Some).ok_or_else(|| {
        format!(
            "{CAPTURE_ENV} must be `off`, `on-failure`, `always`, `both-ends` or \
             `always,both-ends`, not `{value}`"
        )
    })
}

#[cfg(target_os = "linux")]
fn read_dns(value: Result<String, std::env::VarError>) -> Result<crate::dns::Dns, String> {
    use crate::dns::Dns;
    match value.as_deref().map(str::trim) {
        Err(std::env::VarError::NotPresent) | Ok("" | "on") => Ok(Dns::On),
        Ok("off") => Ok(Dns::Off),
        Ok(other) => Err(format!("{DNS_ENV} must be `on` or `off`, not `{other}`")),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("{DNS_ENV} is not valid UTF-8: write `on` or `off`"))
        }
    }
}

/// What a test does on a machine that cannot run it: fail (the default) or, when asked, skip.
///
/// A CI matrix may include machines without usable namespaces (a locked-down container, another
/// operating system). There, `NETNS_TEST_UNSUPPORTED=skip` reports each test as ignored, with the
/// reason, instead of failed. It is never the default: a suite that cannot run must not look
/// green unless someone asked for that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OnUnsupported {
    /// Report the test as failed, with the reason.
    Fail,
    /// Report the test as ignored, with the reason.
    Skip,
    /// The variable holds something else: fail, and say what it holds.
    Invalid(String),
}

impl OnUnsupported {
    fn parse(value: Option<&str>) -> OnUnsupported {
        match value {
            None | Some("" | "fail") => OnUnsupported::Fail,
            Some("skip") => OnUnsupported::Skip,
            Some(other) => OnUnsupported::Invalid(other.to_string()),
        }
    }

    /// Turns the reason a test cannot run here into its verdict: `Ok(reason)` to report it
    /// ignored, `Err(message)` to report it failed.
    pub(crate) fn verdict(&self, reason: &str) -> Result<String, String> {
        match self {
            OnUnsupported::Skip => Ok(format!("cannot run here: {reason}")),
            OnUnsupported::Fail => Err(format!(
                "{reason}\n(set {UNSUPPORTED_ENV}=skip to report such tests as ignored instead)"
            )),
            OnUnsupported::Invalid(value) => Err(format!(
                "{reason}\n({UNSUPPORTED_ENV} is `{value}`; it takes `skip` or `fail`)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_is_the_default() {
        assert_eq!(OnUnsupported::parse(None), OnUnsupported::Fail);
        assert_eq!(OnUnsupported::parse(Some("")), OnUnsupported::Fail);
        assert_eq!(OnUnsupported::parse(Some("fail")), OnUnsupported::Fail);
        let message = OnUnsupported::Fail.verdict("no namespaces").unwrap_err();
        assert!(message.starts_with("no namespaces"), "{message}");
        assert!(message.contains("NETNS_TEST_UNSUPPORTED=skip"), "{message}");
    }

    #[test]
    fn skip_reports_the_reason() {
        assert_eq!(OnUnsupported::parse(Some("skip")), OnUnsupported::Skip);
        assert_eq!(
            OnUnsupported::Skip.verdict("no namespaces"),
            Ok("cannot run here: no namespaces".into())
        );
    }

    #[test]
    fn anything_else_fails_and_says_so() {
        let choice = OnUnsupported::parse(Some("yes"));
        let message = choice.verdict("no namespaces").unwrap_err();
        assert!(message.contains("is `yes`"), "{message}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_impairment_path_is_auto_unless_asked() {
        assert_eq!(
            read_impair(Err(std::env::VarError::NotPresent)),
            Ok(Choice::Auto)
        );
        assert_eq!(read_impair(Ok("relay".into())), Ok(Choice::Relay));
        let error = read_impair(Ok("tc".into())).unwrap_err();
        assert!(
            error.starts_with("NETNS_TEST_IMPAIR: `tc` is not"),
            "{error}"
        );
    }

    #[test]
    fn timeouts_take_every_duration_and_say_what_is_wrong() {
        assert_eq!(
            read_timeout(Ok("1.5s".into())),
            Ok(Some(Duration::from_millis(1500)))
        );
        assert_eq!(read_timeout(Ok(" ".into())), Ok(None));
        assert_eq!(read_timeout(Err(std::env::VarError::NotPresent)), Ok(None));
        let error = read_timeout(Ok("10".into())).unwrap_err();
        assert!(
            error.starts_with("NETNS_TEST_TIMEOUT: `10` needs a unit"),
            "{error}"
        );
    }

    #[test]
    fn artifacts_without_a_target_go_to_the_users_state_then_to_a_folder_of_the_uid() {
        let p = |s: &str| Some(PathBuf::from(s));
        let places = ArtifactPlaces::new(None, p("/x/state"), p("/home/u"), None, 1000);
        assert_eq!(places.state, p("/x/state/netns-test"));
        assert_eq!(places.tmp, PathBuf::from("/tmp/netns-test-1000"));
        let places = ArtifactPlaces::new(None, p("relative"), p("/home/u"), p("/t"), 7);
        assert_eq!(places.state, p("/home/u/.local/state/netns-test"));
        assert_eq!(places.tmp, PathBuf::from("/t/netns-test-7"));
        let places = ArtifactPlaces::new(p("/chosen"), None, None, None, 0);
        assert_eq!((places.chosen, places.state), (p("/chosen"), None));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_uid_is_the_hosts() {
        // Outside any sandbox here: the map is the identity.
        assert_eq!(host_uid(), nix::unistd::geteuid().as_raw());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_run_capture_wins_over_the_attribute() {
        let config = |capture| Config {
            timeout: Ok(None),
            on_unsupported: OnUnsupported::Fail,
            keep: false,
            capture,
            artifacts: ArtifactPlaces::default(),
            reexec: false,
            dns: Ok(crate::dns::Dns::On),
            #[cfg(target_os = "linux")]
            impair: Ok(Choice::Auto),
        };
        assert_eq!(
            config(Ok(None)).capture_mode(CaptureMode::OnFailure),
            Ok(CaptureMode::OnFailure)
        );
        assert_eq!(
            config(read_capture(Ok("always".into()))).capture_mode(CaptureMode::Off),
            Ok(CaptureMode::Always)
        );
        let error = read_capture(Ok("yes".into())).unwrap_err();
        assert!(error.contains("not `yes`"), "{error}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn dns_is_on_unless_turned_off() {
        use crate::dns::Dns;
        assert_eq!(read_dns(Err(std::env::VarError::NotPresent)), Ok(Dns::On));
        assert_eq!(read_dns(Ok("on".into())), Ok(Dns::On));
        assert_eq!(read_dns(Ok("off".into())), Ok(Dns::Off));
        let error = read_dns(Ok("no".into())).unwrap_err();
        assert_eq!(error, "NETNS_TEST_DNS must be `on` or `off`, not `no`");
    }
}
