//! Waiting for servers, as a test body does: a port that opens late, one that never opens (and
//! what the error then says), UDP, and waiting for any condition.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use netns_test::{Error, Net, netns_test};

#[netns_test(topology = "client -- server")]
fn a_server_that_opens_after_200_ms_is_awaited_promptly(net: &Net) {
    let server = net.node("server");
    let started = Instant::now();
    let listener = server.spawn(|| {
        thread::sleep(Duration::from_millis(200));
        TcpListener::bind("0.0.0.0:7000").expect("bind")
    });
    server
        .wait_for_tcp(7000, Duration::from_secs(5))
        .expect("the server listens");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(200), "{waited:?}");
    // Well before the 5 s limit: the wait polls often, not once at its end. (Not a tighter bound:
    // on a loaded 2-core machine a thread may not run for a hundred milliseconds.)
    assert!(waited < Duration::from_secs(1), "{waited:?}");
    let _listener = listener.join().unwrap();
    net.node("client")
        .run(|| TcpStream::connect("server:7000"))
        .expect("the client connects at once");
}

#[netns_test(topology = "client -- server")]
fn a_port_that_never_opens_times_out_saying_what_the_node_listens_on(net: &Net) {
    let server = net.node("server");
    let _other = server.run(|| TcpListener::bind("0.0.0.0:7001").expect("bind"));
    let _udp = server.run(|| UdpSocket::bind("[::]:5353").expect("bind"));
    let started = Instant::now();
    let error = server
        .wait_for_tcp(7000, Duration::from_millis(300))
        .expect_err("nothing listens on 7000");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_millis(800), "{waited:?}");
    let message = error.to_string();
    assert!(message.starts_with("timed out after 3"), "{message}");
    assert!(
        message.ends_with(
            " ms waiting for tcp port 7000 listening in node `server`, which listens on \
             tcp 0.0.0.0:7001, udp [::]:5353"
        ),
        "{message}"
    );
    let Error::WaitTimedOut { what, node, .. } = error else {
        panic!("another error: {message}");
    };
    assert_eq!(what, "tcp port 7000 listening");
    assert_eq!(node.as_deref(), Some("server"));
    // The client listens on nothing, and says so.
    let message = net
        .node("client")
        .wait_for_udp(53, Duration::from_millis(50))
        .unwrap_err()
        .to_string();
    assert!(
        message.ends_with(
            "waiting for udp port 53 listening in node `client`, which listens on nothing"
        ),
        "{message}"
    );
}

#[netns_test(topology = "client -- server")]
fn a_udp_port_is_awaited_in_its_own_node_only(net: &Net) {
    let server = net.node("server");
    let socket = server.spawn(|| {
        thread::sleep(Duration::from_millis(100));
        UdpSocket::bind("0.0.0.0:5000").expect("bind")
    });
    server
        .wait_for_udp(5000, Duration::from_secs(5))
        .expect("the socket is bound");
    let _socket = socket.join().unwrap();
    // The same port is not open in the client, nor is a TCP port of that number in the server.
    assert!(
        net.node("client")
            .wait_for_udp(5000, Duration::from_millis(50))
            .is_err()
    );
    assert!(
        server
            .wait_for_tcp(5000, Duration::from_millis(50))
            .is_err()
    );
}

#[netns_test(topology = "client -- server")]
fn any_condition_can_be_awaited(net: &Net) {
    let _listener = net.node("server").spawn(|| {
        thread::sleep(Duration::from_millis(100));
        TcpListener::bind("0.0.0.0:7000").expect("bind")
    });
    // The condition runs inside the client: it connects to the server by name.
    net.node("client")
        .wait_until("the server accepting", Duration::from_secs(5), || {
            TcpStream::connect("server:7000").is_ok()
        })
        .expect("the server accepts");

    let mut looks = 0;
    net.wait_until("three looks", Duration::from_secs(5), || {
        looks += 1;
        looks == 3
    })
    .expect("three looks");
    assert_eq!(looks, 3);

    let message = net
        .wait_until("the impossible", Duration::from_millis(50), || false)
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("timed out after "), "{message}");
    assert!(
        message.ends_with(" ms waiting for the impossible"),
        "{message}"
    );
    let message = net
        .node("client")
        .wait_until("the impossible", Duration::from_millis(50), || false)
        .unwrap_err()
        .to_string();
    assert!(
        message
            .ends_with(" ms waiting for the impossible in node `client`, which listens on nothing"),
        "{message}"
    );
}

netns_test::main!();
