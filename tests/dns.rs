//! Names over DNS: in every node, node names resolve with `dig` (A, AAAA and reverse), any other
//! name gets NXDOMAIN (and `getaddrinfo` says "not known" without waiting), a server that looks
//! its own name up starts at once, and port 53 is still the user's to bind.

use std::net::{IpAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

use netns_test::{Net, netns_test};
use netns_test_suites::support::lookups::{
    NO_SERVER, NOT_KNOWN, dig_short, node_name_resolves, resolved, unknown_name_fails_with,
};
use netns_test_suites::support::programs::{assert_success, run_ok};

/// The status `dig` prints in its header (`NOERROR`, `NXDOMAIN`, ...).
fn dig_status(output: &str) -> &str {
    output
        .split("status: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no status in dig's output:\n{output}"))
}

#[netns_test(topology = "client -- gateway -- server")]
fn dig_resolves_every_node_by_name_a_and_aaaa(net: &Net) {
    let client = net.node("client");
    for node in net.nodes() {
        let name = node.name();
        assert_eq!(
            dig_short(client, &[name, "A"]),
            [node.ip().to_string()],
            "{name} A"
        );
        assert_eq!(
            dig_short(client, &[name, "AAAA"]),
            [node.ipv6().to_string()],
            "{name} AAAA"
        );
    }
    // Names are case-insensitive; the answer is for the name as asked.
    let server = net.node("server");
    assert_eq!(
        dig_short(net.node("gateway"), &["SERVER"]),
        [server.ip().to_string()]
    );
}

#[netns_test(topology = "client -- gateway -- server")]
fn the_answers_are_what_etc_hosts_says(net: &Net) {
    let hosts = std::fs::read_to_string("/etc/hosts").expect("/etc/hosts");
    let server = net.node("server");
    for line in hosts.lines() {
        let (addr, names) = line.split_once('\t').expect("address, tab, names");
        let addr: IpAddr = addr.parse().expect("an address");
        let qtype = if addr.is_ipv4() { "A" } else { "AAAA" };
        for name in names.split(' ') {
            let answers = dig_short(server, &[name, qtype]);
            assert!(
                answers.contains(&addr.to_string()),
                "{name} {qtype}: {answers:?}"
            );
        }
    }
}

#[netns_test(topology = "client -- gateway -- server")]
fn dig_x_gives_the_name_of_a_node_address(net: &Net) {
    let client = net.node("client");
    let server = net.node("server");
    assert_eq!(
        dig_short(client, &["-x", &server.ip().to_string()]),
        ["server."]
    );
    assert_eq!(
        dig_short(client, &["-x", &server.ipv6().to_string()]),
        ["server."]
    );
    let unknown = run_ok(client, "dig", &["+time=1", "+tries=1", "-x", "192.0.2.1"]);
    assert_eq!(dig_status(&unknown), "NXDOMAIN", "{unknown}");
}

/// The client has a default route (towards the gateway): without the test's own resolver, a
/// query would go there and wait for its timeout.
#[netns_test(topology = "client -- gateway -- server")]
fn an_unknown_name_gets_nxdomain(net: &Net) {
    let client = net.node("client");
    for name in ["example.com", "sever", "server.example"] {
        let output = run_ok(client, "dig", &["+time=1", "+tries=1", name]);
        assert_eq!(dig_status(&output), "NXDOMAIN", "{name}:\n{output}");
        // Answered by the test's own responder, on the node's loopback.
        assert!(output.contains("SERVER: ::1#53"), "{output}");
    }
}

#[netns_test(topology = "client -- gateway -- server")]
fn getaddrinfo_of_an_unknown_name_says_it_is_not_known(net: &Net) {
    // An answer, not a timeout: EAI_NONAME ("Temporary failure in name resolution" would be
    // EAI_AGAIN's).
    unknown_name_fails_with(net, "client", NOT_KNOWN);
    // Node names still resolve through the same call.
    node_name_resolves(net, "client", "server");
}

/// The example: `http.server` looks its own address up as it starts, which took 5 s
/// in a node with a default route when the host's resolver was asked.
#[netns_test(topology = "client -- gateway -- server")]
fn python_http_server_is_ready_at_once(net: &Net) {
    let server = net.node("server");
    let mut python = server
        .command("python3")
        .args(["-m", "http.server", "8000", "--bind", "0.0.0.0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 starts");
    let ready = server.wait_for_tcp(8000, Duration::from_secs(3));
    let _ = python.kill();
    let _ = python.wait();
    ready.expect("http.server listens well before a DNS timeout (5 s)");
}

/// Port 53 stays the user's over IPv4: the responder listens on `[::1]:53` only.
#[netns_test(topology = "client -- server")]
fn a_dns_server_of_the_user_binds_port_53(net: &Net) {
    let server = net.node("server");
    // A specific address (systemd-resolved's), then the wildcard.
    drop(server.run(|| UdpSocket::bind("127.0.0.53:53").expect("bind 127.0.0.53:53")));
    let socket = server.run(|| UdpSocket::bind("0.0.0.0:53").expect("bind 0.0.0.0:53"));
    // The user's server is what waiting for port 53 waits for, and it answers the client.
    server
        .wait_for_udp(53, Duration::from_secs(1))
        .expect("the user's socket is seen");
    net.node("client").run(|| {
        let client = UdpSocket::bind("0.0.0.0:0").unwrap();
        client.send_to(b"query", "server:53").unwrap();
    });
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buffer = [0; 16];
    let (length, _) = socket.recv_from(&mut buffer).expect("the datagram arrives");
    assert_eq!(&buffer[..length], b"query");
    // Names still resolve in that node, from the responder on `::1`.
    assert_eq!(
        dig_short(server, &["client"]),
        [net.node("client").ip().to_string()]
    );
}

/// The one conflict left: an IPv6 bind of `[::]:53` meets the responder's `[::1]:53`, unless
/// the user's socket sets `SO_REUSEADDR` (the way out the docs give, with `NETNS_TEST_DNS=off`).
#[netns_test(topology = "client -- server")]
fn an_ipv6_wildcard_on_port_53_needs_so_reuseaddr(net: &Net) {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockType, SockaddrIn6, bind, setsockopt, socket, sockopt,
    };
    use std::os::fd::AsRawFd;

    let server = net.node("server");
    let plain = server.run(|| UdpSocket::bind("[::]:53"));
    assert_eq!(
        plain.expect_err("the responder holds [::1]:53").kind(),
        std::io::ErrorKind::AddrInUse
    );
    let reusing = server.run(|| {
        let fd = socket(
            AddressFamily::Inet6,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        setsockopt(&fd, sockopt::ReuseAddr, &true).unwrap();
        let any = SockaddrIn6::from("[::]:53".parse::<std::net::SocketAddrV6>().unwrap());
        bind(fd.as_raw_fd(), &any).map(|()| UdpSocket::from(fd))
    });
    let reusing = reusing.expect("with SO_REUSEADDR, [::]:53 binds");
    // The user's socket gets the datagrams sent to the node's addresses, the responder those
    // to `::1`.
    let server_v6 = server.ipv6();
    net.node("client").run(|| {
        let client = UdpSocket::bind("[::]:0").unwrap();
        client.send_to(b"query", (server_v6, 53)).unwrap();
    });
    reusing
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buffer = [0; 16];
    let (length, _) = reusing
        .recv_from(&mut buffer)
        .expect("the datagram arrives");
    assert_eq!(&buffer[..length], b"query");
    assert_eq!(
        dig_short(server, &["client"]),
        [net.node("client").ip().to_string()]
    );
}

/// A node whose kernel has IPv6 turned off has no `::1` to be answered on: a lookup there gets
/// no server (EAI_AGAIN, not a wait for an answer), and `/etc/hosts` still names the nodes.
#[netns_test(topology = "client -- gateway -- server")]
fn without_ipv6_in_a_node_lookups_fail_and_hosts_still_works(net: &Net) {
    let client = net.node("client");
    client
        .run(|| std::fs::write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1").expect("IPv6 off"));
    unknown_name_fails_with(net, "client", NO_SERVER);
    node_name_resolves(net, "client", "server");
}

/// The body's own namespace, `host`, which this topology does not link, resolves too.
#[netns_test(topology = "client -- server")]
fn host_resolves_node_names(net: &Net) {
    let output = Command::new("dig")
        .args(["+short", "+time=1", "+tries=1", "server", "AAAA"])
        .output()
        .expect("dig runs");
    assert_success("dig server AAAA (in host)", &output);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        net.node("server").ipv6().to_string()
    );
}

/// Forty nodes, one responder thread: each node has its socket, one thread answers them all.
#[netns_test(
    topology = "switch lan; {n0 n1 n2 n3 n4 n5 n6 n7 n8 n9 n10 n11 n12 n13 n14 n15 n16 n17 n18 n19 n20 n21 n22 n23 n24 n25 n26 n27 n28 n29 n30 n31 n32 n33 n34 n35 n36 n37 n38 n39} -- lan"
)]
fn forty_nodes_share_one_responder_thread(net: &Net) {
    let last = net.node("n39");
    assert_eq!(dig_short(last, &["n0"]), [net.node("n0").ip().to_string()]);
    assert_eq!(dig_short(net.node("n0"), &["n39"]), [last.ip().to_string()]);
    let responders = std::fs::read_dir("/proc/self/task")
        .expect("the test process's threads")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "netns-test-dns")
        .count();
    assert_eq!(responders, 1);
}

/// `NETNS_TEST_DNS=off`: no responder, the same resolver configuration, lookups that still
/// fail at once, and all of port 53 free (the checks are the fixture's own test).
#[netns_test(topology = "client -- server")]
fn off_leaves_port_53_free_and_lookups_failing_at_once() {
    let output = Command::new(netns_test_suites::fixture_binary!("dns_fixture"))
        .env("NETNS_TEST_DNS", "off")
        .args(["--exact", "without_the_responder"])
        .output()
        .expect("the fixture runs");
    assert_success("dns_fixture with NETNS_TEST_DNS=off", &output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// Two homes on one private subnet, each peer `192.168.1.1`, and a second NAT in the first
/// home. A name is what its asker can reach: in its own home (and behind a NAT inside it) a
/// peer's private address; elsewhere only its global IPv6 address; a NAT router its inside
/// address inside and its outside address outside.
#[netns_test(topology = "
    switch internet
    {home-a home-b server} -- internet
    peer-a -- home-a -- attic -- inner
    peer-b -- home-b
    nat home-a [outside=internet]
    nat home-b [outside=internet]
    nat attic [outside=home-a]
")]
fn behind_nats_names_resolve_as_their_asker_reaches_them(net: &Net) {
    let (peer_a, peer_b) = (net.node("peer-a"), net.node("peer-b"));
    assert_eq!(peer_a.ip(), peer_b.ip());
    assert_eq!(
        resolved(net, "peer-a", "peer-a"),
        [IpAddr::V4(peer_a.ip()), IpAddr::V6(peer_a.ipv6())]
    );
    // Not peer-a's own address, which `peer-b`'s private one also is.
    assert_eq!(
        resolved(net, "peer-a", "peer-b"),
        [IpAddr::V6(peer_b.ipv6())]
    );
    assert_eq!(
        resolved(net, "server", "peer-a"),
        [IpAddr::V6(peer_a.ipv6())]
    );
    let home = net.nat("home-a");
    let inside = (net.node("home-a").interfaces().iter())
        .find(|interface| interface.name() != home.plan().outside)
        .map(|interface| IpAddr::V4(interface.ipv4().addr()))
        .expect("an inside interface");
    assert_eq!(resolved(net, "peer-a", "home-a")[0], inside);
    assert_eq!(
        resolved(net, "server", "home-a")[0],
        IpAddr::V4(home.outside_ip())
    );
    assert_eq!(
        resolved(net, "peer-b", "server")[0],
        IpAddr::V4(net.node("server").ip())
    );
    // The reverse name of the shared address is the peer of the home that asks.
    let reverse = ["-x", &peer_a.ip().to_string()];
    assert_eq!(dig_short(net.node("home-a"), &reverse), ["peer-a."]);
    assert_eq!(dig_short(peer_b, &reverse), ["peer-b."]);
    // A datagram to `peer-a` by name, from inside its home, reaches peer-a.
    let listener = peer_a.run(|| UdpSocket::bind("0.0.0.0:4000").expect("bind"));
    net.node("home-a").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        socket
            .send_to(b"hello", "peer-a:4000")
            .expect("send by name");
    });
    listener
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buffer = [0; 16];
    let (length, _) = listener.recv_from(&mut buffer).expect("peer-a hears it");
    assert_eq!(&buffer[..length], b"hello");
}

netns_test::main!();
