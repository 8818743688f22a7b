//! The seed test of `cargo xtask bench`: three nodes routed (client, gateway, server) and one
//! UDP round trip from client to server, the smallest test that exercises routing.

use std::net::UdpSocket;

use netns_test::Net;

/// The seed network, as the benchmark's tests and its floor build it.
pub const SEED: &str = "client -- gateway -- server";

/// One datagram from the client to the server and back.
pub fn round_trip(net: &Net) {
    let server = net.node("server");
    let socket = server.run(|| UdpSocket::bind("0.0.0.0:7000").expect("bind the server"));
    let echo = server.spawn(move || {
        let mut byte = [0u8];
        let (_, from) = socket.recv_from(&mut byte).expect("receive on the server");
        socket.send_to(&byte, from).expect("answer from the server");
    });
    let address = (server.ip(), 7000);
    net.node("client").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind the client");
        socket.send_to(b"x", address).expect("send from the client");
        let mut byte = [0u8];
        socket.recv_from(&mut byte).expect("receive on the client");
        assert_eq!(&byte, b"x");
    });
    echo.join().expect("the server's thread");
}
