//! A service name that moves: `svc.example.com` leads to server `blue`, then to `green`
//! (`net.set_name`), and a client that connects by the name (here `curl`) follows it, as a
//! client of a real deployment must when DNS fails a service over.
//!
//! ```text
//!   switch lan: client 10.0.1.1, blue 10.0.1.2, green 10.0.1.3
//! ```
//!
//! The shape to copy: the test gives the name, starts the servers, moves the name between two
//! requests and asserts on what the client got. A client that caches the address it resolved
//! once would keep talking to `blue`: the second test shows that the old server is still
//! there to answer it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use netns_test::{Net, netns_test};

/// An HTTP server in `node` on port 8000 that answers every request with the node's name, for
/// as long as the test runs.
fn serve_name(net: &Net, node: &str) {
    let listener = net
        .node(node)
        .run(|| TcpListener::bind("0.0.0.0:8000").unwrap());
    let body = node.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            // Read the request up to its blank line, then answer.
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).unwrap();
        }
    });
}

/// What `curl` in the client gets from `url`.
fn curl(net: &Net, url: &str) -> String {
    let output = net
        .node("client")
        .command("curl")
        .args(["--silent", "--show-error", "--max-time", "5", url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[netns_test(topology = "switch lan; {client blue green} -- lan")]
fn a_client_follows_a_name_from_one_server_to_another(net: &Net) {
    serve_name(net, "blue");
    serve_name(net, "green");
    net.set_name("svc.example.com", "blue").unwrap();
    assert_eq!(curl(net, "http://svc.example.com:8000/"), "blue");
    net.set_name("svc.example.com", "green").unwrap();
    assert_eq!(curl(net, "http://svc.example.com:8000/"), "green");
}

#[netns_test(topology = "switch lan; {client blue green} -- lan")]
fn a_client_that_kept_the_old_address_still_reaches_the_old_server(net: &Net) {
    serve_name(net, "blue");
    serve_name(net, "green");
    net.set_name("svc.example.com", "blue").unwrap();
    let kept = net.node("blue").ip();
    net.set_name("svc.example.com", "green").unwrap();
    assert_eq!(curl(net, &format!("http://{kept}:8000/")), "blue");
}

netns_test::main!();
