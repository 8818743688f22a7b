//! The classic `ip netns` walkthroughs, reproduced with exact addresses and real `ping` runs,
//! plus what a test body can do with the network it is given.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use netns_test::{Net, Node, netns_test};

use netns_test_suites::support::programs;

use programs::{assert_success, default_route, kernel_addrs, ping, run_ok};

fn forwarding(node: &Node) -> String {
    node.run(|| std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward"))
        .expect("read ip_forward")
        .trim()
        .to_string()
}

/// Walkthrough 1: two namespaces joined by a veth pair.
#[netns_test(topology = "net0 -- net1")]
fn two_nodes_on_a_veth_pair(net: &Net) {
    let (net0, net1) = (net.node("net0"), net.node("net1"));
    assert_eq!(kernel_addrs(net0, "-4", "eth0"), ["10.0.1.1/24"]);
    assert_eq!(kernel_addrs(net1, "-4", "eth0"), ["10.0.1.2/24"]);
    assert_eq!(net0.ip().to_string(), "10.0.1.1");
    assert_eq!(net1.ip().to_string(), "10.0.1.2");
    assert_eq!(ping(net0, "-4", "10.0.1.2"), 64);
    assert_eq!(ping(net1, "-4", "10.0.1.1"), 64);
}

/// Walkthrough 2: three namespaces on one Linux bridge.
#[netns_test(topology = "switch br0; {net0 net1 net2} -- br0")]
fn three_nodes_on_a_bridge(net: &Net) {
    let names = ["net0", "net1", "net2"];
    for (i, name) in names.iter().enumerate() {
        let expected = format!("10.0.1.{}/24", i + 1);
        assert_eq!(kernel_addrs(net.node(name), "-4", "eth0"), [expected]);
    }
    for from in names {
        for to in names.iter().filter(|to| **to != from) {
            ping(net.node(from), "-4", &net.node(to).ip().to_string());
        }
    }
    // The bridge is out of the nodes' sight: no node has an interface besides lo and eth0.
    let links = run_ok(net.node("net0"), "ip", &["-o", "link", "show"]);
    assert_eq!(links.lines().count(), 2, "{links}");
}

/// Walkthrough 3: a client and a server on two subnets, joined by a forwarding gateway.
#[netns_test(
    topology = "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]"
)]
fn client_and_server_behind_a_gateway(net: &Net) {
    let (client, gateway, server) = (net.node("client"), net.node("gateway"), net.node("server"));
    assert_eq!(kernel_addrs(client, "-4", "eth0"), ["10.0.100.1/24"]);
    assert_eq!(kernel_addrs(gateway, "-4", "eth0"), ["10.0.100.254/24"]);
    assert_eq!(kernel_addrs(gateway, "-4", "eth1"), ["192.168.100.254/24"]);
    assert_eq!(kernel_addrs(server, "-4", "eth0"), ["192.168.100.1/24"]);
    assert_eq!(forwarding(gateway), "1");
    assert_eq!(forwarding(client), "0");
    assert_eq!(forwarding(server), "0");
    assert!(default_route(client, "-4").starts_with("default via 10.0.100.254 dev eth0"));
    assert!(default_route(server, "-4").starts_with("default via 192.168.100.254 dev eth0"));
    assert_eq!(ping(client, "-4", "192.168.100.1"), 63);
    assert_eq!(ping(server, "-4", "10.0.100.1"), 63);
}

/// Walkthrough 4: the test's own namespace (`host`) with a veth into a namespace.
#[netns_test(topology = "host -- nstest [subnet=10.0.0.0/24]")]
fn the_test_namespace_reaches_a_node(net: &Net) {
    // The body runs in `host`: a program started without entering a node sees its address.
    let output = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "dev", "eth0"])
        .output()
        .expect("run ip");
    assert_success("ip addr", &output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("inet 10.0.0.1/24"));
    assert_eq!(net.node("nstest").ip().to_string(), "10.0.0.2");
    let reply = std::process::Command::new("ping")
        .args(["-c", "1", "-W", "2", "10.0.0.2"])
        .output()
        .expect("run ping");
    assert_success("ping 10.0.0.2", &reply);
}

/// A TCP exchange by node name across a router: names resolve through the test's /etc/hosts.
#[netns_test(topology = "client -- gateway -- server")]
fn tcp_by_name_across_a_router(net: &Net) {
    let server = net.node("server");
    let listener = server.run(|| TcpListener::bind("0.0.0.0:7000").expect("bind in server"));
    let echo = server.spawn(move || {
        let (mut stream, peer) = listener.accept().expect("accept");
        let mut line = String::new();
        BufReader::new(&mut stream)
            .read_line(&mut line)
            .expect("read");
        stream
            .write_all(line.to_uppercase().as_bytes())
            .expect("write");
        peer
    });
    let reply = net.node("client").run(|| {
        let mut stream = TcpStream::connect("server:7000").expect("connect to server:7000");
        stream.write_all(b"hello\n").expect("send");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("receive");
        reply
    });
    assert_eq!(reply, "HELLO\n");
    let peer = echo.join().expect("server thread");
    // The server saw the client's own address: the connection came from the client's node.
    assert_eq!(peer.ip(), net.node("client").ip());
}

/// `ip netns list` and `ip netns exec` work inside the test, privately.
#[netns_test(topology = "client -- gateway -- server")]
fn ip_netns_sees_the_nodes(net: &Net) {
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("run ip netns list");
    assert_success("ip netns list", &list);
    let mut names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names, ["client", "gateway", "server"]);
    let exec = std::process::Command::new("ip")
        .args([
            "netns", "exec", "client", "ping", "-c", "1", "-W", "2", "server",
        ])
        .output()
        .expect("run ip netns exec");
    assert_success("ip netns exec client ping server", &exec);
    assert_eq!(net.nodes().len(), 3);
}

/// Every node's loopback is up.
#[netns_test(topology = "a -- b")]
fn loopback_is_up_in_every_node(net: &Net) {
    for node in net.nodes() {
        node.run(|| {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
            TcpStream::connect(listener.local_addr().unwrap()).expect("connect over loopback");
        });
    }
}

/// Asking for a node that does not exist names the ones that do.
#[netns_test(topology = "a -- b")]
#[should_panic(expected = "the topology has no node `c`; its nodes are `a`, `b`")]
fn unknown_node_lists_the_nodes(net: &Net) {
    net.node("c");
}

/// A misspelt node gets the name it is closest to, as `node = "..."` does at compile time.
#[netns_test(topology = "client -- gatway -- server")]
#[should_panic(
    expected = "the topology has no node `gateway`: did you mean `gatway`? its nodes are \
                `client`, `gatway`, `server`"
)]
fn a_misspelt_node_gets_a_suggestion(net: &Net) {
    net.node("gateway");
}

/// A body may return a `Result`; `Ok` passes.
#[netns_test(topology = "a -- b")]
fn a_body_may_return_a_result(net: &Net) -> Result<(), std::io::Error> {
    net.node("a")
        .run(|| TcpListener::bind("10.0.1.1:0"))
        .map(drop)
}

/// A body without the network argument.
#[netns_test(topology = "a -- b")]
fn a_body_may_take_no_argument() {
    // The body runs in its own network namespace: only `lo` is there.
    let links = std::fs::read_to_string("/proc/thread-self/net/dev").expect("read net/dev");
    assert_eq!(links.lines().count(), 3, "{links}");
    // ... and it is up, though the topology does not name `host`.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback in the body");
    TcpStream::connect(listener.local_addr().unwrap()).expect("connect over loopback");
}

netns_test::main!();
