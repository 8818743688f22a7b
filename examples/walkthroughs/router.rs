//! Walkthrough 3: a client and a server on two subnets, with a gateway between them.
//!
//! The gateway has two links, so it is a router: forwarding is switched on, it takes the highest
//! address of each subnet, and the client and the server get a default route through it. Nothing
//! of that needs to be written.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use netns_test::{Net, netns_test};

#[netns_test(
    topology = "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]"
)]
fn client_pings_the_server_through_the_gateway(net: &Net) {
    for node in net.nodes() {
        let addrs: Vec<String> = node.addrs().map(|a| a.to_string()).collect();
        println!("{:8} {}", node.name(), addrs.join(", "));
    }
    let ping = net
        .node("client")
        .command("ping")
        .args(["-c", "1", "192.168.100.1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ping.stdout);
    print!("{text}");
    // One hop through the gateway: the reply's TTL is 64 - 1.
    assert!(text.contains("ttl=63"));
}

#[netns_test(topology = "client -- gateway -- server")]
fn a_tcp_exchange_by_name(net: &Net) {
    let server = net.node("server");
    // `run` executes a closure inside the node: the listener belongs to the server's namespace.
    let listener = server.run(|| TcpListener::bind("0.0.0.0:7000").unwrap());
    let echo = server.spawn(move || {
        let (mut stream, peer) = listener.accept().unwrap();
        let mut request = String::new();
        stream.read_to_string(&mut request).unwrap();
        stream
            .write_all(format!("hello {peer}, you said {request:?}").as_bytes())
            .unwrap();
    });
    let reply = net.node("client").run(|| {
        let mut stream = TcpStream::connect("server:7000").unwrap();
        stream.write_all(b"ping").unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        reply
    });
    echo.join().unwrap();
    println!("the server answered: {reply}");
    assert!(reply.starts_with("hello 10.0.1.1:"));
}

netns_test::main!();
