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

/// The candidate that `word` is most likely a misspelling of, if one is close enough.
pub(super) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|&c| (edit_distance(&word, c), c))
        .filter(|&(distance, c)| distance <= (c.len() / 3).max(1))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// Levenshtein distance, counting an adjacent transposition as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows: the one before the previous is needed for transpositions.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                current[j] = current[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

/// Parses `marked` without its `«»` marks and checks that the diagnostics span the marked
/// fragments, in order, with these messages.
#[cfg(test)]
#[track_caller]
pub(super) fn assert_errors(marked: &str, messages: &[&str]) {
    let (mut text, mut spans, mut start) = (String::new(), Vec::new(), 0);
    for c in marked.chars() {
        match c {
            '«' => start = text.len(),
            '»' => spans.push(start..text.len()),
            c => text.push(c),
        }
    }
    assert_eq!(
        spans.len(),
        messages.len(),
        "one message per marked fragment"
    );
    let error = super::Topology::parse(&text).expect_err(&text);
    let found: Vec<(Range<usize>, &str)> = error
        .diagnostics()
        .iter()
        .map(|d| (d.span.clone(), d.message.as_str()))
        .collect();
    let expected: Vec<(Range<usize>, &str)> =
        spans.into_iter().zip(messages.iter().copied()).collect();
    assert_eq!(found, expected, "in {text:?}");
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

    #[test]
    fn suggests_close_words_only() {
        let keys = ["subnet", "mtu"];
        assert_eq!(did_you_mean("subnt", &keys), Some("subnet"));
        assert_eq!(did_you_mean("sbunet", &keys), Some("subnet"));
        assert_eq!(did_you_mean("SUBNET", &keys), Some("subnet"));
        assert_eq!(did_you_mean("subnets", &keys), Some("subnet"));
        assert_eq!(did_you_mean("mut", &keys), Some("mtu"));
        assert_eq!(did_you_mean("prefix", &keys), None);
        assert_eq!(did_you_mean("su", &keys), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    use super::super::Topology;

    #[test]
    fn duplicate_link() {
        assert_errors(
            "a -- b; «b -- a»",
            &["duplicate link `b -- a`: `b` and `a` are already linked; link them once"],
        );
        assert_errors(
            "switch lan; a -- lan; «lan -- a»",
            &["duplicate link `lan -- a`: `lan` and `a` are already linked; link them once"],
        );
    }

    #[test]
    fn self_link() {
        assert_errors(
            "«a -- a»",
            &["`a -- a` links `a` to itself; link it to another node"],
        );
    }

    #[test]
    fn dangling_link() {
        let message = "dangling `--`: a link needs a name on each side, as in `a -- b`";
        assert_errors("a -- b «--»", &[message]);
        assert_errors("«--» a", &[message]);
        assert_errors("a «--» -- b", &[message]);
        assert_errors("a «--»;", &[message]);
        assert_errors("a «--»\n\n# nothing follows\n", &[message]);
    }

    #[test]
    fn empty_topology() {
        let message = "an empty topology has no nodes; write at least `a -- b`";
        assert_errors("«»", &[message]);
        assert_errors("«  # a comment\n;\n»", &[message]);
    }

    #[test]
    fn unbalanced_braces() {
        assert_errors(
            "«{»a b -- c",
            &["unclosed `{`: expected names and then `}`, as in `{a b}`"],
        );
        assert_errors(
            "a «}» -- c",
            &[
                "unbalanced `}`: there is no `{` to close; remove it, or open the group, as in `{a b}`",
            ],
        );
        assert_errors(
            "a «[»subnet=10.0.0.0/24",
            &["unclosed `[`: expected attributes and then `]`, as in `[subnet=10.0.100.0/24]`"],
        );
        assert_errors(
            "a -- b «]»",
            &[
                "unbalanced `]`: there is no `[` to close; remove it, or open the attributes, as in `[subnet=10.0.100.0/24]`",
            ],
        );
    }

    #[test]
    fn empty_group() {
        assert_errors(
            "a -- «{ , }»",
            &["empty group `{}`: a group lists at least one name, as in `{a b}`"],
        );
    }

    #[test]
    fn name_twice_in_a_group() {
        assert_errors(
            "{a «a»} -- b",
            &["`a` appears twice in this group; list it once"],
        );
    }

    #[test]
    fn node_declared_as_a_switch_later() {
        assert_errors(
            "a -- lan; switch «lan»",
            &[
                "`lan` is already a node; a switch is declared before its first link, so move \
               `switch lan` up",
            ],
        );
    }

    #[test]
    fn switch_declared_twice_or_never_linked() {
        assert_errors(
            "switch lan; switch «lan»; a -- lan",
            &["switch `lan` is declared twice; declare it once"],
        );
        assert_errors(
            "switch «lan»",
            &["switch `lan` has no links; link nodes to it, as in `{a b} -- lan`"],
        );
    }

    #[test]
    fn switch_to_switch() {
        assert_errors(
            "switch s t; «s -- t»; a -- s; b -- t",
            &[
                "`s -- t` links two switches, which would make them one segment; use one switch, \
               or put a router between them: `s -- r1 -- t`",
            ],
        );
    }

    #[test]
    fn host_as_a_switch() {
        assert_errors(
            "switch «host»",
            &[
                "`host` is the test's own namespace and cannot be a switch; choose another name, \
               such as `lan`",
            ],
        );
    }

    #[test]
    fn switch_keyword_misused() {
        assert_errors(
            "«switch»",
            &["`switch` needs a name, as in `switch lan`; it is a keyword and cannot name a node"],
        );
        assert_errors(
            "switch lan «--» a",
            &[
                "a `switch` statement only declares switches; link `lan` in a statement of its \
               own, as in `switch lan; lan -- a`",
            ],
        );
        assert_errors(
            "a -- «switch»",
            &[
                "`switch` is a keyword and cannot name a node; declare switches in a statement of \
               their own, as in `switch lan`",
            ],
        );
        assert_errors(
            "«swich» lan",
            &["unknown keyword `swich`: did you mean `switch`?"],
        );
    }

    #[test]
    fn unknown_characters() {
        assert_errors(
            "a «&» b",
            &["unexpected character `&`: expected `;` or a newline to end the statement"],
        );
        assert_errors(
            "a -- «!»",
            &["unexpected character `!`: expected a name or `{`"],
        );
        assert_errors(
            "a «-»> b",
            &["unexpected `-`: a link is written with two dashes, as in `a -- b`"],
        );
        assert_errors(
            "a «=» b",
            &[
                "unexpected `=`: attributes go in brackets after a chain, as in \
               `a -- b [subnet=10.0.100.0/24]`",
            ],
        );
        assert_errors(
            "a«,» b",
            &["unexpected `,`: statements are separated by `;` or a newline"],
        );
    }

    #[test]
    fn missing_link_operator() {
        assert_errors(
            "{a b} «c»",
            &[
                "missing `--` between `{a b}` and `c`: write `{a b} -- c` to link them, or end \
               the statement with `;` or a newline",
            ],
        );
    }

    #[test]
    fn bad_names() {
        let valid = "a name has ASCII letters, digits, `_` and `-`, and starts with a letter";
        let digit = format!("`1a` is not a valid name: {valid}");
        let dot = format!("`b.c` is not a valid name: `.` is not allowed; {valid}");
        let accent = format!("`café` is not a valid name: `é` is not allowed; {valid}");
        assert_errors("«1a» -- b«.»c -- caf«é»", &[&digit, &dot, &accent]);
        assert_errors(
            "a -- «averyveryverylongname»",
            &[
                "`averyveryverylongname` is too long: 21 bytes, and a name has at most 15 (the \
               Linux interface name limit, IFNAMSIZ - 1)",
            ],
        );
        assert_errors(
            "«bridge» -- b",
            &[
                "`bridge` is a reserved word and cannot be a name; choose another, such as \
               `bridge1`",
            ],
        );
    }

    #[test]
    fn unknown_attributes() {
        assert_errors(
            "a -- b [«subnt»=10.0.0.0/24]",
            &[
                "unknown attribute `subnt`: did you mean `subnet`? valid attributes: `subnet`, \
               `subnet6`, `ipv6`, `mtu`, `rate`, `delay`, `loss`",
            ],
        );
        assert_errors(
            "a -- b [«jitter»=9ms]",
            &[
                "unknown attribute `jitter`; valid attributes: `subnet`, `subnet6`, `ipv6`, \
                 `mtu`, `rate`, `delay`, `loss`",
            ],
        );
        assert_errors(
            "a -- b [mtu=«70000», rate=«10mbps», delay=«5», loss=«2»]",
            &[
                "`mtu=70000` is out of range: an MTU is 68 to 65535 bytes",
                "`10mbps` is ambiguous: `tc` reads `mbps` as bytes per second; write `10mbit` \
                 for bits per second",
                "`5` needs a unit: `us`, `ms` or `s`, as in `delay=50ms`",
                "`2` is not a loss: write a percentage, as in `loss=1%` or `loss=0.5%`",
            ],
        );
        assert_errors(
            "a -- b\n«[mtu=1280]»",
            &[
                "`mtu=1280` applies to links, and this `[...]` stands alone; write it after a \
               link, as in `a -- b [mtu=1280]`",
            ],
        );
    }

    #[test]
    fn malformed_attributes() {
        assert_errors(
            "a -- b [subnet=10.0.0.0/24, «subnet»=10.0.1.0/24]",
            &["attribute `subnet` is given twice; give it once"],
        );
        assert_errors(
            "a -- b [«subnet»]",
            &["attribute `subnet` needs a value, as in `subnet=10.0.100.0/24`"],
        );
        assert_errors(
            "a -- b [«subnet» 10.0.0.0/24]",
            &["missing `=` between `subnet` and `10.0.0.0/24`, as in `subnet=10.0.100.0/24`"],
        );
        assert_errors(
            "a -- b «[ ]»",
            &[
                "empty attribute list `[]`: write an attribute, as in `[subnet=10.0.100.0/24]`, \
               or remove the brackets",
            ],
        );
        assert_errors(
            "a -- b [subnet=10.0.0.0/24] «--» c",
            &[
                "attributes end a chain, so `--` cannot follow `[...]`; continue the chain in a \
               statement of its own",
            ],
        );
        assert_errors(
            "a -- b [subnet=10.0.0.0/24] «[»x=1]",
            &["a chain takes one `[...]`; put all its attributes in it, separated by commas"],
        );
        assert_errors(
            "a «[subnet=10.0.0.0/24]»",
            &[
                "attributes apply to links, and this statement has none; write them after a link, \
               as in `a -- b [subnet=10.0.100.0/24]`",
            ],
        );
    }

    #[test]
    fn every_bad_statement_is_reported() {
        let text = "a -- b --\n;{c d; e -- e\nswitch host\nf -- g [subnet=1.2.3.4/8]\nh -- i";
        let shown = Topology::parse(text).unwrap_err().to_string();
        let positions: Vec<&str> = shown
            .lines()
            .map(|l| l.split(':').next().unwrap())
            .collect();
        let expected = ["line 1, column 8", "line 2, column 2", "line 2, column 8"];
        assert_eq!(
            positions,
            [&expected[..], &["line 3, column 8", "line 4, column 16"]].concat()
        );
    }

    /// xorshift64*: a small deterministic generator, so that a failure always reproduces.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }
    }

    /// Parses `text` and checks what a user relies on, whatever the text: no panic, diagnostics
    /// that point into the text, one line each; or a plan that round-trips and fits the kernel.
    fn check(text: &str) {
        let error = match Topology::parse(text) {
            Ok(topology) => {
                let again = Topology::parse(&topology.to_string());
                assert_eq!(again.as_ref(), Ok(&topology), "{text:?}");
                let plan = topology.plan();
                let mut taken = std::collections::HashSet::new();
                for interface in plan.nodes.iter().flat_map(|n| &n.interfaces) {
                    if let Some(ipv6) = interface.ipv6 {
                        let subnet = plan.segment_subnet6(interface.segment).unwrap();
                        assert!(subnet.contains(ipv6.addr()), "{text:?}");
                        assert!(subnet.host_part(ipv6.addr()) != 0, "{text:?}");
                        assert!(taken.insert(ipv6.addr().into()), "{text:?}: two {ipv6}");
                    }
                    let subnet = plan.segment_subnet(interface.segment).unwrap();
                    assert!(subnet.contains(interface.ipv4.addr()), "{text:?}");
                    assert!(
                        taken.insert(std::net::IpAddr::from(interface.ipv4.addr())),
                        "{text:?}: two {}",
                        interface.ipv4
                    );
                }
                let ends = plan.veths.iter().flat_map(|v| [&v.a, &v.b]);
                assert!(
                    ends.map(|end| &end.ifname).all(|name| name.len() <= 15),
                    "{text:?}"
                );
                return;
            }
            Err(error) => error,
        };
        for d in error.diagnostics() {
            let Range { start, end } = d.span;
            assert!(start <= end && end <= text.len(), "{text:?}: {d:?}");
            assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "{text:?}: {d:?}"
            );
            assert_eq!(start == end, text.is_empty(), "{text:?}: {d:?}");
            let message = &d.message;
            assert!(!message.starts_with(char::is_uppercase), "{text:?}: {d:?}");
            assert!(
                !message.ends_with('.') && !message.contains('\n'),
                "{text:?}: {d:?}"
            );
        }
        assert_eq!(error.to_string().lines().count(), error.diagnostics().len());
    }

    #[test]
    fn mangled_texts_never_panic() {
        let mut examples = super::super::model::EXAMPLES.to_vec();
        examples.extend([
            "a -- b [subnet=10.0.0.5/24, mtu=1]; {c -- ]",
            "switch é; x -- x -- {}",
        ]);
        for text in &examples {
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            for (n, &i) in boundaries.iter().enumerate() {
                check(&text[..i]);
                let next = boundaries.get(n + 1).copied().unwrap_or(text.len());
                check(&format!("{}{}", &text[..i], &text[next..]));
            }
        }
        let pieces = [
            "a",
            "b",
            "host",
            "switch",
            "lan",
            "router",
            "x1",
            " ",
            "\n",
            ";",
            "#",
            "--",
            "-",
            "{",
            "}",
            "[",
            "]",
            "=",
            ",",
            "subnet",
            "10.0.1.0/24",
            "10.0.0.0/30",
            "0.0.0.0/0",
            "/8",
            "é",
            "\r",
            "a--",
            "{a b}",
            "@",
            "10.0.1.7",
            "fd00::7",
            "subnet6",
            "fd00::/64",
            "[ipv6=off]",
            "router r",
            "host h",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3000 {
            let text: String = (0..rng.below(24))
                .map(|_| pieces[rng.below(pieces.len())])
                .collect();
            check(&text);
        }
        for _ in 0..1000 {
            let mut bytes = examples[rng.below(examples.len())].as_bytes().to_vec();
            for _ in 0..=rng.below(3) {
                let at = rng.below(bytes.len() + 1);
                bytes.insert(at, rng.below(256) as u8);
            }
            check(&String::from_utf8_lossy(&bytes));
        }
    }
}
