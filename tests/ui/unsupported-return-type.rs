use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
fn unsupported_return_type(_net: &Net) -> u32 {
    0
}

fn main() {}
