//! A family of topologies written by `macro_rules!` with `concat!`, as a matrix of NAT types.

use netns_test::{Net, netns_test};

macro_rules! behind {
    ($($name:ident: $kind:literal;)*) => {$(
        #[netns_test(topology = concat!("pc -- home -- isp; nat home [outside=isp, type=", $kind, "]"))]
        fn $name(_net: &Net) {}
    )*};
}

behind! {
    behind_full_cone: "full-cone";
    behind_symmetric: "symmetric";
}

fn main() {}
