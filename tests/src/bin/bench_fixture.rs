//! The tests `cargo xtask bench` times, each run as a whole process the way cargo-nextest runs a
//! test (`bench_fixture --exact NAME`): harness start, sandbox, network, body, exit.
//!
//! `bench_fixture --floor` is the floor the seed test is measured against: it makes its user,
//! network and mount namespaces itself, builds the seed network with the crate's own netlink
//! code, does the same UDP round trip, and exits. No harness, no PID namespace, no keeper, no
//! capture of output.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use netns_test::{Net, netns_test};
use netns_test_suites::support::seed::{SEED, round_trip};

/// The seed test: three nodes routed, one UDP round trip from client to server.
#[netns_test(topology = "client -- gateway -- server")]
fn seed(net: &Net) {
    round_trip(net);
}

/// The smallest network with an empty body: what every test pays at least.
#[netns_test(topology = "a -- b")]
fn empty() {}

/// Walkthrough 3 with one TCP round trip from client to server through the gateway.
#[netns_test(
    topology = "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]"
)]
fn walkthrough_3(net: &Net) {
    let listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:7000").unwrap());
    let server = net.node("server").spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut byte = [0];
        stream.read_exact(&mut byte).unwrap();
        stream.write_all(&byte).unwrap();
    });
    net.node("client").run(|| {
        let mut stream = TcpStream::connect("192.168.100.1:7000").unwrap();
        stream.write_all(b"x").unwrap();
        let mut byte = [0];
        stream.read_exact(&mut byte).unwrap();
    });
    server.join().unwrap();
}

/// `walkthrough_3` with tokio: the server and the client on their own nodes' runtimes.
#[netns_test(
    topology = "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]"
)]
async fn walkthrough_3_async(net: &Net) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = net.node("server");
    let listener = server
        .spawn_async(tokio::net::TcpListener::bind("0.0.0.0:7000"))
        .await
        .unwrap();
    let serving = server.spawn_async(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut byte = [0];
        stream.read_exact(&mut byte).await.unwrap();
        stream.write_all(&byte).await.unwrap();
    });
    net.node("client")
        .spawn_async(async {
            let mut stream = tokio::net::TcpStream::connect("192.168.100.1:7000")
                .await
                .unwrap();
            stream.write_all(b"x").await.unwrap();
            let mut byte = [0];
            stream.read_exact(&mut byte).await.unwrap();
        })
        .await;
    serving.await;
}

fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--floor") {
        floor();
        return std::process::ExitCode::SUCCESS;
    }
    netns_test::__private::main()
}

/// The floor: namespaces, the seed network, one round trip, nothing else.
fn floor() {
    use nix::sched::{CloneFlags, unshare};

    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS)
        .expect("unshare the user, network and mount namespaces");
    std::fs::write("/proc/self/setgroups", "deny").expect("deny setgroups");
    std::fs::write("/proc/self/uid_map", format!("0 {uid} 1")).expect("write uid_map");
    std::fs::write("/proc/self/gid_map", format!("0 {gid} 1")).expect("write gid_map");
    let net = netns_test::__private::build_net(SEED).expect("build the seed network");
    round_trip(&net);
}
