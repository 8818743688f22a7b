//! A TCP bulk transfer between two nodes, as the link suites measure it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use netns_test::Net;

/// Sends `bytes` from node `from` to node `to` over TCP (port 7000) and waits for the
/// receiver's acknowledgement; returns what the receiver counted and how long the sender took,
/// from connecting to the acknowledgement.
pub fn tcp_transfer(net: &Net, from: &str, to: &str, bytes: usize) -> (usize, Duration) {
    let listener = net
        .node(to)
        .run(|| TcpListener::bind("0.0.0.0:7000").expect("bind"));
    let receiver = net.node(to).spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut received = 0;
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match stream.read(&mut buffer).expect("read") {
                0 => break,
                n => received += n,
            }
        }
        stream.write_all(b"done").expect("acknowledge");
        received
    });
    let target = format!("{to}:7000");
    let elapsed = net.node(from).run(|| {
        let start = Instant::now();
        let mut stream = TcpStream::connect(&target).expect("connect");
        stream.write_all(&vec![7u8; bytes]).expect("send");
        stream.shutdown(Shutdown::Write).expect("shutdown");
        let mut ack = Vec::new();
        stream
            .read_to_end(&mut ack)
            .expect("read the acknowledgement");
        assert_eq!(ack, b"done");
        start.elapsed()
    });
    (receiver.join().expect("the receiver"), elapsed)
}

/// [`tcp_transfer`] that asserts every byte arrived; returns how long it took.
pub fn timed_tcp_transfer(net: &Net, from: &str, to: &str, bytes: usize) -> Duration {
    let (received, elapsed) = tcp_transfer(net, from, to, bytes);
    assert_eq!(received, bytes, "bytes received from {from} in {to}");
    elapsed
}
