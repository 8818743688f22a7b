//! Dual stack: every link has an IPv6 /64 as well as an IPv4 subnet, numbered alike.
//!
//! `client -- gateway -- server` gives the client `10.0.1.1` and `fd00:0:0:1::1`, the gateway
//! `.254` and `::254` on each side, and default routes in both families. The addresses are
//! added without duplicate address detection, so `ping -6` works from the first packet. Write
//! `[ipv6=off]` on a line of its own to leave IPv6 out, or `[ipv4=off]` for an IPv6-only
//! network, where names resolve to IPv6 alone.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use netns_test::{Net, netns_test};

#[netns_test(topology = "client -- gateway -- server")]
fn ping_in_both_families(net: &Net) {
    for node in net.nodes() {
        for interface in node.interfaces() {
            let ipv6 = interface.ipv6().map(|a| a.to_string()).unwrap_or_default();
            println!(
                "{:8} {}  {:14} {ipv6}",
                node.name(),
                interface.name(),
                interface.ipv4()
            );
        }
    }
    for family in ["-4", "-6"] {
        let ping = net
            .node("client")
            .command("ping")
            .args([family, "-c", "1", "-W", "2", "server"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&ping.stdout);
        print!("{text}");
        // One hop through the gateway: the reply's TTL (hop limit) is 64 - 1.
        assert!(text.contains("ttl=63"), "ping {family} server failed");
    }
}

#[netns_test(topology = "client -- gateway -- server")]
fn tcp_over_ipv6(net: &Net) {
    let server = net.node("server");
    // `[::]` accepts both families; the client picks IPv6 by connecting to `server.ipv6()`.
    let listener = server.run(|| TcpListener::bind("[::]:7000").unwrap());
    let echo = server.spawn(move || {
        let (mut stream, peer) = listener.accept().unwrap();
        stream
            .write_all(format!("hello {peer}").as_bytes())
            .unwrap();
    });
    let address = (net.node("server").ipv6(), 7000);
    let reply = net.node("client").run(|| {
        let mut reply = String::new();
        let mut stream = TcpStream::connect(address).unwrap();
        stream.read_to_string(&mut reply).unwrap();
        reply
    });
    echo.join().unwrap();
    println!("the server answered: {reply}");
    assert!(reply.starts_with("hello [fd00:0:0:1::1]:"));
}

#[netns_test(topology = "
    [ipv6=off]      # this test's network has no IPv6
    a -- b
")]
fn ipv6_can_be_left_out(net: &Net) {
    let output = net
        .node("a")
        .command("ip")
        .args(["-6", "addr", "show", "scope", "global"])
        .output()
        .unwrap();
    println!(
        "global IPv6 addresses of a: {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(output.stdout.is_empty());
}

#[netns_test(topology = "
    [ipv4=off]      # an IPv6-only network: no IPv4 address or route but lo's
    client -- gateway -- server
")]
fn ipv4_can_be_left_out(net: &Net) {
    let server = net.node("server");
    println!("server: {} (IPv4: {:?})", server.ipv6(), server.try_ip());
    // The name has an IPv6 address alone, so a plain `ping server` uses it.
    let ping = net
        .node("client")
        .command("ping")
        .args(["-c", "1", "-W", "2", "server"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ping.stdout);
    print!("{text}");
    assert!(
        text.contains("(fd00:0:0:2::1)") && text.contains("ttl=63"),
        "{text}"
    );
}

netns_test::main!();
