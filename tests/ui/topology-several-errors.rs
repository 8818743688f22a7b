use netns_test::{Net, netns_test};

// Every problem is reported, each with its line and column in the text.
#[netns_test(topology = r"
    a -- b [mtu=70000]
    c -- c
    d -- 2e
")]
fn topology_several_errors(_net: &Net) {}

fn main() {}
