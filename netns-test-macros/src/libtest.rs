//! The output, fit for both harnesses.
//!
//! The user's function and its `TestCase` go into an anonymous `const`, the `TestCase` into the
//! distributed slice that this crate's harness (`harness = false`, `netns_test::main!()`) reads.
//! Beside it comes an ordinary `#[test]` function of the same name, for targets with libtest's
//! default harness: it runs the registered case through
//! `#krate::__private::run_under_libtest`, which makes the sandbox. rustc compiles
//! `#[test]` functions only under `--test`, that is for libtest's harness, so a `harness = false`
//! target never sees it; and since the user's function sits inside the `const`, the two names
//! never collide. (`cfg(test)` cannot tell the two apart: cargo sets it for every test target.)

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, LitStr};

/// Emits the function, its registration and the libtest entry. `krate` is the path of the
/// runtime, `case` the `TestCase` expression, `name` the function's name, `ignore` what `#[ignore]` said.
pub(crate) fn both_harnesses(
    krate: &TokenStream,
    function: &ItemFn,
    case: &TokenStream,
    name: &LitStr,
    ignore: Option<&Option<LitStr>>,
) -> TokenStream {
    let ident = &function.sig.ident;
    let ignore = match ignore {
        None => quote!(),
        Some(None) => quote!(#[ignore]),
        Some(Some(reason)) => quote!(#[ignore = #reason]),
    };
    quote! {
        const _: () = {
            #function

            #[#krate::__private::linkme::distributed_slice(#krate::__private::TESTS)]
            #[linkme(crate = #krate::__private::linkme)]
            static __NETNS_TEST: #krate::__private::TestCase = #case;
        };

        #[::core::prelude::v1::test]
        #ignore
        fn #ident() {
            #krate::__private::run_under_libtest(::core::module_path!(), #name)
        }
    }
}
