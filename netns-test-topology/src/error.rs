//! What is wrong with a topology text: every problem found, each tied to the bytes it is about.

use std::fmt;
use std::ops::Range;

/// One problem in a topology text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The byte range of the offending fragment in the text: as narrow as possible, and always
    /// on `char` boundaries. Empty only when the text itself is empty.
    pub span: Range<usize>,
    /// What is wrong and what would be valid: a lowercase fragment without a trailing period,
    /// quoting the offending text in backticks.
    pub message: String,
}

impl Diagnostic {
    pub(super) fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
        }
    }
}

/// A topology text that cannot be used, with every problem found in it.
///
/// Parsing does not stop at the first problem: it reads on after a bad statement, so one run
/// reports them all. [`Display`](fmt::Display) prints one line per problem, in the order of the
/// text, always as `line L, column C: message` (lines and columns count from 1; columns count
/// characters, not bytes), even for a one-line text, so the format never depends on the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyError {
    diagnostics: Vec<Diagnostic>,
    /// `(line, column)` of each diagnostic's start, computed while the text was at hand.
    positions: Vec<(usize, usize)>,
}

impl TopologyError {
    /// Sorts `diagnostics` into text order. There must be at least one.
    pub(super) fn new(text: &str, mut diagnostics: Vec<Diagnostic>) -> Self {
        debug_assert!(!diagnostics.is_empty(), "an error without a diagnostic");
        diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
        let positions = diagnostics
            .iter()
            .map(|d| line_column(text, d.span.start))
            .collect();
        Self {
            diagnostics,
            positions,
        }
    }

    /// Every problem, in the order of the text.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (d, (line, column))) in self.diagnostics.iter().zip(&self.positions).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "line {line}, column {column}: {}", d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for TopologyError {}

/// The 1-based line and character column of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prints_one_line_per_diagnostic_in_text_order() {
        let text = "a -- b\n  é -- c -- ";
        let error = TopologyError::new(
            text,
            vec![
                Diagnostic::new(17..19, "dangling `--`"),
                Diagnostic::new(0..1, "first"),
                Diagnostic::new(11..12, "after the é"),
            ],
        );
        assert_eq!(
            error.to_string(),
            "line 1, column 1: first\n\
             line 2, column 4: after the é\n\
             line 2, column 10: dangling `--`"
        );
        assert_eq!(error.diagnostics()[0].span, 0..1);
        let source: &dyn std::error::Error = &error;
        assert!(source.source().is_none());
    }

    #[test]
    fn line_column_counts_characters_and_clamps() {
        assert_eq!(line_column("", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 3), (2, 1));
        assert_eq!(line_column("éé x", 5), (1, 4));
        assert_eq!(line_column("é", 1), (1, 1));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
