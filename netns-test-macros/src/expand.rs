//! The output: the user's function, unchanged but for the attributes the harness takes over, and
//! a `TestCase` registered in the runtime's distributed slice.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr, ReturnType};

use crate::args::{Args, Capture};
use crate::errors;
use crate::item::{self, ShouldPanic, TestFn};
use crate::{node, validate};

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
    let settings = Args::parse(args).and_then(|args| {
        let (topology, text) = validate::load(&args.topology)?;
        if let Some(name) = &args.node {
            node::check(name, &text)?;
        }
        Ok((args, topology))
    });
    let test = TestFn::parse(item);
    let ((args, topology), test) = errors::both(settings, test)?;
    Ok(output(&test, &topology, &args))
}

/// How the expansion names a capture mode.
fn capture_mode(krate: &TokenStream, capture: Capture) -> TokenStream {
    match capture {
        Capture::Off => quote!(#krate::__private::CaptureMode::Off),
        Capture::OnFailure => quote!(#krate::__private::CaptureMode::OnFailure),
        Capture::Always => quote!(#krate::__private::CaptureMode::Always),
        Capture::OnFailureBothEnds => quote!(#krate::__private::CaptureMode::OnFailureBothEnds),
        Capture::AlwaysBothEnds => quote!(#krate::__private::CaptureMode::AlwaysBothEnds),
    }
}

/// The function, then its registration in an anonymous `const` so that no name leaks out.
fn output(test: &TestFn, topology: &TokenStream, args: &Args) -> TokenStream {
    // Every path into the runtime starts here: `::netns_test`, or where `crate = "..."` says a
    // crate re-exports it.
    let krate = match &args.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::netns_test),
    };
    let capture = capture_mode(&krate, args.capture);
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
    let node = match &args.node {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    // An async body is a future, run to its end on a runtime in its node; a sync body with a
    // node runs on the test's thread, moved into that node for the call.
    let closure = match (&function.sig.asyncness, &args.node) {
        (None, None) => quote! {
            |#parameter| {
                let #returned = #call;
                #krate::__private::IntoOutcome::into_outcome(#returned)
            }
        },
        (None, Some(name)) => quote! {
            |net| #krate::__private::run_in(net, #name, || {
                let #returned = #call;
                #krate::__private::IntoOutcome::into_outcome(#returned)
            })
        },
        (Some(asyncness), _) => {
            // Without the `tokio` feature, the error about the runtime points at `async`.
            let block_on = quote_spanned!(asyncness.span=> #krate::__private::block_on);
            quote! {
                |net| {
                    let #returned = #block_on(net, #node, #call);
                    #krate::__private::IntoOutcome::into_outcome(#returned)
                }
            }
        }
    };
    let timeout = match args.timeout {
        Some(timeout) => {
            let micros = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
            quote!(::core::option::Option::Some(::core::time::Duration::from_micros(#micros)))
        }
        None => quote!(::core::option::Option::None),
    };

    let (ignore, ignore_reason) = match &test.ignore {
        None => (false, quote!(::core::option::Option::None)),
        Some(None) => (true, quote!(::core::option::Option::None)),
        Some(Some(reason)) => (true, quote!(::core::option::Option::Some(#reason))),
    };
    let should_panic = match &test.should_panic {
        ShouldPanic::No => quote!(#krate::__private::ShouldPanic::No),
        ShouldPanic::Yes => quote!(#krate::__private::ShouldPanic::Yes),
        ShouldPanic::WithMessage(message) => {
            quote!(#krate::__private::ShouldPanic::WithMessage(#message))
        }
    };
    // `file!()` and `line!()` take the place of the tokens they are spanned with: the `fn`.
    let fn_span = function.sig.fn_token.span;
    let file = quote_spanned!(fn_span=> ::core::file!());
    let line = quote_spanned!(fn_span=> ::core::line!());
    let name = LitStr::new(&name, ident.span());

    let case = quote! {
        #krate::__private::TestCase {
            module_path: ::core::module_path!(),
            name: #name,
            topology: #topology,
            ignore: #ignore,
            ignore_reason: #ignore_reason,
            should_panic: #should_panic,
            node: #node,
            timeout: #timeout,
            body: #closure,
            file: #file,
            line: #line,
            capture: #capture,
        }
    };
    crate::libtest::both_harnesses(&krate, function, &case, &name, test.ignore.as_ref())
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
        // The directory the expansion read, which is the one in the environment at run time
        // (under a nextest archive, not the one this test was compiled in).
        let dir = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
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
    fn sync_body_in_a_node_with_a_timeout() {
        insta::assert_snapshot!(expand(
            quote!(
                topology = "client -- server",
                node = "client",
                timeout = "10s"
            ),
            quote! {
                fn in_client() -> Result<(), std::io::Error> {
                    Ok(())
                }
            },
        ));
    }

    #[test]
    fn async_bodies_in_host_and_in_a_node() {
        insta::assert_snapshot!(expand(
            quote!(topology = "client -- server"),
            quote! {
                async fn in_host(net: &Net) {}
            },
        ));
        insta::assert_snapshot!(expand(
            quote!(
                topology = "client -- server",
                node = "server",
                timeout = "1500ms"
            ),
            quote! {
                async fn in_server() {}
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
