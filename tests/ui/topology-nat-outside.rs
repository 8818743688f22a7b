use netns_test::{Net, netns_test};

#[netns_test(topology = "laptop -- home -- isp; nat home [outside=ips, type=symetric]")]
fn nat_with_a_misspelt_outside_and_type(_net: &Net) {}

#[netns_test(topology = "laptop -- home -- isp; nat home [outside=isp, forward=tcp:80:isp]")]
fn nat_forwarding_to_its_outside(_net: &Net) {}

fn main() {}
