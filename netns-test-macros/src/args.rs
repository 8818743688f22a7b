//! The attribute's arguments: `#[netns_test(topology = "...")]` or
//! `#[netns_test(topology_file = "...")]`, with `node = "..."`, `timeout = "..."`, `capture` (or
//! `capture = "always"`) and `crate = "path::to::netns_test"` optional.
//!
//! Each key has its name in [`KEYS`], one field in [`Raw`] and one arm in [`Raw::set`]; its value
//! is read from the value expression by a small function. Adding a key (`timeout = "10s"`,
//! `node = "client"`) is one more of each, plus a reader if its value is not a plain string, and
//! a field of [`Args`] if it is not required.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Token};

use crate::errors::Errors;

/// Every key the attribute accepts, in the order error messages list them.
const KEYS: &[&str] = &[
    "topology",
    "topology_file",
    "node",
    "timeout",
    "capture",
    "crate",
];

/// The arguments, checked as a whole.
pub(crate) struct Args {
    pub(crate) topology: TopologySource,
    /// `node = "..."`: the node the body runs in (checked against the topology later).
    pub(crate) node: Option<LitStr>,
    /// `timeout = "..."`, read.
    pub(crate) timeout: Option<Duration>,
    /// `capture`, `capture = "on-failure"` or `capture = "always"`.
    pub(crate) capture: Capture,
    /// `crate = "..."`: the path the expansion names the runtime by, for a crate that re-exports
    /// netns-test; `None` for `::netns_test`.
    pub(crate) krate: Option<syn::Path>,
}

/// `capture` keeps the test's packet capture when it fails, `capture = "always"` always;
/// `both-ends` (`capture = "both-ends"`, `capture = "always,both-ends"`) keeps each frame at both
/// ends of its link rather than once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Capture {
    #[default]
    Off,
    OnFailure,
    Always,
    OnFailureBothEnds,
    AlwaysBothEnds,
}

/// Where the topology text comes from.
pub(crate) enum TopologySource {
    /// `topology = "..."`: the literal is the text.
    Inline(LitStr),
    /// `topology_file = "..."`: the literal is a path relative to the crate's manifest directory.
    File(LitStr),
}

impl Args {
    /// Parses the tokens between the attribute's parentheses, reporting every error found.
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut raw = Raw::default();
        let parsed = syn::meta::parser(|meta| raw.set(&meta)).parse2(tokens);
        raw.errors.keep(parsed);
        raw.finish()
    }
}

/// The arguments as written, each at most once, before their combination is checked.
#[derive(Default)]
struct Raw {
    topology: Option<Setting<LitStr>>,
    topology_file: Option<Setting<LitStr>>,
    node: Option<Setting<LitStr>>,
    timeout: Option<Setting<Duration>>,
    capture: Option<Setting<Capture>>,
    krate: Option<Setting<syn::Path>>,
    errors: Errors,
}

/// A `key = value` as written; the key is kept to point errors at it.
struct Setting<T> {
    key: Ident,
    value: T,
}

impl Raw {
    /// Reads one `key = value`. An `Err` stops the parse (the syntax is lost); errors that leave
    /// the syntax intact are recorded and the parse goes on.
    fn set(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let key = meta.path.get_ident().map(Ident::to_string);
        match key.as_deref() {
            Some("topology") => set_once(&mut self.topology, &mut self.errors, meta, text),
            Some("topology_file") => {
                set_once(&mut self.topology_file, &mut self.errors, meta, string)
            }
            Some("node") => set_once(&mut self.node, &mut self.errors, meta, string),
            Some("timeout") => set_once(&mut self.timeout, &mut self.errors, meta, timeout),
            Some("capture") => set_capture(&mut self.capture, &mut self.errors, meta),
            Some("crate") => set_once(&mut self.krate, &mut self.errors, meta, crate_path),
            _ => {
                self.errors.push(unknown_key(&meta.path));
                skip_value(meta)
            }
        }
    }

    fn finish(self) -> syn::Result<Args> {
        let topology = match (self.topology, self.topology_file) {
            (Some(inline), None) => TopologySource::Inline(inline.value),
            (None, Some(file)) => TopologySource::File(file.value),
            (Some(_), Some(file)) => {
                return self.errors.finish(Err(syn::Error::new(
                    file.key.span(),
                    "`topology` and `topology_file` cannot be used together: keep one of them",
                )));
            }
            // After an unknown or malformed key, that error says enough: it was likely meant
            // as the topology.
            (None, None) => return Err(self.errors.or_else(missing_topology)),
        };
        let capture = self.capture.map(|c| c.value).unwrap_or_default();
        self.errors.finish(Ok(Args {
            topology,
            node: self.node.map(|setting| setting.value),
            timeout: self.timeout.map(|setting| setting.value),
            capture,
            krate: self.krate.map(|setting| setting.value),
        }))
    }
}

fn missing_topology() -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        "missing topology: write `#[netns_test(topology = \"a -- b\")]`, \
         or `#[netns_test(topology_file = \"path/to/file.topo\")]`",
    )
}

/// Stores the value of `meta` in `slot`, or records that the key was given twice.
fn set_once<T>(
    slot: &mut Option<Setting<T>>,
    errors: &mut Errors,
    meta: &ParseNestedMeta<'_>,
    read: fn(Expr, &Ident) -> syn::Result<T>,
) -> syn::Result<()> {
    let key = meta.path.require_ident()?.clone();
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("expected `{key} = \"...\"`")));
    }
    let expr: Expr = meta.value()?.parse()?;
    let Some(value) = errors.keep(read(expr, &key)) else {
        return Ok(());
    };
    if slot.is_some() {
        errors.push(syn::Error::new(
            key.span(),
            format!("duplicate argument `{key}`: give it once"),
        ));
    } else {
        *slot = Some(Setting { key, value });
    }
    Ok(())
}

/// Reads `capture` (on failure) or `capture = "on-failure" | "always"`.
fn set_capture(
    slot: &mut Option<Setting<Capture>>,
    errors: &mut Errors,
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        return set_once(slot, errors, meta, capture_value);
    }
    let key = meta.path.require_ident()?.clone();
    if slot.is_some() {
        errors.push(syn::Error::new(
            key.span(),
            format!("duplicate argument `{key}`: give it once"),
        ));
    } else {
        *slot = Some(Setting {
            key,
            value: Capture::OnFailure,
        });
    }
    Ok(())
}

fn capture_value(expr: Expr, key: &Ident) -> syn::Result<Capture> {
    let lit = string(expr, key)?;
    let value = lit.value();
    let words: Vec<&str> = value.split(',').map(str::trim).collect();
    match words.as_slice() {
        ["on-failure"] => Ok(Capture::OnFailure),
        ["always"] => Ok(Capture::Always),
        ["both-ends"] | ["on-failure", "both-ends"] | ["both-ends", "on-failure"] => {
            Ok(Capture::OnFailureBothEnds)
        }
        ["always", "both-ends"] | ["both-ends", "always"] => Ok(Capture::AlwaysBothEnds),
        _ => Err(syn::Error::new(
            lit.span(),
            format!(
                "unknown capture mode `{value}`: write `capture` (kept when the test fails), \
                 `capture = \"always\"`, or either with `both-ends` (`capture = \"both-ends\"`, \
                 `capture = \"always,both-ends\"`) to keep each frame at both ends of its link"
            ),
        )),
    }
}

/// Reads a value that must be a string literal.
fn string(expr: Expr, key: &Ident) -> syn::Result<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit),
            attrs,
        }) if attrs.is_empty() => Ok(lit),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes a string literal: `{key} = \"...\"`"),
        )),
    }
}

/// Reads `topology = ...`: a string literal, or `concat!` of string literals (so that a
/// `macro_rules!` can write a family of topologies: `concat!("nat a [type=", $kind, "]")`).
/// The text of a `concat!` is read here, and its errors point at the whole call.
fn text(expr: Expr, key: &Ident) -> syn::Result<LitStr> {
    fn pieces(expr: &Expr, out: &mut String) -> Result<(), ()> {
        match expr {
            Expr::Group(group) => pieces(&group.expr, out),
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit),
                attrs,
            }) if attrs.is_empty() => {
                out.push_str(&lit.value());
                Ok(())
            }
            Expr::Macro(call) if call.mac.path.is_ident("concat") => {
                let parser = syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated;
                let args = call.mac.parse_body_with(parser).map_err(|_| ())?;
                args.iter().try_for_each(|arg| pieces(arg, out))
            }
            _ => Err(()),
        }
    }
    let mut value = String::new();
    match pieces(&expr, &mut value) {
        Ok(()) => {
            let span = syn::spanned::Spanned::span(&expr);
            Ok(LitStr::new(&value, span))
        }
        Err(()) => Err(syn::Error::new_spanned(
            expr,
            format!(
                "`{key}` takes a string literal, or `concat!` of string literals: \
                 `{key} = \"...\"`"
            ),
        )),
    }
}

/// Reads `timeout = "10s"`: a string literal holding a duration.
fn timeout(expr: Expr, key: &Ident) -> syn::Result<Duration> {
    let literal = string(expr, key)?;
    netns_test_topology::parse_timeout(&literal.value())
        .map_err(|message| syn::Error::new(literal.span(), format!("timeout: {message}")))
}

/// Reads `crate = "my_kit::netns_test"`: a string literal holding the path of a re-export of
/// netns-test, as tokio's attribute reads its `crate = "..."`.
fn crate_path(expr: Expr, key: &Ident) -> syn::Result<syn::Path> {
    let literal = string(expr, key)?;
    literal.parse::<syn::Path>().map_err(|_| {
        syn::Error::new(
            literal.span(),
            format!(
                "`{}` is not a path: write the path netns-test is re-exported at, as in \
                 `crate = \"my_test_kit::netns_test\"`",
                literal.value()
            ),
        )
    })
}

/// Consumes whatever follows an unknown key, so that the keys after it are still checked.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

fn unknown_key(path: &syn::Path) -> syn::Error {
    let name = quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "");
    let valid = KEYS
        .iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match did_you_mean(&name) {
        Some(key) => format!("unknown argument `{name}`; did you mean `{key}`? (valid: {valid})"),
        None => format!("unknown argument `{name}` (valid: {valid})"),
    };
    syn::Error::new_spanned(path, message)
}

/// The valid key closest to `name`, if it is close enough to be a typo of it.
fn did_you_mean(name: &str) -> Option<&'static str> {
    netns_test_topology::did_you_mean(&name.replace('-', "_"), KEYS)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{Args, Capture, TopologySource, did_you_mean};

    fn messages(tokens: proc_macro2::TokenStream) -> Vec<String> {
        match Args::parse(tokens) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|error| error.to_string()).collect(),
        }
    }

    #[test]
    fn reads_either_source() {
        let args = Args::parse(quote!(topology = "a -- b")).unwrap();
        assert!(matches!(args.topology, TopologySource::Inline(text) if text.value() == "a -- b"));
        let args = Args::parse(quote!(topology_file = "x.topo",)).unwrap();
        assert!(matches!(args.topology, TopologySource::File(path) if path.value() == "x.topo"));
    }

    #[test]
    fn reads_a_topology_made_by_concat() {
        let args = Args::parse(quote!(
            topology = concat!("a -- ", "nat [x=", concat!("y", "]"))
        ))
        .unwrap();
        assert!(
            matches!(args.topology, TopologySource::Inline(text) if text.value() == "a -- nat [x=y]")
        );
        assert_eq!(
            messages(quote!(topology = concat!("a", 1))),
            [
                "`topology` takes a string literal, or `concat!` of string literals: `topology = \"...\"`"
            ]
        );
    }

    #[test]
    fn reports_every_bad_key_and_value() {
        assert_eq!(
            messages(quote!(
                retries = 3,
                topology = 1,
                topology_fle(x),
                topology = "a"
            )),
            [
                "unknown argument `retries` (valid: `topology`, `topology_file`, `node`, `timeout`, `capture`, `crate`)",
                "`topology` takes a string literal, or `concat!` of string literals: \
                 `topology = \"...\"`",
                "unknown argument `topology_fle`; did you mean `topology_file`? \
                 (valid: `topology`, `topology_file`, `node`, `timeout`, `capture`, `crate`)",
            ]
        );
    }

    #[test]
    fn rejects_repeated_conflicting_and_missing_sources() {
        assert_eq!(
            messages(quote!(topology = "a -- b", topology = "c -- d")),
            ["duplicate argument `topology`: give it once"]
        );
        assert_eq!(
            messages(quote!(topology_file = "x", topology = "a -- b")),
            ["`topology` and `topology_file` cannot be used together: keep one of them"]
        );
        assert_eq!(messages(quote!()).len(), 1);
        assert!(messages(quote!())[0].starts_with("missing topology: write"));
        assert_eq!(
            messages(quote!(topology)),
            ["expected `topology = \"...\"`"]
        );
    }

    #[test]
    fn capture_is_a_flag_or_a_mode() {
        let mode = |tokens| Args::parse(tokens).map(|args| args.capture).unwrap();
        assert_eq!(mode(quote!(topology = "a -- b")), Capture::Off);
        assert_eq!(
            mode(quote!(topology = "a -- b", capture)),
            Capture::OnFailure
        );
        assert_eq!(
            mode(quote!(capture = "on-failure", topology = "a -- b")),
            Capture::OnFailure
        );
        assert_eq!(
            mode(quote!(topology = "a -- b", capture = "always")),
            Capture::Always
        );
        assert_eq!(
            mode(quote!(topology = "a -- b", capture = "both-ends")),
            Capture::OnFailureBothEnds
        );
        assert_eq!(
            mode(quote!(topology = "a -- b", capture = "always, both-ends")),
            Capture::AlwaysBothEnds
        );
        assert_eq!(
            messages(quote!(topology = "a -- b", capture = "sometimes")),
            [
                "unknown capture mode `sometimes`: write `capture` (kept when the test fails), \
                 `capture = \"always\"`, or either with `both-ends` (`capture = \"both-ends\"`, \
                 `capture = \"always,both-ends\"`) to keep each frame at both ends of its link"
            ]
        );
        assert_eq!(
            messages(quote!(topology = "a -- b", capture, capture = "always")),
            ["duplicate argument `capture`: give it once"]
        );
    }

    #[test]
    fn reads_node_and_timeout() {
        let args =
            Args::parse(quote!(topology = "a -- b", node = "a", timeout = "1500ms")).unwrap();
        assert_eq!(args.node.unwrap().value(), "a");
        assert_eq!(args.timeout, Some(std::time::Duration::from_millis(1500)));
        let args = Args::parse(quote!(topology = "a -- b")).unwrap();
        assert!(args.node.is_none() && args.timeout.is_none());
        assert_eq!(
            messages(quote!(
                topology = "a -- b",
                timeout = "10",
                timeout = 3,
                node = a
            )),
            [
                "timeout: `10` needs a unit: `us`, `ms`, `s` or `m`, as in `10s`",
                "`timeout` takes a string literal: `timeout = \"...\"`",
                "`node` takes a string literal: `node = \"...\"`",
            ]
        );
    }

    #[test]
    fn suggests_only_near_misses() {
        assert_eq!(did_you_mean("topolgy"), Some("topology"));
        assert_eq!(did_you_mean("Topology"), Some("topology"));
        assert_eq!(did_you_mean("topology-file"), Some("topology_file"));
        assert_eq!(did_you_mean("topologyfile"), Some("topology_file"));
        assert_eq!(did_you_mean("topo"), None);
        assert_eq!(did_you_mean("file"), None);
        assert_eq!(did_you_mean("timout"), Some("timeout"));
        assert_eq!(did_you_mean("nodes"), Some("node"));
    }
}
