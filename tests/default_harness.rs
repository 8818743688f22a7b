//! `#[netns_test]` in a test target with libtest's default harness: no `harness = false`, no
//! `netns_test::main!()`. Each test still runs in its own sandbox, under libtest's names, with
//! `#[ignore]` and `#[should_panic]`. The plain `#[test]`s at the end run this very binary, as
//! cargo would, to check what it prints for a failing test.

use std::net::{TcpListener, TcpStream};
use std::process::Command;

use netns_test::{Net, netns_test};

#[netns_test(topology = "client -- gateway -- server")]
fn routes_through_the_gateway(net: &Net) {
    let listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:7000"))
        .expect("bind");
    net.node("client")
        .run(|| TcpStream::connect("server:7000"))
        .expect("connect through the gateway");
    listener.accept().expect("accept");
}

/// Each test has its own network: the same port in the same node, in every test.
#[netns_test(topology = "a -- b")]
fn own_network_one(net: &Net) {
    net.node("a")
        .run(|| TcpListener::bind("10.0.1.1:8080"))
        .expect("bind");
}

#[netns_test(topology = "a -- b")]
fn own_network_two(net: &Net) {
    net.node("a")
        .run(|| TcpListener::bind("10.0.1.1:8080"))
        .expect("bind");
}

#[netns_test(topology = "a -- b")]
#[should_panic(expected = "on purpose")]
fn should_panic_works() {
    panic!("on purpose");
}

#[netns_test(topology = "a -- b")]
fn returns_ok() -> Result<(), std::io::Error> {
    Ok(())
}

mod nested {
    use netns_test::{Net, netns_test};

    #[netns_test(topology = "switch s; {x y z} -- s")]
    fn on_a_switch(net: &Net) {
        assert_eq!(net.nodes().len(), 3);
        let ping = net
            .node("x")
            .command("ping")
            .args(["-c", "1", "-W", "2", "z"])
            .output()
            .expect("run ping");
        assert!(ping.status.success(), "{ping:?}");
    }
}

/// Fails on purpose, printing from the body and from a program: only
/// `failures_show_the_output_of_the_body_and_its_programs` runs it.
#[netns_test(topology = "a -- b")]
#[ignore = "fails on purpose"]
fn fails_on_purpose(net: &Net) {
    println!("printed by the body");
    net.node("b")
        .command("echo")
        .arg("printed by a program in node b")
        .status()
        .expect("run echo");
    assert_eq!(
        net.node("b").ip().to_string(),
        "10.9.9.9",
        "the address of b"
    );
}

/// Hangs on purpose: only `the_default_timeout_ends_a_hanging_test` runs it, with
/// `NETNS_TEST_TIMEOUT`.
#[netns_test(topology = "a -- b")]
#[ignore = "hangs on purpose"]
fn hangs_on_purpose() {
    println!("hanging");
    std::thread::sleep(std::time::Duration::from_secs(3600));
}

fn this_binary(args: &[&str]) -> (Option<i32>, String) {
    this_binary_with_env(args, &[])
}

fn this_binary_with_env(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args(args)
        .env_remove("NETNS_TEST_TIMEOUT")
        .envs(env.iter().copied())
        .output()
        .expect("run this test binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[test]
fn names_are_libtests() {
    let (code, list) = this_binary(&["--list"]);
    assert_eq!(code, Some(0), "{list}");
    for name in [
        "routes_through_the_gateway: test",
        "nested::on_a_switch: test",
        "should_panic_works: test",
        "fails_on_purpose: test",
    ] {
        assert!(
            list.lines().any(|l| l == name),
            "missing {name:?} in:\n{list}"
        );
    }
}

#[test]
fn failures_show_the_output_of_the_body_and_its_programs() {
    let (code, text) = this_binary(&["--ignored", "--exact", "fails_on_purpose"]);
    assert_eq!(code, Some(101), "{text}");
    for expected in [
        "test fails_on_purpose ... FAILED",
        "printed by the body",
        "printed by a program in node b",
        "the address of b",
        "the network when the test failed",
        "the test process exited with code 101",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn the_default_timeout_ends_a_hanging_test() {
    let (code, text) = this_binary_with_env(
        &["--ignored", "--exact", "hangs_on_purpose"],
        &[("NETNS_TEST_TIMEOUT", "1s")],
    );
    assert_eq!(code, Some(101), "{text}");
    for expected in [
        "test hangs_on_purpose ... FAILED",
        "hanging",
        "the network when the test timed out",
        "timed out after 1s: the test was killed with every process it started",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}
