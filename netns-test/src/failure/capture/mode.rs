//! When a test's packets are captured: what the attribute and the run ask for.

/// When a test's packets are captured and kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaptureMode {
    /// No capture.
    #[default]
    Off,
    /// Capture, and keep the file when the test fails.
    OnFailure,
    /// Capture, and keep the file whether the test passes or fails.
    Always,
}

impl CaptureMode {
    /// Reads the value of [`CAPTURE_ENV`](crate::CAPTURE_ENV).
    pub(crate) fn parse(value: &str) -> Option<CaptureMode> {
        match value.trim() {
            "" | "off" => Some(CaptureMode::Off),
            "on-failure" => Some(CaptureMode::OnFailure),
            "always" => Some(CaptureMode::Always),
            _ => None,
        }
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
    }
}
