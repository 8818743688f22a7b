//! When a test's packets are captured: what the attribute and the run ask for.

/// When a test's packets are captured and kept, and whether each frame is kept once (as it left
/// its sender) or as seen at both ends of its link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaptureMode {
    /// No capture.
    #[default]
    Off,
    /// Capture, and keep the file when the test fails.
    OnFailure,
    /// Capture, and keep the file whether the test passes or fails.
    Always,
    /// As [`CaptureMode::OnFailure`], with each frame at both ends of its link.
    OnFailureBothEnds,
    /// As [`CaptureMode::Always`], with each frame at both ends of its link.
    AlwaysBothEnds,
}

impl CaptureMode {
    /// Reads the value of [`CAPTURE_ENV`](crate::CAPTURE_ENV): `off`, or a comma-separated
    /// list of at most one of `on-failure` (the default) and `always`, and `both-ends`.
    pub(crate) fn parse(value: &str) -> Option<CaptureMode> {
        let value = value.trim();
        if value.is_empty() || value == "off" {
            return Some(CaptureMode::Off);
        }
        let (mut always, mut on_failure, mut both) = (false, false, false);
        for word in value.split(',').map(str::trim) {
            let seen = match word {
                "always" => &mut always,
                "on-failure" => &mut on_failure,
                "both-ends" => &mut both,
                _ => return None,
            };
            if *seen {
                return None;
            }
            *seen = true;
        }
        match (always, on_failure, both) {
            (true, true, _) => None,
            (true, false, false) => Some(CaptureMode::Always),
            (true, false, true) => Some(CaptureMode::AlwaysBothEnds),
            (false, _, false) => Some(CaptureMode::OnFailure),
            (false, _, true) => Some(CaptureMode::OnFailureBothEnds),
        }
    }

    /// Whether the file is kept when the test passes.
    #[cfg(target_os = "linux")]
    pub(crate) fn keeps_passing(self) -> bool {
        matches!(self, CaptureMode::Always | CaptureMode::AlwaysBothEnds)
    }

    /// Whether each frame is kept at both ends of its link, rather than once.
    #[cfg(target_os = "linux")]
    pub(crate) fn both_ends(self) -> bool {
        matches!(
            self,
            CaptureMode::OnFailureBothEnds | CaptureMode::AlwaysBothEnds
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_have_plain_names() {
        assert_eq!(CaptureMode::parse("always"), Some(CaptureMode::Always));
        assert_eq!(
            CaptureMode::parse("on-failure"),
            Some(CaptureMode::OnFailure)
        );
        assert_eq!(CaptureMode::parse("off"), Some(CaptureMode::Off));
        assert_eq!(CaptureMode::parse("yes"), None);
        assert_eq!(
            CaptureMode::parse("both-ends"),
            Some(CaptureMode::OnFailureBothEnds)
        );
        assert_eq!(
            CaptureMode::parse("always, both-ends"),
            Some(CaptureMode::AlwaysBothEnds)
        );
        assert_eq!(
            CaptureMode::parse("both-ends,on-failure"),
            Some(CaptureMode::OnFailureBothEnds)
        );
        assert_eq!(CaptureMode::parse("always,on-failure"), None);
        assert_eq!(CaptureMode::parse("always,always"), None);
        assert_eq!(CaptureMode::parse("off,both-ends"), None);
    }
}
