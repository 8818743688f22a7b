//! A crate that reaches netns-test only through another crate's re-export (a team's test kit)
//! names that path with `crate = "..."`: the expansion then uses it for every item of the
//! runtime, and the test registers as any other.
#![deny(warnings)]

mod kit {
    pub use ::netns_test;
}

use kit::netns_test::Net;

#[kit::netns_test::netns_test(crate = "kit::netns_test", topology = "a -- b")]
fn through_the_kit(net: &Net) {
    let _ = net;
}

fn main() {
    let names: Vec<&str> = kit::netns_test::__private::TESTS
        .iter()
        .map(|case| case.name)
        .collect();
    assert_eq!(names, ["through_the_kit"]);
}
