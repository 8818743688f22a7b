//! A thousand copies of the seed test, for `cargo xtask bench`: a run of many tests in one
//! process (as `cargo test` runs them), the cost of the first hundred against the last, and the
//! time of `--list`. The tests are `aA::bB::cC::seed` for digits A, B and C, so the filter
//! `a0::` selects exactly one hundred.

macro_rules! leaves {
    ($($c:ident)*) => {$(
        mod $c {
            #[::netns_test::netns_test(topology = "client -- gateway -- server")]
            fn seed(net: &::netns_test::Net) {
                ::netns_test_suites::support::seed::round_trip(net);
            }
        }
    )*};
}

macro_rules! branches {
    ($($b:ident)*) => {$(
        mod $b {
            leaves!(c0 c1 c2 c3 c4 c5 c6 c7 c8 c9);
        }
    )*};
}

macro_rules! trunks {
    ($($a:ident)*) => {$(
        mod $a {
            branches!(b0 b1 b2 b3 b4 b5 b6 b7 b8 b9);
        }
    )*};
}

trunks!(a0 a1 a2 a3 a4 a5 a6 a7 a8 a9);

netns_test::main!();
