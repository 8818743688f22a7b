//! A plain program (`fn main`, no test harness) that builds networks with `netns_test::run`;
//! the `program` suite runs it and checks what it prints and what it leaves behind.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, ExitCode};

use netns_test::topology::Topology;

fn main() -> ExitCode {
    // `--once`: one network only, for a host that may refuse it.
    if std::env::args().nth(1).as_deref() == Some("--once") {
        let ran = netns_test::run("a -- b", |net| net.node("b").ip().to_string());
        println!("once: {}", error_text(ran));
        return ExitCode::SUCCESS;
    }
    // A round trip through a router, by node names; the server's view comes back.
    let round_trip = netns_test::run("client -- gateway -- server", |net| {
        let listener = net
            .node("server")
            .run(|| TcpListener::bind("0.0.0.0:7000").expect("bind on the server"));
        let client = net.node("client").spawn(|| {
            let mut stream = TcpStream::connect("server:7000").expect("connect to the server");
            stream.write_all(b"hello").expect("send");
        });
        let (mut stream, peer) = listener.accept().expect("accept");
        let mut received = String::new();
        stream.read_to_string(&mut received).expect("receive");
        client.join().expect("the client thread");
        println!("printed inside the network");
        (peer.ip().to_string(), received)
    });
    println!("round trip: {round_trip:?}");

    // A parsed topology; the closure runs in `host`, so a plain `ping` starts there.
    let topology = Topology::parse("host -- peer [subnet=10.9.0.0/24]").expect("a valid topology");
    let ping = netns_test::run(&topology, |_| {
        let status = Command::new("ping")
            .args(["-c", "1", "-W", "5", "-q", "10.9.0.2"])
            .stdout(std::process::Stdio::null())
            .status();
        status.map(|s| s.success()).map_err(|e| e.to_string())
    });
    println!("ping from host: {ping:?}");

    // A panic in the closure is an error here, and the program goes on.
    let panicked = netns_test::run("a -- b", |_| -> u32 { panic!("on purpose") });
    println!("panic: {}", error_text(panicked));

    // A bad topology never leaves this process.
    let bad = netns_test::run("a -- a", |_| ());
    println!("bad topology: {}", error_text(bad));

    // With a second thread, `run` refuses to fork.
    let (stop, wait) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || wait.recv());
    let threaded = netns_test::run("a -- b", |_| ());
    println!("threaded: {}", error_text(threaded));
    drop(stop);
    let _ = other.join();
    ExitCode::SUCCESS
}

fn error_text<T: std::fmt::Debug>(result: netns_test::Result<T>) -> String {
    match result {
        Ok(value) => format!("ok: {value:?}"),
        Err(error) => error.to_string(),
    }
}
