//! Runs the runtime's topology parser at compile time, so that a bad topology is a compile error
//! on the attribute rather than a failure when the test runs.
//!
//! Stable Rust cannot point inside a string literal, so every diagnostic lands on the whole
//! literal; its message quotes the offending fragment and, when the text has several lines (or
//! comes from a file), says where it is.

use std::ops::Range;
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote_spanned};
use syn::LitStr;

use crate::args::TopologySource;
use crate::errors::Errors;
use netns_test_topology::Topology;

/// Reads and checks the topology; returns the expression of its text for `TestCase::topology`,
/// and the text itself.
///
/// A file's contents are brought in with `include_str!`, which also makes Cargo rebuild the test
/// (and so check the topology again) whenever the file changes.
pub(crate) fn load(source: &TopologySource) -> syn::Result<(TokenStream, String)> {
    match source {
        TopologySource::Inline(literal) => {
            let text = literal.value();
            check_topology(&text, literal, None)?;
            Ok((literal.to_token_stream(), text))
        }
        TopologySource::File(literal) => {
            let relative = literal.value();
            let path = manifest_dir(literal)?.join(&relative);
            let text = std::fs::read_to_string(&path).map_err(|error| {
                syn::Error::new(
                    literal.span(),
                    format!(
                        "cannot read topology file `{relative}`: {error}; \
                         the path is relative to the crate's directory, where its Cargo.toml is"
                    ),
                )
            })?;
            check_topology(&text, literal, Some(&relative))?;
            let path = path.to_str().ok_or_else(|| {
                syn::Error::new(
                    literal.span(),
                    format!("the path of topology file `{relative}` is not valid UTF-8"),
                )
            })?;
            let path = LitStr::new(path, literal.span());
            Ok((
                quote_spanned!(literal.span()=> ::core::include_str!(#path)),
                text,
            ))
        }
    }
}

/// The directory of the Cargo.toml of the crate being compiled.
fn manifest_dir(literal: &LitStr) -> syn::Result<PathBuf> {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or_else(|| {
            syn::Error::new(
                literal.span(),
                "`topology_file` needs Cargo (CARGO_MANIFEST_DIR is not set): \
                 give the text with `topology = \"...\"` instead",
            )
        })
}

/// Parses `text` as the runtime will; each diagnostic becomes an error on `literal`. `file` is
/// the path as the user wrote it, when the text was read from a file.
fn check_topology(text: &str, literal: &LitStr, file: Option<&str>) -> syn::Result<()> {
    let mut errors = Errors::default();
    for (span, message) in diagnostics(text) {
        errors.push(syn::Error::new(
            literal.span(),
            describe(text, span, &message, file),
        ));
    }
    errors.finish(Ok(()))
}

/// The parser's diagnostics for `text`: byte ranges into it, with their messages.
fn diagnostics(text: &str) -> Vec<(Range<usize>, String)> {
    match Topology::parse(text) {
        Ok(_) => Vec::new(),
        Err(error) => error
            .diagnostics()
            .iter()
            .map(|diagnostic| (diagnostic.span.clone(), diagnostic.message.clone()))
            .collect(),
    }
}

/// One diagnostic as the user reads it: where (for text of several lines, or a file), and what.
/// The parser's messages quote the fragment they are about; one that does not gets it appended.
fn describe(text: &str, span: Range<usize>, message: &str, file: Option<&str>) -> String {
    let (line, column) = position(text, span.start);
    let fragment = fragment(text, span);
    let message = if fragment.is_empty() || message.contains(&format!("`{fragment}`")) {
        message.to_owned()
    } else {
        format!("{message} (at `{fragment}`)")
    };
    match file {
        Some(path) => format!("{path}:{line}:{column}: {message}"),
        None if text.contains('\n') => format!("topology line {line}, column {column}: {message}"),
        None => format!("topology: {message}"),
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The text a diagnostic is about, cut to its first line and to a readable length.
fn fragment(text: &str, span: Range<usize>) -> String {
    const LONGEST: usize = 40;
    let fragment = text.get(span).unwrap_or_default();
    let fragment = fragment.lines().next().unwrap_or_default().trim();
    if fragment.chars().count() > LONGEST {
        let cut: String = fragment.chars().take(LONGEST).collect();
        format!("{cut}...")
    } else {
        fragment.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;
    use syn::LitStr;

    use super::{describe, load, position};
    use crate::args::TopologySource;

    fn messages(source: &TopologySource) -> Vec<String> {
        match load(source) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|error| error.to_string()).collect(),
        }
    }

    fn literal(text: &str) -> LitStr {
        LitStr::new(text, Span::call_site())
    }

    #[test]
    fn a_valid_topology_passes() {
        assert!(messages(&TopologySource::Inline(literal("a -- b"))).is_empty());
        assert!(messages(&TopologySource::File(literal("testdata/two-nodes.topo"))).is_empty());
    }

    #[test]
    fn every_diagnostic_is_an_error_that_says_where() {
        assert_eq!(
            messages(&TopologySource::Inline(literal("a -- a"))),
            ["topology: `a -- a` links `a` to itself; link it to another node"]
        );
        let messages = messages(&TopologySource::Inline(literal("\n  a -- a\n  b --\n")));
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].starts_with("topology line 2, column 3: `a -- a`"));
        assert!(messages[1].starts_with("topology line 3, column 5: dangling `--`"));
    }

    #[test]
    fn errors_in_a_file_name_the_file_and_line() {
        let messages = messages(&TopologySource::File(literal("testdata/bad.topo")));
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].starts_with("testdata/bad.topo:2:19: unknown attribute `wobble`"));
        assert!(messages[1].starts_with("testdata/bad.topo:3:1: `server -- server`"));
    }

    #[test]
    fn the_language_errors_from_a_file_say_where() {
        let messages = messages(&TopologySource::File(literal("testdata/bad-language.topo")));
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(messages[0].starts_with("testdata/bad-language.topo:3:6: `r1` is declared both"));
        assert!(
            messages[1]
                .starts_with("testdata/bad-language.topo:4:8: `10.0.9.300` is not an IP address")
        );
        assert!(messages[2].starts_with(
            "testdata/bad-language.topo:5:23: subnet6 `fd00:0:0:7::/64` overlaps `fd00::/48`"
        ));
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let messages = messages(&TopologySource::File(literal("testdata/nothing.topo")));
        assert_eq!(
            messages,
            [
                "cannot read topology file `testdata/nothing.topo`: No such file or directory \
                 (os error 2); the path is relative to the crate's directory, where its \
                 Cargo.toml is"
            ]
        );
    }

    #[test]
    fn a_message_that_does_not_quote_its_fragment_gets_it() {
        assert_eq!(
            describe("a -- b", 5..6, "bad", None),
            "topology: bad (at `b`)"
        );
        assert_eq!(
            describe("a -- b", 5..6, "bad `b`", None),
            "topology: bad `b`"
        );
        assert_eq!(
            describe("", 0..0, "empty", Some("x.topo")),
            "x.topo:1:1: empty"
        );
    }

    #[test]
    fn positions_count_lines_and_characters() {
        assert_eq!(position("", 0), (1, 1));
        assert_eq!(position("ab\ncd", 3), (2, 1));
        assert_eq!(position("é -- b", 5), (1, 5));
        assert_eq!(position("ab", 99), (1, 3));
    }
}
