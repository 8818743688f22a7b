//! Walkthrough 4: the test's own namespace, `host`, linked to a namespace.
//!
//! `host` names the namespace the test body starts in. Linking it gives the body a veth of its
//! own, here 10.0.0.1, facing `nstest` at 10.0.0.2. The real host is never touched: `host` is the
//! test's private stand-in for it.

use std::process::Command;

use netns_test::{Net, netns_test};

#[netns_test(topology = "host -- nstest [subnet=10.0.0.0/24]")]
fn the_body_reaches_nstest(net: &Net) {
    // No `node.command` here: a plain Command runs in the body's namespace, `host`.
    let addr = Command::new("ip")
        .args(["-brief", "addr", "show", "eth0"])
        .output()
        .unwrap();
    print!("host: {}", String::from_utf8_lossy(&addr.stdout));
    println!("nstest: {}", net.node("nstest").ip());
    let ping = Command::new("ping")
        .args(["-c", "1", "nstest"])
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&ping.stdout));
    assert!(ping.status.success());
}

netns_test::main!();
