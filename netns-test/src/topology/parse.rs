//! The syntax of the topology language: from text to statements, with every syntax error.
//!
//! The language itself is documented once, on [`Topology`](super::Topology). Here:
//!
//! - The lexer reads a *word* wider than a valid name (any letters, digits, `_ - . / :`), so that
//!   `10.0.0.1` or `café` is reported as one bad name rather than as stray characters; the same
//!   words are attribute keys and values. `--` is never part of a word.
//! - Newlines that cannot end a statement (inside `{}` or `[]`, next to a `--`) are dropped
//!   before parsing, so the parser only sees `;`-like separators.
//! - A statement with a syntax error is reported and dropped, and parsing resumes at the next
//!   separator. Bad names and attributes do not stop their statement: the rest of it is still
//!   read, so that all of its problems are reported too.
//! - Attributes are table-driven: adding one is a row in [`ATTRIBUTES`] and a field in
//!   [`Attributes`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::error::{Diagnostic, did_you_mean};
use super::settings::{self, LinkSettings};
use super::{Ipv4Cidr, Ipv6Cidr};

/// The longest name: `IFNAMSIZ - 1` bytes.
const MAX_NAME_LEN: usize = 15;

/// Words that cannot be names. `switch` cannot either (it would read as a switch), and has a
/// message of its own. `router` and `host` can: they declare only at the start of a statement
/// and before a name (`router r1`), and `host` alone names the test's own namespace.
const RESERVED: [&str; 1] = ["bridge"];

/// The words that start a declaration when a name follows them.
const KEYWORDS: [&str; 3] = ["switch", "router", "host"];

/// A value with the byte range it was written at.
#[derive(Clone, Debug)]
pub(super) struct Spanned<T> {
    pub(super) value: T,
    pub(super) span: Range<usize>,
}

/// One statement that parsed without error.
#[derive(Debug)]
pub(super) enum Statement<'t> {
    /// `switch a b`
    Switches(Vec<Spanned<&'t str>>),
    /// `router a b` or `host a b`: the role of nodes, whatever their number of links.
    Roles {
        role: Spanned<Role>,
        names: Vec<Spanned<&'t str>>,
    },
    /// `[ipv6=off]` on a line of its own: options of the whole topology.
    Options(Attributes),
    /// `a -- {b c} -- d [subnet=...]`
    Chain {
        items: Vec<Item<'t>>,
        attributes: Option<Attributes>,
    },
}

/// What a `router` or `host` declaration makes of its nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Role {
    /// Forwards, takes the top addresses, routes to every subnet; even with one link.
    Router,
    /// Does not forward, takes the low addresses, has a default route; even with two links.
    Host,
}

impl Role {
    pub(super) fn keyword(self) -> &'static str {
        match self {
            Role::Router => "router",
            Role::Host => "host",
        }
    }
}

/// One name in a chain, with the addresses written for its end of the link: `a@10.0.1.7`.
#[derive(Clone, Debug)]
pub(super) struct End<'t> {
    pub(super) name: Spanned<&'t str>,
    pub(super) v4: Option<Spanned<Ipv4Addr>>,
    pub(super) v6: Option<Spanned<Ipv6Addr>>,
    /// The whole `a@...`.
    pub(super) span: Range<usize>,
}

impl End<'_> {
    pub(super) fn has_address(&self) -> bool {
        self.v4.is_some() || self.v6.is_some()
    }
}

/// One side of a `--`: a name or a `{}` group of names.
#[derive(Debug)]
pub(super) enum Item<'t> {
    Name(End<'t>),
    Group(Vec<End<'t>>),
}

impl<'t> Item<'t> {
    pub(super) fn names(&self) -> &[End<'t>] {
        match self {
            Item::Name(name) => std::slice::from_ref(name),
            Item::Group(names) => names,
        }
    }
}

/// The attributes of one chain, each with where its value was written.
#[derive(Debug, Default)]
pub(super) struct Attributes {
    /// The whole `[...]`.
    pub(super) span: Range<usize>,
    /// `subnet=`: the IPv4 network of the chain's segment.
    pub(super) subnet: Option<Spanned<Ipv4Cidr>>,
    /// `subnet6=`: the IPv6 network of the chain's segment.
    pub(super) subnet6: Option<Spanned<Ipv6Cidr>>,
    /// `ipv6=on|off`: whether the network has IPv6 (a whole-topology option).
    pub(super) ipv6: Option<Spanned<bool>>,
    /// `mtu=`, `rate=`, `delay=`, `loss=`: the settings of every link of the chain.
    pub(super) link: LinkSettings,
}

/// One known attribute: its key and how to read its value into [`Attributes`].
struct AttributeKind {
    key: &'static str,
    example: &'static str,
    set: fn(&mut Attributes, Spanned<&str>) -> Result<(), Diagnostic>,
}

/// Every attribute a chain may carry.
const ATTRIBUTES: [AttributeKind; 7] = [
    AttributeKind {
        key: "subnet",
        example: "subnet=10.0.100.0/24",
        set: set_subnet,
    },
    AttributeKind {
        key: "subnet6",
        example: "subnet6=fd00:0:0:100::/64",
        set: set_subnet6,
    },
    AttributeKind {
        key: "ipv6",
        example: "[ipv6=off]",
        set: set_ipv6,
    },
    AttributeKind {
        key: "mtu",
        example: "mtu=1280",
        set: |a, v| {
            a.link.mtu = Some(setting(v, settings::parse_mtu)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "rate",
        example: "rate=10mbit",
        set: |a, v| {
            a.link.rate = Some(setting(v, settings::parse_rate)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "delay",
        example: "delay=50ms",
        set: |a, v| {
            a.link.delay_us = Some(setting(v, settings::parse_delay)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "loss",
        example: "loss=1%",
        set: |a, v| {
            a.link.loss_ppm = Some(setting(v, settings::parse_loss)?);
            Ok(())
        },
    },
];

/// Reads a link setting's value with `parse`, reporting a problem on the value.
fn setting<T>(value: Spanned<&str>, parse: fn(&str) -> Result<T, String>) -> Result<T, Diagnostic> {
    parse(value.value).map_err(|message| Diagnostic::new(value.span, message))
}

fn set_subnet(attributes: &mut Attributes, value: Spanned<&str>) -> Result<(), Diagnostic> {
    let subnet = Ipv4Cidr::parse_subnet(value.value, value.span.clone())?;
    attributes.subnet = Some(Spanned {
        value: subnet,
        span: value.span,
    });
    Ok(())
}

fn set_subnet6(attributes: &mut Attributes, value: Spanned<&str>) -> Result<(), Diagnostic> {
    let subnet = Ipv6Cidr::parse_subnet(value.value, value.span.clone())?;
    attributes.subnet6 = Some(Spanned {
        value: subnet,
        span: value.span,
    });
    Ok(())
}

fn set_ipv6(attributes: &mut Attributes, value: Spanned<&str>) -> Result<(), Diagnostic> {
    let on = match value.value {
        "on" => true,
        "off" => false,
        other => {
            let message = format!("`ipv6` is `on` or `off`, not `{other}`: write `[ipv6=off]`");
            return Err(Diagnostic::new(value.span, message));
        }
    };
    attributes.ipv6 = Some(Spanned {
        value: on,
        span: value.span,
    });
    Ok(())
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Word,
    Arrow,
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Comma,
    Equals,
    /// `@`, before an address.
    At,
    /// `;`, or a newline that ends a statement.
    Separator,
    /// Any other character.
    Unknown,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    span: Range<usize>,
    newline: bool,
}

/// A word is a name, an attribute key or an attribute value. It is lexed wider than a valid
/// name, so that `10.0.0.1` or `café` is reported as one bad name rather than as stray characters.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '%')
}

fn lex(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let kind = match c {
            '\n' => Kind::Separator,
            '#' => {
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
                continue;
            }
            c if c.is_whitespace() => continue,
            ';' => Kind::Separator,
            '{' => Kind::Open,
            '}' => Kind::Close,
            '[' => Kind::OpenBracket,
            ']' => Kind::CloseBracket,
            ',' => Kind::Comma,
            '=' => Kind::Equals,
            '@' => Kind::At,
            '-' if chars.next_if(|&(_, c)| c == '-').is_some() => Kind::Arrow,
            '-' => Kind::Unknown,
            c if is_word_char(c) => {
                while chars
                    .next_if(|&(i, c)| is_word_char(c) && !text[i..].starts_with("--"))
                    .is_some()
                {}
                Kind::Word
            }
            _ => Kind::Unknown,
        };
        let end = chars.peek().map_or(text.len(), |&(i, _)| i);
        tokens.push(Token {
            kind,
            span: start..end,
            newline: c == '\n',
        });
    }
    tokens
}

/// Drops the newlines that cannot end a statement: inside `{}` or `[]`, and next to a `--`.
fn join_lines(tokens: Vec<Token>) -> Vec<Token> {
    let mut joined: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut inside = false;
    for token in tokens {
        match token.kind {
            Kind::Open | Kind::OpenBracket => inside = true,
            Kind::Close | Kind::CloseBracket => inside = false,
            Kind::Separator if !token.newline => inside = false,
            Kind::Separator if inside || joined.last().is_some_and(|t| t.kind == Kind::Arrow) => {
                continue;
            }
            Kind::Arrow => {
                inside = false;
                while joined.last().is_some_and(|t| t.newline) {
                    joined.pop();
                }
            }
            _ => {}
        }
        joined.push(token);
    }
    joined
}

struct Parser<'t, 'd> {
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
    diagnostics: &'d mut Vec<Diagnostic>,
}

impl<'t> Parser<'t, '_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_kind(&self) -> Option<Kind> {
        self.peek().map(|t| t.kind)
    }

    /// The next token, which the caller has peeked.
    fn bump(&mut self) -> Token {
        self.pos += 1;
        self.tokens[self.pos - 1].clone()
    }

    fn slice(&self, span: &Range<usize>) -> &'t str {
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

    fn attributes(&mut self) -> Result<Attributes, Diagnostic> {
        let open = self.bump().span;
        let expected = "attributes and then `]`, as in `[subnet=10.0.100.0/24]`";
        let mut attributes = Attributes::default();
        let mut keys: Vec<&str> = Vec::new();
        let mut entries = 0;
        loop {
            let Some(token) = self.peek().cloned() else {
                return Err(self.unclosed(open, expected));
            };
            match token.kind {
                Kind::Word => {
                    self.pos += 1;
                    entries += 1;
                    let key = Spanned {
                        value: self.slice(&token.span),
                        span: token.span,
                    };
                    self.attribute(key, &mut attributes, &mut keys);
                }
                Kind::Comma => self.pos += 1,
                Kind::CloseBracket => {
                    self.pos += 1;
                    attributes.span = open.start..token.span.end;
                    if entries == 0 {
                        let message = "empty attribute list `[]`: write an attribute, as in \
                                       `[subnet=10.0.100.0/24]`, or remove the brackets";
                        return Err(Diagnostic::new(attributes.span, message));
                    }
                    return Ok(attributes);
                }
                Kind::Equals | Kind::Unknown | Kind::Close | Kind::At => {
                    return Err(self.unexpected(&token, "an attribute or `]`"));
                }
                Kind::Separator | Kind::Arrow | Kind::Open | Kind::OpenBracket => {
                    return Err(self.unclosed(open, expected));
                }
            }
        }
    }

    /// One `key=value`, its key already read. Problems are reported without ending the list.
    fn attribute(
        &mut self,
        key: Spanned<&'t str>,
        attributes: &mut Attributes,
        keys: &mut Vec<&'t str>,
    ) {
        let equals = self.peek_kind() == Some(Kind::Equals);
        if equals {
            self.pos += 1;
        }
        let value = match self.peek_kind() {
            Some(Kind::Word) => Some(self.bump().span),
            _ => None,
        };
        let Some(kind) = ATTRIBUTES.iter().find(|a| a.key == key.value) else {
            let valid: Vec<&str> = ATTRIBUTES.iter().map(|a| a.key).collect();
            let hint = did_you_mean(key.value, &valid)
                .map_or(";".to_owned(), |key| format!(": did you mean `{key}`?"));
            let message = format!(
                "unknown attribute `{}`{hint} valid attributes: `{}`",
                key.value,
                valid.join("`, `")
            );
            self.diagnostics.push(Diagnostic::new(key.span, message));
            return;
        };
        let message = match value {
            _ if keys.contains(&key.value) => {
                format!("attribute `{}` is given twice; give it once", key.value)
            }
            Some(value) if equals => {
                keys.push(key.value);
                let value = Spanned {
                    value: self.slice(&value),
                    span: value,
                };
                if let Err(diagnostic) = (kind.set)(attributes, value) {
                    self.diagnostics.push(diagnostic);
                }
                return;
            }
            Some(value) => format!(
                "missing `=` between `{}` and `{}`, as in `{}`",
                key.value,
                self.slice(&value),
                kind.example
            ),
            None => format!(
                "attribute `{}` needs a value, as in `{}`",
                key.value, kind.example
            ),
        };
        self.diagnostics.push(Diagnostic::new(key.span, message));
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

    fn unclosed(&self, open: Range<usize>, expected: &str) -> Diagnostic {
        let message = format!("unclosed `{}`: expected {expected}", self.slice(&open));
        Diagnostic::new(open, message)
    }

    fn unexpected(&self, token: &Token, expected: &str) -> Diagnostic {
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
        super::super::error::assert_errors(
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
