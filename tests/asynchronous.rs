//! Async bodies, `node = "..."` and each node's tokio runtime, checked from the kernel's side:
//! the address a server sees a connection come from is the address of the node whose code opened
//! it, and nothing else.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};

use netns_test::{Net, netns_test};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Accepts `count` connections; each client writes its name. Returns name → peer address.
async fn who_connects(listener: TcpListener, count: usize) -> BTreeMap<String, IpAddr> {
    let mut seen = BTreeMap::new();
    for _ in 0..count {
        let (mut stream, peer) = listener.accept().await.expect("accept");
        let mut name = String::new();
        stream.read_to_string(&mut name).await.expect("read");
        seen.insert(name, peer.ip());
    }
    seen
}

/// Connects to `server` and says `name`; returns the connection's local address.
async fn say(name: &str, server: &str) -> io::Result<SocketAddr> {
    let mut stream = TcpStream::connect(server).await?;
    stream.write_all(name.as_bytes()).await?;
    stream.local_addr()
}

fn ip_of(net: &Net, node: &str) -> IpAddr {
    IpAddr::V4(net.node(node).ip())
}

#[netns_test(topology = "switch lan; {server c1 c2} -- lan")]
fn a_tokio_server_sees_each_client_come_from_its_node(net: &Net) {
    let server = net.node("server");
    // Made by `block_on`, used by a task: both on the server's one runtime.
    let listener = server
        .block_on(TcpListener::bind("0.0.0.0:7000"))
        .expect("bind");
    let accepting = server.spawn_async(who_connects(listener, 2));

    // One client from a blocking call, the other from a task on its node's runtime.
    let c1 = net
        .node("c1")
        .block_on(say("c1", "server:7000"))
        .expect("c1");
    let c2 = net
        .node("c2")
        .spawn_async(async { say("c2", "server:7000").await })
        .join()
        .expect("c2");

    let seen = accepting.join();
    println!("the server saw {seen:?}");
    assert_eq!(seen["c1"], ip_of(net, "c1"));
    assert_eq!(seen["c2"], ip_of(net, "c2"));
    assert_eq!(c1.ip(), ip_of(net, "c1"));
    assert_eq!(c2.ip(), ip_of(net, "c2"));
}

#[netns_test(topology = "client -- server", node = "client")]
fn a_sync_body_runs_in_its_node(net: &Net) {
    let listener = net
        .node("server")
        .run(|| std::net::TcpListener::bind("0.0.0.0:7000").expect("bind"));
    // Opened by the body itself, with no `run`: in `client`.
    let stream = std::net::TcpStream::connect("server:7000").expect("connect");
    let (_, peer) = listener.accept().expect("accept");
    assert_eq!(peer.ip(), ip_of(net, "client"));
    assert_eq!(
        stream.local_addr().expect("local").ip(),
        ip_of(net, "client")
    );
}

#[netns_test(topology = "client -- server", node = "client")]
async fn an_async_body_and_its_tasks_run_in_its_node(net: &Net) {
    let server = net.node("server");
    // In async code, work for another node is a task on that node, awaited.
    let listener = server
        .spawn_async(TcpListener::bind("0.0.0.0:7000"))
        .await
        .expect("bind");
    let accepting = server.spawn_async(who_connects(listener, 2));
    say("body", "server:7000").await.expect("from the body");
    // `tokio::spawn` in the body: a task on the client's runtime.
    tokio::spawn(say("task", "server:7000"))
        .await
        .expect("join")
        .expect("from a task");
    let seen = accepting.await;
    assert_eq!(seen["body"], ip_of(net, "client"));
    assert_eq!(seen["task"], ip_of(net, "client"));
}

/// Timers are driven by the node's runtime thread while the body is polled on the test's
/// thread; a body that waited for a timer nobody drives would run into its timeout.
#[netns_test(topology = "a -- b", node = "a", timeout = "20s")]
async fn timers_work_in_a_node_body() {
    let start = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    tokio::spawn(tokio::time::sleep(std::time::Duration::from_millis(20)))
        .await
        .expect("a task with a timer");
    assert!(start.elapsed() >= std::time::Duration::from_millis(40));
}

/// A blocking task left running does not hold the end of an async body in `host`.
#[netns_test(topology = "a -- b", timeout = "20s")]
async fn a_stuck_blocking_task_does_not_hold_the_test() {
    drop(tokio::task::spawn_blocking(|| {
        std::thread::sleep(std::time::Duration::from_secs(3600))
    }));
}

#[netns_test(topology = "host -- server")]
async fn an_async_body_without_node_runs_in_host(net: &Net) {
    let listener = net
        .node("server")
        .spawn_async(TcpListener::bind("0.0.0.0:7000"))
        .await
        .expect("bind");
    let accepting = net.node("server").spawn_async(who_connects(listener, 1));
    say("host", "server:7000").await.expect("from host");
    assert_eq!(accepting.await["host"], ip_of(net, "host"));
}

#[netns_test(topology = "a -- b")]
async fn tokio_command_runs_inside_its_node(net: &Net) {
    let output = net
        .node("b")
        .tokio_command("ip")
        .args(["-4", "-o", "addr", "show"])
        .output()
        .await
        .expect("run ip");
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    assert!(output.status.success());
    assert!(
        text.contains(&format!("{}/24", net.node("b").ip())),
        "{text}"
    );
    assert!(
        !text.contains(&format!("{}/24", net.node("a").ip())),
        "{text}"
    );
}

#[netns_test(topology = "a -- b")]
#[should_panic(expected = "`Node::block_on` cannot run inside async code")]
async fn block_on_in_async_code_says_what_to_do_instead(net: &Net) {
    net.node("a").block_on(async {});
}

#[netns_test(topology = "a -- b")]
#[should_panic(expected = "boom in the task")]
fn a_panic_in_a_task_goes_on_in_join(net: &Net) {
    net.node("a")
        .spawn_async(async { panic!("boom in the task") })
        .join();
}

/// Waits, from sync code, until the task has ended.
fn wait_until_finished<T>(task: &netns_test::AsyncTask<T>) {
    while !task.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[netns_test(topology = "a -- b")]
#[should_panic(
    expected = "a task started with `spawn_async` in node `a` panicked, and nothing awaited or \
                joined it: lost boom"
)]
fn a_panic_in_a_task_nobody_awaits_fails_the_test(net: &Net) {
    let task = net.node("a").spawn_async(async { panic!("lost boom") });
    wait_until_finished(&task);
    drop(task);
}

#[netns_test(topology = "a -- b")]
fn a_panic_the_body_has_seen_does_not_fail_the_test(net: &Net) {
    let task = net.node("b").spawn_async(async { panic!("seen boom") });
    wait_until_finished(&task);
    let joined = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task.join()));
    let payload = joined.expect_err("the task's panic goes on in join");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"seen boom"));
}

netns_test::main!();
