//! 500 tests for the leak audit at scale (`tests/leaks.rs`): 50 groups of the same ten tests,
//! with every ending mixed in. In each group 6 tests pass and 4 fail (a panic, an abort, an exit
//! code, a timeout), and five of them leave daemons running, tagged with `FIXTURE_MARKER`.

use netns_test_suites::support::daemons;

/// One group of the ten tests.
macro_rules! group {
    ($group:ident) => {
        mod $group {
            use netns_test::{Net, netns_test};

            use crate::daemons::start_sleeps;

            #[netns_test(topology = "a -- b")]
            fn passes(net: &Net) {
                assert_eq!(net.node("a").ip().to_string(), "10.0.1.1");
            }

            #[netns_test(topology = "a -- b")]
            fn passes_with_a_daemon(net: &Net) {
                start_sleeps(net);
            }

            #[netns_test(topology = "a -- gw -- b")]
            fn passes_routed(net: &Net) {
                assert_eq!(net.nodes().len(), 3);
            }

            #[netns_test(topology = "switch s; {x y z} -- s")]
            fn passes_on_a_switch(net: &Net) {
                assert_eq!(net.nodes().len(), 3);
            }

            #[netns_test(topology = "a -- b")]
            fn passes_with_no_network() {}

            #[netns_test(topology = "a -- b")]
            #[should_panic(expected = "expected")]
            fn panics_as_expected() {
                panic!("expected");
            }

            #[netns_test(topology = "a -- b", timeout = "1s")]
            fn times_out_with_a_daemon(net: &Net) {
                start_sleeps(net);
                loop {
                    std::thread::park();
                }
            }

            #[netns_test(topology = "a -- b")]
            fn panics_with_a_daemon(net: &Net) {
                start_sleeps(net);
                panic!("failing on purpose");
            }

            #[netns_test(topology = "a -- b")]
            fn aborts_with_a_daemon(net: &Net) {
                start_sleeps(net);
                std::process::abort();
            }

            #[netns_test(topology = "a -- b")]
            fn exits_with_a_daemon(net: &Net) {
                start_sleeps(net);
                std::process::exit(3);
            }
        }
    };
}

macro_rules! groups {
    ($($group:ident)*) => { $(group!($group);)* };
}

groups!(
    g00 g01 g02 g03 g04 g05 g06 g07 g08 g09 g10 g11 g12 g13 g14 g15 g16 g17 g18 g19 g20 g21 g22
    g23 g24 g25 g26 g27 g28 g29 g30 g31 g32 g33 g34 g35 g36 g37 g38 g39 g40 g41 g42 g43 g44 g45
    g46 g47 g48 g49
);

netns_test::main!();
