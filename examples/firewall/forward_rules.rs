//! A firewall regression suite: the gateway between a client and a server filters what it
//! forwards with nftables, and each test sends real packets to check one flow.
//!
//! ```text
//! client 10.0.1.1 -- 10.0.1.254 gateway 10.0.2.254 -- 10.0.2.1 server
//! ```
//!
//! The shape to copy: the ruleset is a constant, [`load_firewall`] puts it into the gateway,
//! and small helpers ([`tcp_connects`], [`udp_answered`], [`ping_answered`]) answer "does this
//! flow get through?" with a `bool`, so that each test is one line of policy. A dropped flow
//! shows up as a timeout, so the helpers wait a short, fixed time; a test asserting a drop also
//! checks, without the firewall, that the same flow would have got through, so that it cannot
//! pass for a reason that has nothing to do with the rules.
//!
//! With `capture`, a failing test leaves `capture.pcapng` beside the gateway's state (its
//! ruleset with the counters) in the folder the report names: open it in Wireshark to see
//! where the packets stopped.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use netns_test::{Net, netns_test};

/// What the gateway lets through from the client's network to the server's: web, NTP and
/// ping. SSH and DNS are dropped and counted; anything else falls to the policy (drop). Replies
/// of accepted flows pass because their connection is established.
const RULESET: &str = r#"
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy drop;

        ct state established,related accept

        ip saddr 10.0.1.0/24 tcp dport 80 accept
        ip saddr 10.0.1.0/24 udp dport 123 accept
        ip saddr 10.0.1.0/24 icmp type echo-request accept

        tcp dport 22 counter drop
        udp dport 53 counter drop
    }
}
"#;

/// How long a flow may take before it counts as dropped. Accepted flows on a test network
/// answer within milliseconds.
const PATIENCE: Duration = Duration::from_millis(800);

/// Loads [`RULESET`] into the gateway, as `nft -f -` would from a file.
fn load_firewall(net: &Net) {
    let mut nft = net
        .node("gateway")
        .command("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run nft (Debian package `nftables`)");
    nft.stdin
        .take()
        .unwrap()
        .write_all(RULESET.as_bytes())
        .unwrap();
    let status = nft.wait().unwrap();
    assert!(status.success(), "nft refused the ruleset");
    println!("-- the ruleset is loaded in the gateway --");
}

/// Whether a TCP connection from node `from` to `port` of node `to` is accepted (a listener
/// waits there).
fn tcp_connects(net: &Net, from: &str, to: &str, port: u16) -> bool {
    let target = net.node(to);
    let _listener = target.run(|| TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap());
    let address = SocketAddr::from((target.ip(), port));
    let connected = net
        .node(from)
        .run(|| TcpStream::connect_timeout(&address, PATIENCE))
        .is_ok();
    report(&format!("{from} -> {to} tcp/{port}"), connected);
    connected
}

/// Whether a UDP datagram from the client to `port` of the server gets an answer (a thread on
/// the server echoes one datagram back).
fn udp_answered(net: &Net, port: u16) -> bool {
    let server = net
        .node("server")
        .run(|| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap());
    server.set_read_timeout(Some(PATIENCE)).unwrap();
    let echo = thread::spawn(move || {
        let mut buf = [0u8; 64];
        if let Ok((len, peer)) = server.recv_from(&mut buf) {
            server.send_to(&buf[..len], peer).unwrap();
        }
    });
    let address = SocketAddr::from((net.node("server").ip(), port));
    let answered = net.node("client").run(|| {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
        socket.send_to(b"hello", address).unwrap();
        let mut buf = [0u8; 64];
        matches!(socket.recv_from(&mut buf), Ok((5, _)))
    });
    echo.join().unwrap();
    report(&format!("client -> server udp/{port}"), answered);
    answered
}

/// Whether the server answers one ping from the client.
fn ping_answered(net: &Net) -> bool {
    let answered = net
        .node("client")
        .command("ping")
        .args(["-c", "1", "-W", "1", "server"])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    report("client -> server icmp echo", answered);
    answered
}

/// Prints what happened to a flow, as `cargo xtask examples` shows it.
fn report(flow: &str, got_through: bool) {
    let verdict = if got_through {
        "got through"
    } else {
        "dropped"
    };
    println!("{flow:28} {verdict}");
}

/// The packets counted by the rule of the gateway's forward chain that contains `rule`.
fn dropped_by(net: &Net, rule: &str) -> u64 {
    let output = net
        .node("gateway")
        .command("nft")
        .args(["list", "chain", "inet", "filter", "forward"])
        .output()
        .unwrap();
    let chain = String::from_utf8_lossy(&output.stdout);
    let line = chain
        .lines()
        .find(|line| line.contains(rule))
        .unwrap_or_else(|| panic!("no rule {rule:?} in:\n{chain}"));
    let count = line.split("counter packets ").nth(1).expect("a counter");
    count.split_whitespace().next().unwrap().parse().unwrap()
}

#[netns_test(topology = "client -- gateway -- server", capture)]
fn web_is_accepted(net: &Net) {
    load_firewall(net);
    assert!(tcp_connects(net, "client", "server", 80));
}

#[netns_test(topology = "client -- gateway -- server", capture)]
fn ssh_is_dropped_and_counted(net: &Net) {
    assert!(
        tcp_connects(net, "client", "server", 22),
        "without the firewall, ssh gets through"
    );
    load_firewall(net);
    assert!(!tcp_connects(net, "client", "server", 22));
    assert!(dropped_by(net, "tcp dport 22") >= 1);
}

#[netns_test(topology = "client -- gateway -- server", capture)]
fn ntp_is_accepted(net: &Net) {
    load_firewall(net);
    assert!(udp_answered(net, 123));
}

#[netns_test(topology = "client -- gateway -- server", capture)]
fn dns_is_dropped_and_counted(net: &Net) {
    assert!(
        udp_answered(net, 53),
        "without the firewall, DNS is answered"
    );
    load_firewall(net);
    assert!(!udp_answered(net, 53));
    assert_eq!(dropped_by(net, "udp dport 53"), 1);
}

#[netns_test(topology = "client -- gateway -- server", capture)]
fn ping_is_accepted(net: &Net) {
    load_firewall(net);
    assert!(ping_answered(net));
}

#[netns_test(topology = "client -- gateway -- server", capture)]
fn other_ports_fall_to_the_policy(net: &Net) {
    assert!(tcp_connects(net, "client", "server", 8080));
    load_firewall(net);
    assert!(!tcp_connects(net, "client", "server", 8080));
}

#[netns_test(topology = "client -- gateway -- server", capture)]
fn the_server_cannot_open_connections_to_the_client(net: &Net) {
    assert!(tcp_connects(net, "server", "client", 80));
    load_firewall(net);
    // The web rule accepts connections from the client's network only.
    assert!(!tcp_connects(net, "server", "client", 80));
}

netns_test::main!();
