//! The mistakes a topology can have, each as the attribute reports it: the text, and every
//! message, in the order of the text. These were compile-fail cases of the attribute; the
//! messages are the parser's, so they are checked here, without a compiler per case. The
//! attribute's own suite (`tests/ui.rs`) keeps a few that show the span on the string.

use crate::Topology;

/// One diagnostic: its message, and the text its span covers if the attribute quotes it.
type Expected = (&'static str, Option<&'static str>);

/// A mistake: its name (the compile-fail case it was), the text, and what is said of it.
type Mistake = (&'static str, &'static str, &'static [Expected]);

/// `(name, text, [(message, fragment)])`: what `Topology::parse(text)` says, diagnostic by
/// diagnostic, and the text its span covers where the attribute quotes it (`(at `...`)`).
const MISTAKES: &[Mistake] = &[
    (
        "topology-address-as-name",
        "10.0.0.1 -- b",
        &[(
            "`10.0.0.1` is an address, not a name: nodes are named, as in `client`, and get their addresses from their segment's subnet, as in `a -- b [subnet=10.0.100.0/24]`",
            None,
        )],
    ),
    (
        "topology-address-in-the-middle",
        "a -- b@10.0.1.5 -- c",
        &[(
            "`b@10.0.1.5` has 2 links in this chain, and an address is for one end of one link; write each link on its own, as in `a -- b@10.0.1.5; b -- c`",
            None,
        )],
    ),
    (
        "topology-address-outside-subnet",
        "client@10.0.200.7 -- gateway [subnet=10.0.100.0/24]",
        &[(
            "address `10.0.200.7` is outside `10.0.100.0/24`, the subnet of its segment; choose one from `10.0.100.1` to `10.0.100.254`",
            None,
        )],
    ),
    (
        "topology-address-twice",
        "a@10.0.100.7 -- b@10.0.100.7",
        &[(
            "address `10.0.100.7` is used twice on this segment; every interface needs an address of its own",
            None,
        )],
    ),
    (
        "topology-attribute-missing-equals",
        "a -- b [subnet 10.0.0.0/24]",
        &[(
            "missing `=` between `subnet` and `10.0.0.0/24`, as in `subnet=10.0.100.0/24`",
            None,
        )],
    ),
    (
        "topology-attribute-twice",
        "a -- b [subnet=10.0.0.0/24, subnet=10.0.1.0/24]",
        &[("attribute `subnet` is given twice; give it once", None)],
    ),
    (
        "topology-attributes-without-link",
        "a [subnet=10.0.0.0/24]",
        &[(
            "attributes apply to links, and this statement has none; write them after a link, as in `a -- b [subnet=10.0.100.0/24]`",
            Some("[subnet=10.0.0.0/24]"),
        )],
    ),
    (
        "topology-bad-address",
        "a -- b [subnet=10.0.300.0/24]",
        &[(
            "`10.0.300.0` in subnet `10.0.300.0/24` is not an IPv4 address; write a subnet as `10.0.100.0/24`",
            None,
        )],
    ),
    (
        "topology-bad-name",
        "client -- 2nd",
        &[(
            "`2nd` is not a valid name: a name has ASCII letters, digits, `_` and `-`, and starts with a letter",
            None,
        )],
    ),
    (
        "topology-bad-subnet6",
        "a -- b [subnet6=fd00::1/64]",
        &[(
            "subnet6 `fd00::1/64` has host bits set; did you mean `fd00::/64`?",
            None,
        )],
    ),
    (
        "topology-byte-rate",
        "a -- b [rate=10mbps]",
        &[(
            "`10mbps` is ambiguous: `tc` reads `mbps` as bytes per second; write `10mbit` for bits per second",
            None,
        )],
    ),
    (
        "topology-comma-between-statements",
        "a -- b, c -- d",
        &[(
            "unexpected `,`: statements are separated by `;` or a newline",
            None,
        )],
    ),
    (
        "topology-duplicate-link",
        "a -- b; b -- a",
        &[(
            "duplicate link `b -- a`: `b` and `a` are already linked; link them once",
            None,
        )],
    ),
    (
        "topology-empty-attributes",
        "a -- b []",
        &[(
            "empty attribute list `[]`: write an attribute, as in `[subnet=10.0.100.0/24]`, or remove the brackets",
            None,
        )],
    ),
    (
        "topology-empty-group",
        "a -- {}",
        &[(
            "empty group `{}`: a group lists at least one name, as in `{a b}`",
            None,
        )],
    ),
    (
        "topology-empty",
        "",
        &[(
            "an empty topology has no nodes; write at least `a -- b`",
            None,
        )],
    ),
    (
        "topology-ipv4-subnet6",
        "a -- b [subnet6=10.0.0.0/24]",
        &[(
            "`10.0.0.0/24` is an IPv4 subnet, and `subnet6` takes an IPv6 one: write the IPv4 subnet as `subnet=10.0.0.0/24`, or an IPv6 one as `subnet6=fd00:0:0:100::/64`",
            None,
        )],
    ),
    (
        "topology-ipv6-off-on-a-link",
        "a -- b [ipv6=off]",
        &[(
            "`ipv6=off` is an option of the whole topology, not of a link; write it on a line of its own: `[ipv6=off]`",
            Some("off"),
        )],
    ),
    (
        "topology-ipv6-off-with-ipv6-address",
        "[ipv6=off]; a@fd00::7 -- b",
        &[(
            "an IPv6 address, `fd00::7`, is given, but this topology has `[ipv6=off]`; remove one of them",
            None,
        )],
    ),
    (
        "topology-keyword-as-name",
        "a -- switch",
        &[(
            "`switch` is a keyword and cannot name a node; declare switches in a statement of their own, as in `switch lan`",
            None,
        )],
    ),
    (
        "topology-link-after-attributes",
        "a -- b [subnet=10.0.0.0/24] -- c",
        &[(
            "attributes end a chain, so `--` cannot follow `[...]`; continue the chain in a statement of its own",
            None,
        )],
    ),
    (
        "topology-long-name",
        "client -- server-number-0001",
        &[(
            "`server-number-0001` is too long: 18 bytes, and a name has at most 15 (the Linux interface name limit, IFNAMSIZ - 1)",
            None,
        )],
    ),
    (
        "topology-missing-link",
        "client server",
        &[(
            "missing `--` between `client` and `server`: write `client -- server` to link them, or end the statement with `;` or a newline",
            None,
        )],
    ),
    (
        "topology-missing-prefix-length",
        "a -- b [subnet=10.0.0.0]",
        &[(
            "subnet `10.0.0.0` has no prefix length; write it as `10.0.0.0/24`",
            None,
        )],
    ),
    (
        "topology-misspelled-switch",
        "swich lan; a -- lan",
        &[("unknown keyword `swich`: did you mean `switch`?", None)],
    ),
    (
        "topology-name-twice-in-group",
        "{a a} -- b",
        &[("`a` appears twice in this group; list it once", None)],
    ),
    (
        "topology-non-ascii-name",
        "café -- b",
        &[(
            "`café` is not a valid name: `é` is not allowed; a name has ASCII letters, digits, `_` and `-`, and starts with a letter",
            None,
        )],
    ),
    (
        "topology-only-a-comment",
        "# nothing here yet",
        &[(
            "an empty topology has no nodes; write at least `a -- b`",
            Some("# nothing here yet"),
        )],
    ),
    (
        "topology-overlapping-subnet6",
        "a -- b [subnet6=fd00::/48]; c -- d [subnet6=fd00:0:0:1::/64]",
        &[(
            "subnet6 `fd00:0:0:1::/64` overlaps `fd00::/48`, the subnet of another segment; every segment needs a subnet of its own",
            None,
        )],
    ),
    (
        "topology-overlapping-subnets",
        "a -- b [subnet=10.0.0.0/16]; c -- d [subnet=10.0.1.0/24]",
        &[(
            "subnet `10.0.1.0/24` overlaps `10.0.0.0/16`, the subnet of another segment; every segment needs a subnet of its own",
            None,
        )],
    ),
    (
        "topology-reserved-name",
        "bridge -- b",
        &[(
            "`bridge` is a reserved word and cannot be a name; choose another, such as `bridge1`",
            None,
        )],
    ),
    (
        "topology-router-and-host",
        "router r1; host r1; a -- r1",
        &[(
            "`r1` is declared both `router` and `host`; a node is one or the other: keep `router r1` or `host r1`",
            None,
        )],
    ),
    (
        "topology-router-switch",
        "switch lan; router lan; a -- lan",
        &[(
            "`lan` is a switch, and only nodes are declared `router`; name a node, or link a router to the switch: `lan -- r1`",
            None,
        )],
    ),
    (
        "topology-same-subnet-twice",
        "a -- b [subnet=10.0.0.0/24]; c -- d [subnet=10.0.0.0/24]",
        &[(
            "subnet `10.0.0.0/24` is already the subnet of another segment; every segment needs a subnet of its own",
            None,
        )],
    ),
    (
        "topology-self-link",
        "a -- a",
        &[(
            "`a -- a` links `a` to itself; link it to another node",
            None,
        )],
    ),
    (
        "topology-single-dash",
        "a - b",
        &[(
            "unexpected `-`: a link is written with two dashes, as in `a -- b`",
            None,
        )],
    ),
    (
        "topology-subnet-host-bits",
        "a -- b [subnet=10.0.0.5/24]",
        &[(
            "subnet `10.0.0.5/24` has host bits set; did you mean `10.0.0.0/24`?",
            None,
        )],
    ),
    (
        "topology-subnet-not-an-address",
        "a -- b [subnet=lan]",
        &[("`lan` is not a subnet; write one as `10.0.100.0/24`", None)],
    ),
    (
        "topology-subnet-spans-segments",
        "a -- b -- c [subnet=10.0.0.0/24]",
        &[(
            "`subnet=10.0.0.0/24` applies to every link of this chain, which spans 2 segments, and each segment needs a subnet of its own; write one statement per link",
            Some("10.0.0.0/24"),
        )],
    ),
    (
        "topology-subnet-too-small",
        "switch lan; {a b c} -- lan [subnet=10.0.0.0/30]",
        &[(
            "subnet `10.0.0.0/30` is too small: its segment needs 3 addresses and a /30 has 2 usable; use a /29 or larger",
            None,
        )],
    ),
    (
        "topology-subnet-without-hosts",
        "a -- b [subnet=10.0.0.0/31]",
        &[(
            "subnet `10.0.0.0/31` is too small: its segment needs 2 addresses and a /31 has no usable address; use a /30 or larger",
            None,
        )],
    ),
    (
        "topology-switch-declared-late",
        "a -- lan; switch lan",
        &[(
            "`lan` is already a node; a switch is declared before its first link, so move `switch lan` up",
            None,
        )],
    ),
    (
        "topology-switch-declared-twice",
        "switch lan; switch lan; {a b} -- lan",
        &[("switch `lan` is declared twice; declare it once", None)],
    ),
    (
        "topology-switch-host",
        "switch host; {a b} -- host",
        &[(
            "`host` is the test's own namespace and cannot be a switch; choose another name, such as `lan`",
            None,
        )],
    ),
    (
        "topology-switch-statement-links",
        "switch lan -- a",
        &[(
            "a `switch` statement only declares switches; link `lan` in a statement of its own, as in `switch lan; lan -- a`",
            Some("--"),
        )],
    ),
    (
        "topology-switch-to-switch",
        "switch s t; s -- t; a -- s; b -- t",
        &[(
            "`s -- t` links two switches, which would make them one segment; use one switch, or put a router between them: `s -- r1 -- t`",
            None,
        )],
    ),
    (
        "topology-switch-two-subnets",
        "switch lan; a -- lan [subnet=10.0.0.0/24]; b -- lan [subnet=10.0.1.0/24]",
        &[(
            "switch `lan` already has subnet `10.0.0.0/24`; a switch is one segment with one subnet, so `10.0.1.0/24` cannot be its subnet too",
            None,
        )],
    ),
    (
        "topology-switch-without-links",
        "switch lan; a -- b",
        &[(
            "switch `lan` has no links; link nodes to it, as in `{a b} -- lan`",
            None,
        )],
    ),
    (
        "topology-switch-without-name",
        "switch; a -- b",
        &[(
            "`switch` needs a name, as in `switch lan`; it is a keyword and cannot name a node",
            None,
        )],
    ),
    (
        "topology-unbalanced-brace",
        "a } -- c",
        &[(
            "unbalanced `}`: there is no `{` to close; remove it, or open the group, as in `{a b}`",
            None,
        )],
    ),
    (
        "topology-unclosed-attributes",
        "a -- b [subnet=10.0.0.0/24",
        &[(
            "unclosed `[`: expected attributes and then `]`, as in `[subnet=10.0.100.0/24]`",
            None,
        )],
    ),
    (
        "topology-unclosed-group",
        "{a b -- c",
        &[(
            "unclosed `{`: expected names and then `}`, as in `{a b}`",
            None,
        )],
    ),
    (
        "topology-unexpected-character",
        "a -- b!",
        &[(
            "unexpected character `!`: expected `;` or a newline to end the statement",
            None,
        )],
    ),
];

#[test]
fn every_mistake_is_reported_with_its_message_on_its_fragment() {
    let mut wrong = Vec::new();
    for (name, text, expected) in MISTAKES {
        let Err(error) = Topology::parse(text) else {
            wrong.push(format!("{name}: {text:?} is accepted"));
            continue;
        };
        let found: Vec<(&str, &str)> = error
            .diagnostics()
            .iter()
            .map(|d| (d.message.as_str(), &text[d.span.clone()]))
            .collect();
        let matches = found.len() == expected.len()
            && found
                .iter()
                .zip(expected.iter())
                .all(|((message, fragment), (want, at))| {
                    message == want && at.is_none_or(|at| at == *fragment)
                });
        if !matches {
            wrong.push(format!(
                "{name}: {text:?}\n  expected {expected:#?}\n  found {found:#?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
