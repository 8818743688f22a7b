//! Every accepted form of test function compiles without a warning (no dead code either), and
//! registers what it says.
#![deny(warnings)]

use netns_test::__private::{ShouldPanic, TESTS};
use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
fn no_argument() {}

#[netns_test(topology = "client -- gateway -- server")]
fn network_argument(net: &Net) {
    let _ = net;
}

#[netns_test(topology = "a -- b")]
fn qualified_type_and_result(_: &netns_test::Net) -> Result<(), std::io::Error> {
    Ok(())
}

#[ignore = "slow"]
#[netns_test(topology = r"
    switch lan
    {a b c} -- lan
")]
#[should_panic(expected = "boom")]
fn attributes_on_both_sides<'a>(_net: &'a Net) -> () {
    panic!("boom")
}

#[netns_test(topology = "client -- server", node = "client", timeout = "2m")]
async fn async_in_a_node(net: &Net) -> Result<(), String> {
    let _ = net;
    Ok(())
}

#[netns_test(topology = "a -- b", timeout = "250ms")]
async fn async_in_host() {}

#[netns_test(topology = "a -- b", node = "host")]
fn sync_in_host_by_name() {}

mod nested {
    #[netns_test::netns_test(topology = "a -- b")]
    #[should_panic]
    #[ignore]
    fn r#loop() {}
}

fn main() {
    let test = |name: &str| {
        TESTS
            .iter()
            .find(|test| test.name == name)
            .unwrap_or_else(|| panic!("`{name}` is not registered"))
    };
    assert_eq!(TESTS.len(), 8);

    let plain = test("network_argument");
    // The crate is named by trybuild: only the module part is known.
    assert!(!plain.module_path.contains("::"), "{}", plain.module_path);
    assert_eq!(plain.topology, "client -- gateway -- server");
    assert!(!plain.ignore);
    assert_eq!(plain.ignore_reason, None);
    assert_eq!(plain.should_panic, ShouldPanic::No);
    assert_eq!(plain.node, None);
    assert_eq!(plain.timeout, None);
    assert!(
        plain.file.ends_with("accepted-signatures.rs"),
        "{}",
        plain.file
    );
    assert_eq!(plain.line, 12);

    let marked = test("attributes_on_both_sides");
    assert!(marked.ignore);
    assert_eq!(marked.ignore_reason, Some("slow"));
    assert_eq!(marked.should_panic, ShouldPanic::WithMessage("boom"));
    assert!(marked.topology.contains("{a b c} -- lan"));
    assert_eq!(marked.line, 27);

    let nested = test("loop");
    assert!(
        nested.module_path.ends_with("::nested"),
        "{}",
        nested.module_path
    );
    assert!(nested.ignore);
    assert_eq!(nested.should_panic, ShouldPanic::Yes);

    let in_node = test("async_in_a_node");
    assert_eq!(in_node.node, Some("client"));
    assert_eq!(in_node.timeout, Some(std::time::Duration::from_secs(120)));
    let in_host = test("async_in_host");
    assert_eq!(in_host.node, None);
    assert_eq!(in_host.timeout, Some(std::time::Duration::from_millis(250)));
    assert_eq!(test("sync_in_host_by_name").node, Some("host"));

    let result = test("qualified_type_and_result");
    assert_eq!(result.should_panic, ShouldPanic::No);
}
