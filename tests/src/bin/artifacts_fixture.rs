//! A test binary whose tests fail or pass with packet capture and leave artifacts, on purpose.
//! `tests/artifacts.rs` runs it and reads what it leaves under the artifact folder;
//! `tests/capture.rs` (packet capture) and `tests/keep.rs` (`NETNS_TEST_KEEP`) share it.
//!
//! The payloads carry `ARTIFACTS_MARKER`, so that the suite can find the test's own packets in
//! the capture. The `scratch_*` tests use their scratch directory (`TMPDIR`).

use std::net::UdpSocket;
use std::time::Duration;

use netns_test::{Net, netns_test};

fn marker() -> String {
    std::env::var("ARTIFACTS_MARKER").unwrap_or_else(|_| "netns-test-marker".into())
}

/// Sends one UDP datagram carrying the marker from the client to the server's port 5555, and
/// waits until it arrives.
fn client_sends_marker(net: &Net) {
    let server = net
        .node("server")
        .run(|| UdpSocket::bind("0.0.0.0:5555").expect("bind"));
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    net.node("client").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        socket
            .send_to(marker().as_bytes(), "server:5555")
            .expect("send");
    });
    let mut buf = [0u8; 256];
    let (len, _) = server.recv_from(&mut buf).expect("the datagram arrives");
    assert_eq!(&buf[..len], marker().as_bytes());
}

#[netns_test(topology = "client -- server", capture)]
fn fails_after_a_datagram(net: &Net) {
    client_sends_marker(net);
    panic!("failing after the datagram arrived");
}

/// Fails with a TCP server thread listening in `server`, a `sleep` running there and another running
/// in `host` (started with a plain `Command`).
#[netns_test(topology = "client -- server")]
#[expect(
    clippy::zombie_processes,
    reason = "they run until the test ends; the PID namespace's init reaps them"
)]
fn fails_with_a_server_running(net: &Net) {
    let server = net.node("server");
    // A server thread, as a test runs one: it still listens when the body has panicked.
    let _server = server.spawn(|| {
        let listener = std::net::TcpListener::bind("0.0.0.0:7000").expect("bind");
        while listener.accept().is_ok() {}
    });
    server
        .wait_for_tcp(7000, Duration::from_secs(5))
        .expect("the server listens");
    let _in_server = server.command("sleep").arg("3600").spawn().expect("sleep");
    let _in_host = std::process::Command::new("sleep")
        .arg("3599")
        .spawn()
        .expect("sleep");
    panic!("failing with a server running");
}

#[netns_test(topology = "client -- gateway -- server [rate=10mbit]")]
fn fails_with_a_firewall(net: &Net) {
    let gateway = net.node("gateway");
    for command in [
        &["nft", "add table inet artifacts_check"][..],
        &["ip", "rule", "add", "from", "10.0.1.0/24", "table", "100"],
        &[
            "ip",
            "route",
            "add",
            "10.9.0.0/16",
            "via",
            "10.0.2.1",
            "table",
            "100",
        ],
    ] {
        let status = gateway
            .command(command[0])
            .args(&command[1..])
            .status()
            .expect("run a program in the gateway");
        assert!(status.success(), "{command:?}");
    }
    panic!("failing with a firewall table and policy routing in the gateway");
}

/// Hangs past its time limit with a firewall table in the gateway.
#[netns_test(topology = "client -- gateway -- server", timeout = "1s")]
fn hangs_with_a_firewall(net: &Net) {
    let status = net
        .node("gateway")
        .command("nft")
        .arg("add table inet artifacts_check")
        .status()
        .expect("run nft");
    assert!(status.success());
    std::thread::sleep(std::time::Duration::from_secs(3600));
}

/// Fails behind a NAT after one flow from inside went out through it (to the server's port
/// 5555, from the client's port 4000).
#[netns_test(topology = "client -- home -- server; nat home [outside=server]")]
fn fails_behind_a_nat(net: &Net) {
    let server = net
        .node("server")
        .run(|| UdpSocket::bind("0.0.0.0:5555").expect("bind"));
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let to = (net.node("server").ip(), 5555);
    net.node("client").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:4000").expect("bind");
        socket.send_to(marker().as_bytes(), to).expect("send");
    });
    let mut buf = [0u8; 256];
    server.recv_from(&mut buf).expect("the datagram arrives");
    panic!("failing behind a NAT");
}

#[netns_test(topology = "switch lan; {a b} -- lan")]
fn fails_on_a_switch() {
    panic!("failing on a switch");
}

/// Fails once the file `ARTIFACTS_GATE` names exists (within 10 s): two runs of it at once
/// hold one test's artifact folders at the same time.
#[netns_test(topology = "client -- server")]
fn fails_when_the_gate_opens(_net: &Net) {
    let gate = std::env::var("ARTIFACTS_GATE").expect("ARTIFACTS_GATE names a file");
    let started = std::time::Instant::now();
    while !std::path::Path::new(&gate).exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(
        std::env::temp_dir().join("left"),
        "in the scratch directory",
    )
    .unwrap();
    panic!("failed on purpose once the gate opened");
}

#[netns_test(topology = "client -- server", capture)]
fn passes_with_capture_on_failure(net: &Net) {
    client_sends_marker(net);
}

#[netns_test(topology = "client -- server", capture = "always")]
fn passes_with_capture_always(net: &Net) {
    client_sends_marker(net);
}

#[netns_test(topology = "client -- server")]
fn passes(net: &Net) {
    client_sends_marker(net);
}

/// One ping from the client to the server, answered.
fn client_pings_server_once(net: &Net) {
    let status = net
        .node("client")
        .command("ping")
        .args(["-c", "1", "-W", "5", "server"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run ping");
    assert!(status.success(), "the ping is answered");
}

#[netns_test(topology = "client -- server", capture = "always")]
fn pings_once_with_capture_always(net: &Net) {
    client_pings_server_once(net);
}

#[netns_test(topology = "client -- server", capture = "always,both-ends")]
fn pings_once_with_capture_at_both_ends(net: &Net) {
    client_pings_server_once(net);
}

// The ways a test dies, each right after a ping: what the capture holds then is checked by
// `tests/capture.rs`.

#[netns_test(topology = "client -- server", capture)]
fn pings_then_aborts(net: &Net) {
    client_pings_server_once(net);
    std::process::abort();
}

#[netns_test(topology = "client -- server", capture)]
fn pings_then_segfaults(net: &Net) {
    client_pings_server_once(net);
    // SAFETY: none: a write through a null pointer is the crash this test is about.
    unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
}

/// Hangs past its time limit: its own report ends it.
#[netns_test(topology = "client -- server", capture, timeout = "1s")]
fn pings_then_hangs(net: &Net) {
    client_pings_server_once(net);
    std::thread::sleep(Duration::from_secs(3600));
}

/// Stops itself (`SIGSTOP`, every thread with it) a moment after the ping, so that it cannot
/// report its own timeout: the harness kills it.
#[netns_test(topology = "client -- server", capture, timeout = "1s")]
fn pings_then_stops_until_killed(net: &Net) {
    client_pings_server_once(net);
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP).expect("stop");
}

/// How many bytes `sends_1_mib_with_capture_always` sends: several times what a packet socket's
/// own receive buffer holds, less than a capture ring.
const BULK_BYTES: usize = 1 << 20;

#[netns_test(topology = "client -- server", capture = "always")]
fn sends_1_mib_with_capture_always(net: &Net) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    let listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:9000").expect("bind"));
    let receiver = net.node("server").spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).expect("read");
        received.len()
    });
    net.node("client").run(|| {
        let mut stream = TcpStream::connect("server:9000").expect("connect");
        stream.write_all(&vec![7u8; BULK_BYTES]).expect("send");
    });
    assert_eq!(receiver.join().unwrap(), BULK_BYTES);
}

/// Writes its name into a file of its `TMPDIR` named after its pid, which is the same in every
/// test (each has its own PID namespace), says so in `SCRATCH_SYNC`, waits until `other` has
/// done the same, and reads the file back: with one `TMPDIR` for both tests, one of them reads
/// the other's name.
fn writes_where_another_test_writes(net: &Net, me: &str, other: &str) {
    let sync = std::path::PathBuf::from(
        std::env::var_os("SCRATCH_SYNC").expect("SCRATCH_SYNC names a folder both tests see"),
    );
    let file = std::env::temp_dir().join(format!("server-{}.pid", std::process::id()));
    std::fs::write(&file, me).expect("write in TMPDIR");
    std::fs::write(sync.join(me), "").expect("write in SCRATCH_SYNC");
    // A bound for a run gone wrong, not a measure of speed.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !sync.join(other).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "`{other}` never wrote"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let read = std::fs::read_to_string(&file).expect("read back");
    assert_eq!(read, me, "another test wrote {}", file.display());
    // The scratch directory is TMPDIR for the body, for std and for the programs it starts.
    assert_eq!(std::env::temp_dir(), net.scratch_dir());
    let output = net
        .node("client")
        .command("sh")
        .args(["-c", "printf %s \"$TMPDIR\""])
        .output()
        .expect("run sh");
    assert_eq!(
        std::path::Path::new(std::str::from_utf8(&output.stdout).unwrap()),
        net.scratch_dir()
    );
}

#[netns_test(topology = "client -- server")]
fn scratch_one_of_two(net: &Net) {
    writes_where_another_test_writes(net, "scratch_one_of_two", "scratch_two_of_two");
}

#[netns_test(topology = "client -- server")]
fn scratch_two_of_two(net: &Net) {
    writes_where_another_test_writes(net, "scratch_two_of_two", "scratch_one_of_two");
}

/// Leaves a file in its scratch directory, and says where, then passes.
#[netns_test(topology = "client -- server")]
fn scratch_with_a_pass(net: &Net) {
    let file = net.scratch_dir().join("left.txt");
    std::fs::write(&file, "left by a passing test").expect("write in the scratch directory");
    println!("wrote {}", file.display());
}

/// Serves on a unix socket in its scratch directory, and talks to it from another node.
#[netns_test(topology = "client -- server")]
fn unix_socket_in_scratch(net: &Net) {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};

    let path = net.scratch_dir().join("server.sock");
    let listener = UnixListener::bind(&path).expect("bind a unix socket in the scratch directory");
    let server = net.node("server").spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept on the unix socket");
        let mut word = [0u8; 4];
        stream.read_exact(&mut word).expect("read on the server");
        stream.write_all(&word).expect("answer from the server");
    });
    let mut client = net
        .node("client")
        .run(|| UnixStream::connect(&path))
        .expect("connect to the unix socket");
    client.write_all(b"ping").expect("write from the client");
    let mut back = [0u8; 4];
    client.read_exact(&mut back).expect("read the answer");
    assert_eq!(&back, b"ping");
    server.join().expect("the server's thread");
    println!("echoed through {}", path.display());
}

/// Leaves a file in its scratch directory, through a program, then fails.
#[netns_test(topology = "client -- server")]
fn scratch_with_a_failure(net: &Net) {
    let status = net
        .node("server")
        .command("sh")
        .args(["-c", "echo kept > \"$TMPDIR/server.log\""])
        .status()
        .expect("run sh");
    assert!(status.success());
    panic!("failing with a file in the scratch directory");
}

netns_test::main!();
