use netns_test::{Net, netns_test};

// `tc` reads `mbps` as megabytes per second: the language refuses it and says what to write.
#[netns_test(topology = "a -- b [rate=10mbps]")]
fn topology_byte_rate(_net: &Net) {}

fn main() {}
