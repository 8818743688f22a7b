//! The lexer: text to tokens, and the newlines that cannot end a statement dropped, so that
//! the parser sees only `;`-like separators.

use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
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
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) span: Range<usize>,
    newline: bool,
}

/// A word is a name, an attribute key or an attribute value. It is lexed wider than a valid
/// name, so that `10.0.0.1` or `café` is reported as one bad name rather than as stray characters.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '%')
}

pub(super) fn lex(text: &str) -> Vec<Token> {
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
pub(super) fn join_lines(tokens: Vec<Token>) -> Vec<Token> {
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
