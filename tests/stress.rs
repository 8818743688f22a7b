//! 200 tests in parallel, each binding the same address and port (10.0.1.1:8080) in node `a` of
//! its own network and exchanging a payload with node `b`. They all pass only if no test sees
//! another's listener or data: each checks that what it got back is its own payload.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use netns_test::Net;

/// `a` listens on 10.0.1.1:8080 and echoes what it reads; `b` sends `payload` and expects it
/// back.
fn exchange(net: &Net, payload: &str) {
    let listener = net
        .node("a")
        .run(|| TcpListener::bind("10.0.1.1:8080"))
        .expect("bind 10.0.1.1:8080 in a");
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut got = String::new();
        stream.read_to_string(&mut got).expect("read");
        stream.write_all(got.as_bytes()).expect("echo");
        got
    });
    let echoed = net.node("b").run(|| {
        let mut stream = TcpStream::connect("10.0.1.1:8080").expect("connect");
        stream.write_all(payload.as_bytes()).expect("send");
        stream.shutdown(Shutdown::Write).expect("shutdown");
        let mut echoed = String::new();
        stream.read_to_string(&mut echoed).expect("read the echo");
        echoed
    });
    let received = server.join().expect("the server thread");
    assert_eq!(received, payload, "a received another test's payload");
    assert_eq!(echoed, payload, "b got another test's payload back");
}

/// Tests that each exchange their own name, which is their payload.
macro_rules! same_port {
    ($($name:ident)*) => {$(
        #[netns_test::netns_test(topology = "a -- b")]
        fn $name(net: &netns_test::Net) {
            super::exchange(net, concat!(module_path!(), "::", stringify!($name)));
        }
    )*};
}

/// One group of ten tests.
macro_rules! group {
    ($group:ident) => {
        mod $group {
            same_port!(t0 t1 t2 t3 t4 t5 t6 t7 t8 t9);
        }
    };
}

macro_rules! groups {
    ($($group:ident)*) => { $(group!($group);)* };
}

groups!(
    g00 g01 g02 g03 g04 g05 g06 g07 g08 g09 g10 g11 g12 g13 g14 g15 g16 g17 g18 g19
);

netns_test::main!();
