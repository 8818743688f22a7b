//! Reading a `[...]` list: its tokens, each `key=value` handed to the table that knows the
//! keys (`attributes::read` for a chain or options, `attributes::read_nat` for a `nat`
//! statement), problems with one entry reported without ending the list.

use std::ops::Range;

use super::Parser;
use crate::attributes;
use crate::error::Diagnostic;
use crate::lex::Kind;
use crate::syntax::{Attributes, Spanned};

impl<'t> Parser<'t, '_> {
    pub(super) fn attributes(&mut self) -> Result<Attributes, Diagnostic> {
        let mut attributes = Attributes::default();
        let span = self
            .attribute_list("`[subnet=10.0.100.0/24]`", |key, equals, value, keys| {
                attributes::read(key, equals, value, &mut attributes, keys)
            })?;
        attributes.span = span;
        if let Err(message) = crate::settings::check_together(&attributes.link) {
            self.diagnostics
                .push(Diagnostic::new(attributes.span.clone(), message));
        }
        Ok(attributes)
    }

    /// Reads a `[...]`, handing each `key=value` to `read` with the keys seen before it, and
    /// returns its span. `example` is a valid list, for errors. Problems with one entry are
    /// reported without ending the list.
    pub(super) fn attribute_list(
        &mut self,
        example: &str,
        mut read: impl FnMut(
            Spanned<&'t str>,
            bool,
            Option<Spanned<&'t str>>,
            &mut Vec<&'t str>,
        ) -> Result<(), Diagnostic>,
    ) -> Result<Range<usize>, Diagnostic> {
        let open = self.bump().span;
        let expected = format!("attributes and then `]`, as in {example}");
        let mut keys: Vec<&str> = Vec::new();
        let mut entries = 0;
        loop {
            let Some(token) = self.peek().cloned() else {
                return Err(self.unclosed(open, &expected));
            };
            match token.kind {
                Kind::Word => {
                    self.pos += 1;
                    entries += 1;
                    let key = Spanned {
                        value: self.slice(&token.span),
                        span: token.span,
                    };
                    let equals = self.peek_kind() == Some(Kind::Equals);
                    if equals {
                        self.pos += 1;
                    }
                    let value = match self.peek_kind() {
                        Some(Kind::Word) => {
                            let span = self.bump().span;
                            Some(Spanned {
                                value: self.slice(&span),
                                span,
                            })
                        }
                        _ => None,
                    };
                    if let Err(diagnostic) = read(key, equals, value, &mut keys) {
                        self.diagnostics.push(diagnostic);
                    }
                }
                Kind::Comma => self.pos += 1,
                Kind::CloseBracket => {
                    self.pos += 1;
                    let span = open.start..token.span.end;
                    if entries == 0 {
                        let message = format!(
                            "empty attribute list `[]`: write an attribute, as in {example}, or \
                             remove the brackets"
                        );
                        return Err(Diagnostic::new(span, message));
                    }
                    return Ok(span);
                }
                Kind::Equals | Kind::Unknown | Kind::Close | Kind::At => {
                    return Err(self.unexpected(&token, "an attribute or `]`"));
                }
                Kind::Separator | Kind::Arrow | Kind::Open | Kind::OpenBracket => {
                    return Err(self.unclosed(open, &expected));
                }
            }
        }
    }
}
