//! Async code in nodes: a tokio echo server in one node, clients in two others.
//!
//! Each node has its own current-thread tokio runtime on a thread inside the node, so a socket
//! opened by a future belongs to the node that runs the future. The body itself runs in
//! `alice` (`node = "alice"`), and bob's client is a task on bob's runtime. The server prints
//! where each connection came from: the kernel's word that each client is where it should be.

use std::net::SocketAddr;

use netns_test::{Net, netns_test};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Echoes what each of `count` clients sends, and returns who they were.
async fn echo(listener: TcpListener, count: usize) -> Vec<SocketAddr> {
    let mut peers = Vec::new();
    for _ in 0..count {
        let (mut stream, peer) = listener.accept().await.unwrap();
        println!("server: a connection from {peer}");
        let mut line = [0; 64];
        let n = stream.read(&mut line).await.unwrap();
        stream.write_all(&line[..n]).await.unwrap();
        peers.push(peer);
    }
    peers
}

async fn ask(text: &str) -> String {
    let mut stream = TcpStream::connect("server:7000").await.unwrap();
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[netns_test(
    topology = "switch lan; {server alice bob} -- lan",
    node = "alice",
    timeout = "30s"
)]
async fn an_echo_server_and_two_clients(net: &Net) {
    let server = net.node("server");
    let listener = server
        .spawn_async(TcpListener::bind("0.0.0.0:7000"))
        .await
        .unwrap();
    let serving = server.spawn_async(echo(listener, 2));

    // This body runs in alice; bob's question is a task on bob's runtime.
    assert_eq!(ask("hello from alice").await, "hello from alice");
    let bob = net.node("bob").spawn_async(ask("hello from bob"));
    assert_eq!(bob.await, "hello from bob");

    let peers: Vec<_> = serving.await.iter().map(SocketAddr::ip).collect();
    assert_eq!(peers, [net.node("alice").ip(), net.node("bob").ip()]);
}

#[netns_test(topology = "gateway -- web")]
async fn ip_in_a_node_from_async_code(net: &Net) {
    let output = net
        .node("web")
        .tokio_command("ip")
        .args(["-brief", "addr"])
        .output()
        .await
        .unwrap();
    print!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stdout).contains("10.0.1."));
}

netns_test::main!();
