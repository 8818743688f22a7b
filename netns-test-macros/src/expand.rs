//! The output: the user's function, unchanged but for the attributes the harness takes over, and
//! a `TestCase` registered in the runtime's distributed slice.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr, ReturnType};

use crate::args::Args;
use crate::errors;
use crate::item::{self, ShouldPanic, TestFn};
use crate::validate;

/// Expands `#[netns_test(args)] item`. On error the item is emitted as written beside the
/// errors, so that the IDE still knows the function and no second wave of errors follows.
pub(crate) fn netns_test(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(error) => {
            let mut tokens = as_written(item);
            tokens.extend(error.into_compile_error());
            tokens
        }
    }
}

/// The item unchanged, but for the `#[ignore]` and `#[should_panic]` of a function: left there,
/// a malformed one would get rustc's own complaint beside ours.
fn as_written(item: TokenStream) -> TokenStream {
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(mut function) => {
            function.attrs.retain(|attr| !item::is_taken(attr));
            function.into_token_stream()
        }
        Err(_) => item,
    }
}

fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let topology = Args::parse(args).and_then(|args| validate::load(&args.topology));
    let test = TestFn::parse(item);
    let (topology, test) = errors::both(topology, test)?;
    Ok(output(&test, &topology))
}

/// The function, then its registration in an anonymous `const` so that no name leaks out.
fn output(test: &TestFn, topology: &TokenStream) -> TokenStream {
    let function = &test.function;
    let ident = &function.sig.ident;
    let name = ident.unraw().to_string();

    // Type errors about the argument or the return value point at the user's own types.
    let (parameter, call) = match &test.argument {
        Some(argument) => {
            let net = quote_spanned!(argument.span()=> net);
            (quote!(net), quote!(#ident(#net)))
        }
        None => (quote!(_), quote!(#ident())),
    };
    let returned = match &function.sig.output {
        ReturnType::Type(_, ty) => quote_spanned!(ty.span()=> returned),
        ReturnType::Default => quote!(returned),
    };
    let closure = quote! {
        |#parameter| {
            let #returned = #call;
            ::netns_test::__private::IntoOutcome::into_outcome(#returned)
        }
    };

    let (ignore, ignore_reason) = match &test.ignore {
        None => (false, quote!(::core::option::Option::None)),
        Some(None) => (true, quote!(::core::option::Option::None)),
        Some(Some(reason)) => (true, quote!(::core::option::Option::Some(#reason))),
    };
    let should_panic = match &test.should_panic {
        ShouldPanic::No => quote!(::netns_test::__private::ShouldPanic::No),
        ShouldPanic::Yes => quote!(::netns_test::__private::ShouldPanic::Yes),
        ShouldPanic::WithMessage(message) => {
            quote!(::netns_test::__private::ShouldPanic::WithMessage(#message))
        }
    };
    // `file!()` and `line!()` take the place of the tokens they are spanned with: the `fn`.
    let fn_span = function.sig.fn_token.span;
    let file = quote_spanned!(fn_span=> ::core::file!());
    let line = quote_spanned!(fn_span=> ::core::line!());
    let name = LitStr::new(&name, ident.span());

    let case = quote! {
        ::netns_test::__private::TestCase {
            module_path: ::core::module_path!(),
            name: #name,
            topology: #topology,
            ignore: #ignore,
            ignore_reason: #ignore_reason,
            should_panic: #should_panic,
            body: #closure,
            file: #file,
            line: #line,
        }
    };
    crate::libtest::both_harnesses(function, &case, &name, test.ignore.as_ref())
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::netns_test;

    /// The expansion as rustfmt-like text, with this crate's directory replaced by a variable so
    /// that the snapshot does not depend on where the repository is.
    fn expand(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
        let tokens = netns_test(args, item);
        let file = syn::parse2::<syn::File>(tokens).expect("the expansion is valid Rust");
        // The macro reads the directory at run time, which cargo-nextest remaps when it runs an
        // archive in another place than where it was built.
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
        prettyplease::unparse(&file).replace(&dir, "$CARGO_MANIFEST_DIR")
    }

    #[test]
    fn network_argument() {
        insta::assert_snapshot!(expand(
            quote!(topology = "client -- gateway -- server"),
            quote! {
                fn client_reaches_server(net: &Net) {
                    net.node("client");
                }
            },
        ));
    }

    #[test]
    fn no_argument_ignored_should_panic_result() {
        insta::assert_snapshot!(expand(
            quote!(topology = "a -- b"),
            quote! {
                /// Documented.
                #[ignore = "slow"]
                #[cfg_attr(any(), allow(unused))]
                #[should_panic(expected = "boom")]
                fn r#loop() -> Result<(), std::io::Error> {
                    Ok(())
                }
            },
        ));
    }

    #[test]
    fn topology_file() {
        insta::assert_snapshot!(expand(
            quote!(topology_file = "testdata/two-nodes.topo"),
            quote! {
                #[should_panic]
                #[ignore]
                fn from_file(_: &netns_test::Net) {}
            },
        ));
    }

    #[test]
    fn errors_keep_the_function() {
        insta::assert_snapshot!(expand(
            quote!(topolgy = "a -- b", topology_file = 1),
            quote! {
                #[ignore]
                async fn two(a: &Net, b: Net) {}
            },
        ));
    }
}
