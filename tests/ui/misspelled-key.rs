use netns_test::{Net, netns_test};

#[netns_test(topolgy = "a -- b")]
fn misspelled_key(_net: &Net) {}

fn main() {}
