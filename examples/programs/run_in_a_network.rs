//! A plain program, no test harness: `netns_test::run` builds a network, runs a closure in it,
//! and takes it all down when the closure returns.
//!
//! ```sh
//! cargo run -p netns-test-examples --example run_in_a_network
//! ```
//!
//! `run` forks, so call it from `main` while the program has one thread (it says so if not).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

fn main() -> netns_test::Result<()> {
    let topology = "client -- gateway -- server";
    let (from, message) = netns_test::run(topology, |net| {
        let server = net.node("server");
        let listener = server.run(|| TcpListener::bind("0.0.0.0:7000").unwrap());
        net.node("client").spawn(|| {
            let mut stream = TcpStream::connect("server:7000").unwrap();
            stream.write_all(b"hello through the gateway").unwrap();
        });
        let (mut stream, peer) = listener.accept().unwrap();
        let mut message = String::new();
        stream.read_to_string(&mut message).unwrap();
        (peer.ip().to_string(), message)
    })?;
    println!("{topology}\nthe server got {message:?} from {from}");
    Ok(())
}
