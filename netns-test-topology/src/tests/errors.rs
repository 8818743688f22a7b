//! Errors of the language: what each mistake is called, and where it points.

use std::ops::Range;

use crate::Topology;
use crate::tests::support::assert_errors;

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
        &["unbalanced `}`: there is no `{` to close; remove it, or open the group, as in `{a b}`"],
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
fn impairment_mistakes() {
    assert_errors(
        "a -- b [delay=«20ms/»]",
        &[
            "`20ms/` is not one value or two: write `x` for both directions or `x/y`, `x` for \
             what the left end sends and `y` for what the right end sends",
        ],
    );
    assert_errors(
        "a -- b [delay=«1ms/2ms/3ms»]",
        &[
            "`1ms/2ms/3ms` is not one value or two: write `x` for both directions or `x/y`, \
             `x` for what the left end sends and `y` for what the right end sends",
        ],
    );
    assert_errors(
        "a -- b [rate=«10mbit/2mbps»]",
        &[
            "`2mbps` is ambiguous: `tc` reads `mbps` as bytes per second; write `2mbit` for \
             bits per second",
        ],
    );
    assert_errors(
        "a -- b [rate=«/1mbit»]",
        &[
            "`/1mbit` is not one value or two: write `x` for both directions or `x/y`, `x` for \
             what the left end sends and `y` for what the right end sends",
        ],
    );
    assert_errors(
        "a -- b [rate=«1mbit/33gbit»]",
        &["`rate=33gbit` is out of range: a rate is 1kbit to 32gbit"],
    );
    assert_errors(
        "a -- b [loss=«1%/2»]",
        &["`2` is not a loss: write a percentage, as in `loss=1%` or `loss=0.5%`"],
    );
    assert_errors(
        "a -- b [jitter=«5», burst=«0», duplicate=«1», reorder=«150%»]",
        &[
            "`5` needs a unit: `us`, `ms`, `s` or `m`, as in `jitter=5ms`",
            "`burst=0` is out of range: a mean burst is 1 to 1000 packets",
            "`1` is not a share of packets: write a percentage, as in `duplicate=1%`",
            "`reorder=150%` is out of range: it is 0% to 100%",
        ],
    );
}

#[test]
fn impairments_that_need_another() {
    assert_errors(
        "a -- b «[jitter=5ms]»",
        &[
            "`jitter=` varies the delay, and this list has no `delay=`: write both, as in \
           `[delay=20ms, jitter=5ms]`",
        ],
    );
    assert_errors(
        "a -- b «[reorder=25%]»",
        &[
            "`reorder=` lets packets skip the delay, and this list has no `delay=`: write both, \
           as in `[delay=20ms, reorder=25%]`",
        ],
    );
    assert_errors(
        "a -- b «[burst=4]»",
        &[
            "`burst=` groups the losses, and this list has no `loss=`: write both, as in \
           `[loss=2%, burst=4]`",
        ],
    );
    assert!(Topology::parse("a -- b [profile=satellite, reorder=10%]").is_ok());
}

#[test]
fn unknown_profiles() {
    assert_errors(
        "a -- b [profile=«wlan»]",
        &["`wlan` is not a profile: the profiles are `lte`, `satellite`, `wifi`"],
    );
}

#[test]
fn unknown_attributes() {
    assert_errors(
        "a -- b [«subnt»=10.0.0.0/24]",
        &[
            "unknown attribute `subnt`: did you mean `subnet`? valid attributes: `subnet`, \
           `subnet6`, `ipv6`, `ipv4`, `mtu`, `rate`, `delay`, `loss`, `jitter`, `burst`, `duplicate`, \
           `reorder`, `corrupt`, `profile`",
        ],
    );
    assert_errors(
        "a -- b [«wobble»=9ms]",
        &[
            "unknown attribute `wobble`; valid attributes: `subnet`, `subnet6`, `ipv6`, `ipv4`, \
             `mtu`, `rate`, `delay`, `loss`, `jitter`, `burst`, `duplicate`, `reorder`, \
             `corrupt`, `profile`",
        ],
    );
    assert_errors(
        "a -- b [mtu=«70000», rate=«10mbps», delay=«5», loss=«2»]",
        &[
            "`mtu=70000` is out of range: an MTU is 68 to 65535 bytes",
            "`10mbps` is ambiguous: `tc` reads `mbps` as bytes per second; write `10mbit` \
             for bits per second",
            "`5` needs a unit: `us`, `ms`, `s` or `m`, as in `delay=50ms`",
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
                assert_eq!(interface.ipv4.is_some(), topology.has_ipv4(), "{text:?}");
                let Some(ipv4) = interface.ipv4 else {
                    continue;
                };
                let subnet = plan.segment_subnet(interface.segment).unwrap();
                assert!(subnet.contains(ipv4.addr()), "{text:?}");
                assert!(
                    taken.insert(std::net::IpAddr::from(ipv4.addr())),
                    "{text:?}: two {ipv4}"
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
    let mut examples = crate::tests::support::EXAMPLES.to_vec();
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
        "[ipv4=off]",
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
