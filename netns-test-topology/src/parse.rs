//! The syntax of the topology language: from text to statements, with every syntax error.
//!
//! The language itself is documented once, on [`Topology`](super::Topology). What parsing yields
//! is in [`syntax`](super::syntax), tokens come from [`lex`](super::lex); a `[...]` list's tokens
//! are read by `lists.rs`, and each entry's meaning by [`attributes`](super::attributes). Here:
//!
//! - The lexer reads a *word* wider than a valid name (any letters, digits, `_ - . / :`), so that
//!   `10.0.0.1` or `café` is reported as one bad name rather than as stray characters; the same
//!   words are attribute keys and values. `--` is never part of a word.
//! - Newlines that cannot end a statement (inside `{}` or `[]`, next to a `--`) are dropped
//!   before parsing, so the parser only sees `;`-like separators.
//! - A statement with a syntax error is reported and dropped, and parsing resumes at the next
//!   separator. Bad names and attributes do not stop their statement: the rest of it is still
//!   read, so that all of its problems are reported too.
//! - Attributes are table-driven: adding one is a row in the `ATTRIBUTES` table (or, for a
//!   `nat` statement, `NAT_ATTRIBUTES`) of [`attributes`](super::attributes) and a field in
//!   [`Attributes`](super::syntax::Attributes) (or `NatAttributes`).

mod lists;

use std::net::IpAddr;
use std::ops::Range;

use crate::Ipv4Cidr;
use crate::attributes;
use crate::error::Diagnostic;
use crate::lex::{Kind, Token, join_lines, lex};
use crate::suggest::did_you_mean;
use crate::syntax::{End, Item, NatAttributes, Role, Spanned, Statement};

/// The longest name: `IFNAMSIZ - 1` bytes.
const MAX_NAME_LEN: usize = 15;

/// Words that cannot be names. `switch` cannot either (it would read as a switch), and has a
/// message of its own. `router`, `host` and `nat` can: they declare only at the start of a
/// statement and before a name (`router r1`), and `host` alone names the test's own namespace.
const RESERVED: [&str; 1] = ["bridge"];

/// The words that start a declaration when a name follows them.
const KEYWORDS: [&str; 4] = ["switch", "router", "host", "nat"];

/// Parses `text` into statements, adding a diagnostic for each problem.
///
/// A statement with a bad name or attribute is kept without it; one that cannot be read to its
/// end is dropped. The flag says whether all were read: if not, checks of the whole text (such
/// as "this switch has no links") would report the consequences of a dropped statement.
pub(super) fn parse<'t>(
    text: &'t str,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<Statement<'t>>, bool) {
    let mut parser = Parser {
        text,
        tokens: join_lines(lex(text)),
        pos: 0,
        diagnostics,
    };
    let (mut statements, mut complete) = (Vec::new(), true);
    loop {
        while parser.peek().is_some_and(|t| t.kind == Kind::Separator) {
            parser.pos += 1;
        }
        if parser.peek().is_none() {
            return (statements, complete);
        }
        match parser.statement() {
            Ok(statement) => statements.push(statement),
            Err(diagnostic) => {
                parser.diagnostics.push(diagnostic);
                complete = false;
                while parser.peek().is_some_and(|t| t.kind != Kind::Separator) {
                    parser.pos += 1;
                }
            }
        }
    }
}

pub(super) struct Parser<'t, 'd> {
    text: &'t str,
    tokens: Vec<Token>,
    pub(super) pos: usize,
    pub(super) diagnostics: &'d mut Vec<Diagnostic>,
}

impl<'t> Parser<'t, '_> {
    pub(super) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    pub(super) fn peek_kind(&self) -> Option<Kind> {
        self.peek().map(|t| t.kind)
    }

    /// The next token, which the caller has peeked.
    pub(super) fn bump(&mut self) -> Token {
        self.pos += 1;
        self.tokens[self.pos - 1].clone()
    }

    pub(super) fn slice(&self, span: &Range<usize>) -> &'t str {
        &self.text[span.clone()]
    }

    fn statement(&mut self) -> Result<Statement<'t>, Diagnostic> {
        let Some(first) = self.peek() else {
            return self.chain();
        };
        let before_name = self.tokens.get(self.pos + 1).map(|t| t.kind) == Some(Kind::Word);
        match (first.kind, self.slice(&first.span)) {
            (Kind::Word, "switch") => self.switches(),
            (Kind::Word, "router") if before_name => self.roles(Role::Router),
            (Kind::Word, "host") if before_name => self.roles(Role::Host),
            (Kind::Word, "nat") if before_name => self.nat(),
            (Kind::OpenBracket, _) => self.options(),
            _ => self.chain(),
        }
    }

    /// `router a b` or `host a b`, the keyword peeked.
    fn roles(&mut self, role: Role) -> Result<Statement<'t>, Diagnostic> {
        let keyword = self.bump().span;
        let mut names = Vec::new();
        while self.peek_kind() == Some(Kind::Word) {
            let span = self.bump().span;
            names.push(self.name(span));
        }
        let keyword_text = role.keyword();
        match self.peek().cloned() {
            None => {}
            Some(t) if t.kind == Kind::Separator => {}
            Some(t) if t.kind == Kind::Arrow => {
                let last = names.last().map_or("", |n| n.value);
                let message = format!(
                    "a `{keyword_text}` statement only declares {keyword_text}s; link `{last}` \
                     in a statement of its own, as in `{keyword_text} {last}; {last} -- a`"
                );
                return Err(Diagnostic::new(t.span, message));
            }
            Some(t) => return Err(self.unexpected(&t, &format!("a {keyword_text} name"))),
        }
        let role = Spanned {
            value: role,
            span: keyword,
        };
        Ok(Statement::Roles { role, names })
    }

    /// `nat NAME [...]`, the keyword peeked.
    fn nat(&mut self) -> Result<Statement<'t>, Diagnostic> {
        let keyword = self.bump().span;
        let span = self.bump().span;
        let name = self.name(span);
        let example = format!("nat {} [outside=isp, type=port-restricted]", name.value);
        let mut attributes = NatAttributes::default();
        if self.peek_kind() == Some(Kind::OpenBracket) {
            let list = "`[outside=isp, type=port-restricted]`";
            let span = self.attribute_list(list, |key, equals, value, keys| {
                attributes::read_nat(key, equals, value, &mut attributes, keys)
            })?;
            attributes.span = span;
        }
        let end = if attributes.span.is_empty() {
            name.span.end
        } else {
            attributes.span.end
        };
        match self.peek().cloned() {
            None => {}
            Some(t) if t.kind == Kind::Separator => {}
            Some(t) if t.kind == Kind::Word && attributes.span.is_empty() => {
                let message = format!(
                    "a `nat` statement declares one router; write `nat {0}` and `nat {1}` \
                     as two statements, or give its settings in brackets: `{example}`",
                    name.value,
                    self.slice(&t.span)
                );
                return Err(Diagnostic::new(t.span, message));
            }
            Some(t) if t.kind == Kind::Arrow => {
                let message = format!(
                    "a `nat` statement only declares a NAT; link `{0}` in a statement of its \
                     own, as in `nat {0} [...]; a -- {0} -- b`",
                    name.value
                );
                return Err(Diagnostic::new(t.span, message));
            }
            Some(t) => return Err(self.unexpected(&t, "`;` or a newline after `nat NAME [...]`")),
        }
        Ok(Statement::Nat {
            name,
            span: keyword.start..end,
            attributes,
        })
    }

    /// `[...]` on a line of its own.
    fn options(&mut self) -> Result<Statement<'t>, Diagnostic> {
        let attributes = self.attributes()?;
        match self.peek().cloned() {
            None => Ok(Statement::Options(attributes)),
            Some(t) if t.kind == Kind::Separator => Ok(Statement::Options(attributes)),
            Some(t) => Err(Diagnostic::new(
                t.span,
                "options such as `[ipv6=off]` stand on a line of their own; \
                 end the statement after `]`",
            )),
        }
    }

    fn switches(&mut self) -> Result<Statement<'t>, Diagnostic> {
        let keyword = self.bump().span;
        let mut names = Vec::new();
        while self.peek_kind() == Some(Kind::Word) {
            let span = self.bump().span;
            names.push(self.name(span));
        }
        match (self.peek().cloned(), names.last()) {
            (None, Some(_)) => Ok(Statement::Switches(names)),
            (Some(t), Some(_)) if t.kind == Kind::Separator => Ok(Statement::Switches(names)),
            (Some(t), Some(last)) if t.kind == Kind::Arrow => Err(Diagnostic::new(
                t.span,
                format!(
                    "a `switch` statement only declares switches; link `{0}` in a statement of \
                     its own, as in `switch {0}; {0} -- a`",
                    last.value
                ),
            )),
            (Some(t), Some(_)) => Err(self.unexpected(&t, "a switch name")),
            (_, None) => Err(Diagnostic::new(
                keyword,
                "`switch` needs a name, as in `switch lan`; \
                 it is a keyword and cannot name a node",
            )),
        }
    }

    fn chain(&mut self) -> Result<Statement<'t>, Diagnostic> {
        let mut items = vec![self.item(None)?];
        while self.peek_kind() == Some(Kind::Arrow) {
            let arrow = self.bump().span;
            items.push(self.item(Some(arrow))?);
        }
        let attributes = match self.peek_kind() {
            Some(Kind::OpenBracket) => Some(self.attributes()?),
            _ => None,
        };
        let Some(next) = self.peek().cloned() else {
            return Ok(Statement::Chain { items, attributes });
        };
        let before = match items.last() {
            Some(Item::Group(names)) => {
                format!(
                    "{{{}}}",
                    names
                        .iter()
                        .map(|n| n.name.value)
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
            Some(Item::Name(name)) => name.name.value.to_owned(),
            None => String::new(),
        };
        let found = self.slice(&next.span);
        let message = match next.kind {
            Kind::Separator => return Ok(Statement::Chain { items, attributes }),
            Kind::Open if attributes.is_none() => format!(
                "missing `--` between `{before}` and `{{`: write `{before} -- {{...}}` to link \
                 them, or end the statement with `;` or a newline"
            ),
            Kind::Word if attributes.is_none() => {
                if let [Item::Name(first)] = &items[..]
                    && let Some(keyword) = did_you_mean(first.name.value, &KEYWORDS)
                {
                    let message = format!(
                        "unknown keyword `{}`: did you mean `{keyword}`?",
                        first.name.value
                    );
                    return Err(Diagnostic::new(first.name.span.clone(), message));
                }
                format!(
                    "missing `--` between `{before}` and `{found}`: write `{before} -- {found}` \
                     to link them, or end the statement with `;` or a newline"
                )
            }
            Kind::Arrow => "attributes end a chain, so `--` cannot follow `[...]`; \
                            continue the chain in a statement of its own"
                .to_owned(),
            Kind::OpenBracket => "a chain takes one `[...]`; put all its attributes in it, \
                                  separated by commas"
                .to_owned(),
            Kind::Comma => {
                "unexpected `,`: statements are separated by `;` or a newline".to_owned()
            }
            Kind::Equals => "unexpected `=`: attributes go in brackets after a chain, \
                             as in `a -- b [subnet=10.0.100.0/24]`"
                .to_owned(),
            _ => return Err(self.unexpected(&next, "`;` or a newline to end the statement")),
        };
        Err(Diagnostic::new(next.span, message))
    }

    /// One item; `arrow` is the `--` before it, if any.
    fn item(&mut self, arrow: Option<Range<usize>>) -> Result<Item<'t>, Diagnostic> {
        let dangling = |span: Range<usize>| {
            Diagnostic::new(
                span,
                "dangling `--`: a link needs a name on each side, as in `a -- b`",
            )
        };
        let Some(token) = self.peek().cloned() else {
            return Err(dangling(arrow.unwrap_or(self.text.len()..self.text.len())));
        };
        match token.kind {
            Kind::Word => {
                self.pos += 1;
                Ok(Item::Name(self.end(token.span)))
            }
            Kind::Open => self.group(),
            Kind::Separator | Kind::Arrow => Err(dangling(arrow.unwrap_or(token.span))),
            _ => Err(self.unexpected(&token, "a name or `{`")),
        }
    }

    fn group(&mut self) -> Result<Item<'t>, Diagnostic> {
        let open = self.bump().span;
        let mut names: Vec<End<'t>> = Vec::new();
        loop {
            let Some(token) = self.peek().cloned() else {
                return Err(self.unclosed(open, "names and then `}`, as in `{a b}`"));
            };
            match token.kind {
                Kind::Word => {
                    self.pos += 1;
                    let name = self.end(token.span);
                    if names.iter().any(|n| n.name.value == name.name.value) {
                        let message = format!(
                            "`{}` appears twice in this group; list it once",
                            name.name.value
                        );
                        self.diagnostics
                            .push(Diagnostic::new(name.name.span, message));
                    } else {
                        names.push(name);
                    }
                }
                Kind::Comma => self.pos += 1,
                Kind::Close if names.is_empty() => {
                    let message = "empty group `{}`: a group lists at least one name, as in \
                                   `{a b}`";
                    return Err(Diagnostic::new(open.start..token.span.end, message));
                }
                Kind::Close => {
                    self.pos += 1;
                    return Ok(Item::Group(names));
                }
                Kind::Separator | Kind::Arrow | Kind::Open | Kind::OpenBracket => {
                    return Err(self.unclosed(open, "names and then `}`, as in `{a b}`"));
                }
                _ => return Err(self.unexpected(&token, "a name or `}`")),
            }
        }
    }
    /// A name in a chain, its word at `span` already read, with the addresses that follow it.
    /// Bad addresses are reported and left out, so that parsing goes on.
    fn end(&mut self, span: Range<usize>) -> End<'t> {
        let name = self.name(span);
        let mut end = End {
            span: name.span.clone(),
            name,
            v4: None,
            v6: None,
        };
        while self.peek_kind() == Some(Kind::At) {
            let at = self.bump().span;
            let Some(word) = self.peek().filter(|t| t.kind == Kind::Word).cloned() else {
                let message = format!(
                    "`@` needs an address after it, as in `{0}@10.0.100.7` or `{0}@fd00::7`",
                    end.name.value
                );
                self.diagnostics.push(Diagnostic::new(at, message));
                break;
            };
            self.pos += 1;
            end.span.end = word.span.end;
            let text = self.slice(&word.span);
            let span = word.span;
            let family = match text.parse::<IpAddr>() {
                Ok(IpAddr::V4(v4)) if end.v4.is_none() => {
                    end.v4 = Some(Spanned { value: v4, span });
                    continue;
                }
                Ok(IpAddr::V6(v6)) if end.v6.is_none() => {
                    end.v6 = Some(Spanned { value: v6, span });
                    continue;
                }
                Ok(IpAddr::V4(_)) => "IPv4",
                Ok(IpAddr::V6(_)) => "IPv6",
                Err(_) => {
                    let message = match text.split_once('/') {
                        Some((addr, _)) if addr.parse::<IpAddr>().is_ok() => format!(
                            "write the address alone, as in `{}@{addr}`: its prefix length is \
                             that of the segment's subnet (`[subnet=...]`)",
                            end.name.value
                        ),
                        _ => format!(
                            "`{text}` is not an IP address; write one as in `{0}@10.0.100.7` \
                             or `{0}@fd00::7`",
                            end.name.value
                        ),
                    };
                    self.diagnostics.push(Diagnostic::new(span, message));
                    continue;
                }
            };
            let message = format!(
                "`{}` has two {family} addresses; an end of a link takes one of each family, \
                 as in `{}@10.0.100.7@fd00::7`",
                end.name.value, end.name.value
            );
            self.diagnostics.push(Diagnostic::new(span, message));
        }
        end
    }

    /// A name, checked; a bad one is reported and kept, so that parsing goes on.
    fn name(&mut self, span: Range<usize>) -> Spanned<&'t str> {
        let word = self.slice(&span);
        if let Some((problem, bad)) = name_problem(word) {
            let bad = bad.map_or(span.clone(), |(at, len)| {
                span.start + at..span.start + at + len
            });
            self.diagnostics.push(Diagnostic::new(bad, problem));
        }
        Spanned { value: word, span }
    }

    pub(super) fn unclosed(&self, open: Range<usize>, expected: &str) -> Diagnostic {
        let message = format!("unclosed `{}`: expected {expected}", self.slice(&open));
        Diagnostic::new(open, message)
    }

    pub(super) fn unexpected(&self, token: &Token, expected: &str) -> Diagnostic {
        let found = self.slice(&token.span);
        let message = match token.kind {
            Kind::Unknown if found == "-" => {
                "unexpected `-`: a link is written with two dashes, as in `a -- b`".to_owned()
            }
            Kind::Unknown => format!("unexpected character `{found}`: expected {expected}"),
            Kind::Close => "unbalanced `}`: there is no `{` to close; remove it, or open the \
                            group, as in `{a b}`"
                .to_owned(),
            Kind::CloseBracket => "unbalanced `]`: there is no `[` to close; remove it, or open \
                                   the attributes, as in `[subnet=10.0.100.0/24]`"
                .to_owned(),
            Kind::At => "unexpected `@`: an address follows a name in a link, as in \
                         `a@10.0.100.7 -- b`"
                .to_owned(),
            _ => format!("expected {expected}, found `{found}`"),
        };
        Diagnostic::new(token.span.clone(), message)
    }
}

/// What is wrong with `word` as a name, and where in it, if it is not the whole word
/// (`(byte offset, byte length)`).
fn name_problem(word: &str) -> Option<(String, Option<(usize, usize)>)> {
    let valid = "a name has ASCII letters, digits, `_` and `-`, and starts with a letter";
    let problem = if word == "switch" {
        "`switch` is a keyword and cannot name a node; declare switches in a statement of their \
         own, as in `switch lan`"
            .to_owned()
    } else if RESERVED.contains(&word) {
        format!(
            "`{word}` is a reserved word and cannot be a name; choose another, such as `{word}1`"
        )
    } else if word.parse::<std::net::Ipv4Addr>().is_ok() || word.parse::<Ipv4Cidr>().is_ok() {
        format!(
            "`{word}` is an address, not a name: nodes are named, as in `client`, and get their \
             addresses from their segment's subnet, as in `a -- b [subnet=10.0.100.0/24]`"
        )
    } else if !word.starts_with(|c: char| c.is_ascii_alphabetic()) {
        format!("`{word}` is not a valid name: {valid}")
    } else if let Some((at, c)) = word
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        let message = format!("`{word}` is not a valid name: `{c}` is not allowed; {valid}");
        return Some((message, Some((at, c.len_utf8()))));
    } else if word.len() > MAX_NAME_LEN {
        format!(
            "`{word}` is too long: {} bytes, and a name has at most {MAX_NAME_LEN} \
             (the Linux interface name limit, IFNAMSIZ - 1)",
            word.len()
        )
    } else {
        return None;
    };
    Some((problem, None))
}

#[cfg(test)]
mod tests {
    use super::super::Topology;

    #[test]
    fn an_address_is_not_a_name() {
        crate::tests::support::assert_errors(
            "«10.0.0.1» -- b; a -- «10.0.1.0/24»",
            &[
                "`10.0.0.1` is an address, not a name: nodes are named, as in `client`, and get \
                 their addresses from their segment's subnet, as in \
                 `a -- b [subnet=10.0.100.0/24]`",
                "`10.0.1.0/24` is an address, not a name: nodes are named, as in `client`, and \
                 get their addresses from their segment's subnet, as in \
                 `a -- b [subnet=10.0.100.0/24]`",
            ],
        );
    }

    #[test]
    fn layout_does_not_change_the_meaning() {
        let same = [
            ("a --\n  b", "a -- b"),
            ("a\n  -- b\n\n  -- c", "a -- b -- c"),
            ("a -- # to b\n b", "a -- b"),
            ("a\nb", "{a b}"),
            ("a--b", "a -- b"),
            ("my-node--x", "my-node -- x"),
            ("\n;; a -- b ;;\n", "a -- b"),
            ("\ta\t--\tb # -- c", "a -- b"),
            ("a -- b\r\nc -- d\r\n", "a -- b; c -- d"),
            ("{a, b,} -- c", "{a b} -- c"),
            (
                "switch s t; {a b} -- s; b -- t",
                "switch s\nswitch t\n{a b} -- s; b -- t",
            ),
            (
                "switch s\n{a\n b} -- s [\n subnet=10.0.0.0/24,\n]",
                "switch s; {a b} -- s [subnet = 10.0.0.0/24]",
            ),
            ("abcdefghijklmno -- host", "abcdefghijklmno -- host"),
        ];
        for (text, canonical) in same {
            let parse = |text| Topology::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(parse(text), parse(canonical), "{text:?}");
        }
    }

    #[test]
    fn a_bad_statement_does_not_hide_the_next_one_nor_cause_another() {
        let count = |text| Topology::parse(text).unwrap_err().diagnostics().len();
        assert_eq!(count("{a b -- c\nd -- d"), 2);
        assert_eq!(count("a -- b [subnet=1.2.3.4/8, mtu=1, subnet]"), 3);
        // The link to `lan` is kept without its bad attribute, or it is dropped and `lan` is
        // not blamed for having no link.
        assert_eq!(count("switch lan; a -- lan [mtu=1]"), 1);
        assert_eq!(count("switch lan; a -- lan --"), 1);
        assert_eq!(count("{a a} -- b"), 1);
    }
}
