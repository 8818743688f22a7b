//! The test function: its signature is checked, and the `#[ignore]` and `#[should_panic]` it
//! carries are taken off it, since the harness (not rustc) acts on them.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{
    AttrStyle, Attribute, Expr, ExprLit, FnArg, GenericParam, Item, ItemFn, Lit, LitStr, Meta,
    Signature, Type,
};

use crate::errors::Errors;

/// A function that passed every check.
pub(crate) struct TestFn {
    /// The function as it is emitted again: without `#[ignore]` and `#[should_panic]`.
    pub(crate) function: ItemFn,
    /// The type of the network argument (`&Net`), or `None` for a function without argument.
    pub(crate) argument: Option<Type>,
    /// `Some` when `#[ignore]` was present, with the reason of `#[ignore = "reason"]`.
    pub(crate) ignore: Option<Option<LitStr>>,
    pub(crate) should_panic: ShouldPanic,
}

/// What `#[should_panic]` said.
pub(crate) enum ShouldPanic {
    No,
    Yes,
    /// `#[should_panic = "..."]` or `#[should_panic(expected = "...")]`.
    WithMessage(LitStr),
}

/// What a test function looks like, for error messages.
const SHAPE: &str = "`fn name(net: &Net)` or `fn name()`";

impl TestFn {
    /// Parses the annotated item and checks it, reporting every problem found.
    pub(crate) fn parse(item: TokenStream) -> syn::Result<Self> {
        let mut function = match syn::parse2::<Item>(item)? {
            Item::Fn(function) => function,
            other => return Err(not_a_function(&other)),
        };
        let mut errors = Errors::default();
        check_qualifiers(&function.sig, &mut errors);
        let argument = errors.keep(argument(&function.sig));
        let (ignore, should_panic) = take_attributes(&mut function.attrs, &mut errors);
        errors.finish(Ok(()))?;
        Ok(TestFn {
            function,
            argument: argument.flatten(),
            ignore,
            should_panic,
        })
    }
}

fn not_a_function(item: &Item) -> syn::Error {
    let (what, span) = match item {
        Item::Const(item) => ("a constant", item.const_token.span),
        Item::Enum(item) => ("an enum", item.enum_token.span),
        Item::ExternCrate(item) => ("an `extern crate`", item.extern_token.span),
        Item::ForeignMod(item) => ("an `extern` block", item.abi.extern_token.span),
        Item::Impl(item) => ("an `impl` block", item.impl_token.span),
        Item::Macro(item) => ("a macro", item.mac.path.span()),
        Item::Mod(item) => ("a module", item.mod_token.span),
        Item::Static(item) => ("a static", item.static_token.span),
        Item::Struct(item) => ("a struct", item.struct_token.span),
        Item::Trait(item) => ("a trait", item.trait_token.span),
        Item::TraitAlias(item) => ("a trait alias", item.trait_token.span),
        Item::Type(item) => ("a type alias", item.type_token.span),
        Item::Union(item) => ("a union", item.union_token.span),
        Item::Use(item) => ("a `use`", item.use_token.span),
        _ => ("this item", Span::call_site()),
    };
    syn::Error::new(
        span,
        format!("`#[netns_test]` goes on a test function, {SHAPE}, not on {what}"),
    )
}

/// Rejects `const`, `unsafe`, `extern`, generics and variadics. `async` is welcome: the
/// expansion runs the future on a tokio runtime.
fn check_qualifiers(sig: &Signature, errors: &mut Errors) {
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new(
            token.span,
            "a `#[netns_test]` function cannot be `const`",
        ));
    }
    if let Some(token) = &sig.unsafety {
        errors.push(syn::Error::new(
            token.span,
            "a `#[netns_test]` function cannot be `unsafe`: use an `unsafe` block in its body",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "a `#[netns_test]` function cannot be `extern`",
        ));
    }
    for param in &sig.generics.params {
        if !matches!(param, GenericParam::Lifetime(_)) {
            errors.push(syn::Error::new_spanned(
                param,
                "a `#[netns_test]` function cannot be generic: the harness has no type to give it",
            ));
        }
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "a `#[netns_test]` function cannot be variadic",
        ));
    }
}

/// The type of the one argument, if any; every argument but the first is an error.
fn argument(sig: &Signature) -> syn::Result<Option<Type>> {
    let mut errors = Errors::default();
    let mut argument = None;
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new(
                receiver.self_token.span,
                format!("a `#[netns_test]` function cannot take `self`: write {SHAPE}"),
            )),
            FnArg::Typed(typed) if argument.is_none() => {
                argument = errors.keep(network_type(&typed.ty).map(|()| (*typed.ty).clone()));
            }
            FnArg::Typed(extra) => errors.push(syn::Error::new_spanned(
                extra,
                "a `#[netns_test]` function takes at most one argument, the network: \
                 `net: &Net`",
            )),
        }
    }
    errors.finish(Ok(argument))
}

/// Checks that the argument is a shared reference. What it refers to is left to rustc, so that
/// `&Net`, `&netns_test::Net` and aliases all work and a wrong type gets rustc's own message.
fn network_type(ty: &Type) -> syn::Result<()> {
    match ty {
        Type::Paren(inner) => network_type(&inner.elem),
        Type::Group(inner) => network_type(&inner.elem),
        Type::Reference(reference) => match &reference.mutability {
            Some(token) => Err(syn::Error::new(
                token.span,
                "the network is shared: take it as `net: &Net`, not `&mut`",
            )),
            None => Ok(()),
        },
        other => Err(syn::Error::new_spanned(
            other,
            "the argument must be a reference to the network: `net: &Net`",
        )),
    }
}

/// Takes `#[ignore]` and `#[should_panic]` off the function, wherever they stand.
fn take_attributes(
    attrs: &mut Vec<Attribute>,
    errors: &mut Errors,
) -> (Option<Option<LitStr>>, ShouldPanic) {
    let mut ignore = None;
    let mut should_panic = None;
    attrs.retain(|attr| {
        if !is_taken(attr) {
            if attr.path().is_ident("test") {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "`#[netns_test]` registers the test itself: remove `#[test]`",
                ));
            }
            return true;
        }
        if attr.path().is_ident("ignore") {
            set_once(&mut ignore, read_ignore(attr), attr, errors);
        } else {
            set_once(&mut should_panic, read_should_panic(attr), attr, errors);
        }
        false
    });
    (ignore, should_panic.unwrap_or(ShouldPanic::No))
}

/// Whether `attr` is one the harness acts on, and so is taken off the function.
pub(crate) fn is_taken(attr: &Attribute) -> bool {
    matches!(attr.style, AttrStyle::Outer)
        && (attr.path().is_ident("ignore") || attr.path().is_ident("should_panic"))
}

fn set_once<T>(slot: &mut Option<T>, value: syn::Result<T>, attr: &Attribute, errors: &mut Errors) {
    let Some(value) = errors.keep(value) else {
        return;
    };
    if slot.is_some() {
        let name = attr.path().to_token_stream();
        errors.push(syn::Error::new_spanned(
            attr,
            format!("`#[{name}]` is given twice: keep one"),
        ));
    } else {
        *slot = Some(value);
    }
}

/// `#[ignore]` or `#[ignore = "reason"]`.
fn read_ignore(attr: &Attribute) -> syn::Result<Option<LitStr>> {
    match &attr.meta {
        Meta::Path(_) => return Ok(None),
        Meta::NameValue(pair) => {
            if let Some(reason) = string(&pair.value) {
                return Ok(Some(reason));
            }
        }
        Meta::List(_) => {}
    }
    Err(syn::Error::new_spanned(
        attr,
        "expected `#[ignore]` or `#[ignore = \"reason\"]`",
    ))
}

/// `#[should_panic]`, `#[should_panic = "message"]` or `#[should_panic(expected = "message")]`.
fn read_should_panic(attr: &Attribute) -> syn::Result<ShouldPanic> {
    let message = match &attr.meta {
        Meta::Path(_) => return Ok(ShouldPanic::Yes),
        Meta::NameValue(pair) => string(&pair.value),
        Meta::List(_) => {
            let mut expected = None;
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("expected") && expected.is_none() {
                    expected = Some(meta.value()?.parse::<LitStr>()?);
                    Ok(())
                } else {
                    Err(meta.error("unexpected"))
                }
            });
            parsed.ok().and(expected)
        }
    };
    message.map(ShouldPanic::WithMessage).ok_or_else(|| {
        syn::Error::new_spanned(
            attr,
            "expected `#[should_panic]`, `#[should_panic = \"message\"]` \
             or `#[should_panic(expected = \"message\")]`",
        )
    })
}

/// The string of a string literal expression.
fn string(expr: &Expr) -> Option<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{ShouldPanic, TestFn};

    fn messages(item: proc_macro2::TokenStream) -> Vec<String> {
        match TestFn::parse(item) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|error| error.to_string()).collect(),
        }
    }

    #[test]
    fn every_problem_of_a_signature_is_reported() {
        let messages = messages(quote! {
            const async unsafe extern "C" fn f<T, const N: usize>(a: Net, b: &Net) {}
        });
        assert_eq!(messages.len(), 6, "{messages:#?}");
        assert!(messages[0].contains("`const`"));
        assert!(messages[1].contains("`unsafe`"));
        assert!(messages[2].contains("`extern`"));
        assert!(messages[3].contains("cannot be generic"));
        assert!(messages[4].contains("cannot be generic"));
        assert!(messages[5].contains("must be a reference"));
    }

    #[test]
    fn accepts_references_of_any_spelling_and_lifetime_parameters() {
        for item in [
            quote!(
                fn f() {}
            ),
            quote!(
                fn f(net: &Net) {}
            ),
            quote!(
                async fn f(net: &Net) {}
            ),
            quote!(
                fn f(_: &netns_test::Net) -> Result<(), String> {
                    Ok(())
                }
            ),
            quote!(
                fn f<'a>(net: &'a (Net)) {}
            ),
            quote!(
                fn f((net): &Net) -> impl Sized {}
            ),
        ] {
            assert_eq!(messages(item.clone()), Vec::<String>::new(), "{item}");
        }
    }

    #[test]
    fn takes_ignore_and_should_panic_from_anywhere() {
        let test = TestFn::parse(quote! {
            #[should_panic = "boom"]
            /// Doc.
            #[ignore = "slow"]
            #[inline]
            fn f() {}
        })
        .unwrap();
        assert_eq!(test.function.attrs.len(), 2);
        assert_eq!(test.ignore.unwrap().unwrap().value(), "slow");
        assert!(matches!(test.should_panic, ShouldPanic::WithMessage(m) if m.value() == "boom"));

        let test = TestFn::parse(quote!(
            #[ignore]
            #[should_panic]
            fn f() {}
        ))
        .unwrap();
        assert!(matches!(test.ignore, Some(None)));
        assert!(matches!(test.should_panic, ShouldPanic::Yes));
    }

    #[test]
    fn malformed_or_repeated_attributes_are_errors() {
        let malformed = messages(quote! {
            #[ignore("x")]
            #[should_panic(expected = "a", expected = "b")]
            #[should_panic]
            fn f() {}
        });
        assert_eq!(
            malformed,
            [
                "expected `#[ignore]` or `#[ignore = \"reason\"]`",
                "expected `#[should_panic]`, `#[should_panic = \"message\"]` \
                 or `#[should_panic(expected = \"message\")]`",
            ]
        );
        assert_eq!(
            messages(quote!(
                #[should_panic]
                #[should_panic = "x"]
                fn f() {}
            )),
            ["`#[should_panic]` is given twice: keep one"]
        );
    }
}
