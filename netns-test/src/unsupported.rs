//! What a test does on a machine that cannot run it: fail (the default) or, when asked, skip.
//!
//! A CI matrix may include machines without usable namespaces (a locked-down container, another
//! operating system). There, `NETNS_TEST_UNSUPPORTED=skip` reports each test as ignored, with the
//! reason, instead of failed. It is never the default: a suite that cannot run must not look
//! green unless someone asked for that.

/// The environment variable that chooses.
pub const UNSUPPORTED_ENV: &str = "NETNS_TEST_UNSUPPORTED";

/// What to do when the machine cannot run a test.
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
    pub(crate) fn from_env() -> OnUnsupported {
        OnUnsupported::parse(std::env::var(UNSUPPORTED_ENV).ok().as_deref())
    }

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
}
