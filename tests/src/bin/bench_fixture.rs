//! The tests `cargo xtask bench` times, each run as a whole process the way cargo-nextest runs a
//! test (`bench_fixture --exact NAME`): harness start, sandbox, network, body, exit.
//!
//! `bench_fixture --floor` is the floor the seed test is measured against: it makes its user,
//! network and mount namespaces itself, builds the seed network with the crate's own netlink
//! code, does the same UDP round trip, and exits. No harness, no PID namespace, no keeper, no
//! capture of output.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use netns_test::{Net, netns_test};
use netns_test_suites::support::seed::{SEED, round_trip};

/// The seed test: three nodes routed, one UDP round trip from client to server.
#[netns_test(topology = "client -- gateway -- server")]
fn seed(net: &Net) {
    round_trip(net);
}

/// Two homes and a server on the internet, with each peer's one UDP round trip to the server:
/// the network of a hole-punching test, without NAT (`two_homes_nat` is the same with NAT).
#[netns_test(topology = "switch internet
    {home-a home-b server} -- internet
    peer-a -- home-a
    peer-b -- home-b")]
fn two_homes(net: &Net) {
    two_round_trips(net);
}

/// `two_homes` with both homes NATs, port-restricted and symmetric: what NAT adds to it.
#[netns_test(topology = "switch internet
    {home-a home-b server} -- internet
    peer-a -- home-a
    peer-b -- home-b
    nat home-a [outside=internet, type=port-restricted]
    nat home-b [outside=internet, type=symmetric]")]
fn two_homes_nat(net: &Net) {
    two_round_trips(net);
}

/// Each peer sends one datagram to the server, which echoes it.
fn two_round_trips(net: &Net) {
    let server_ip = net.node("server").ip();
    let socket = net
        .node("server")
        .run(|| UdpSocket::bind("0.0.0.0:7000").unwrap());
    let echo = std::thread::spawn(move || {
        let mut buf = [0; 8];
        for _ in 0..2 {
            let (n, from) = socket.recv_from(&mut buf).unwrap();
            socket.send_to(&buf[..n], from).unwrap();
        }
    });
    for peer in ["peer-a", "peer-b"] {
        net.node(peer).run(|| {
            let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            socket.send_to(b"x", (server_ip, 7000)).unwrap();
            let mut buf = [0; 8];
            socket.recv_from(&mut buf).unwrap();
        });
    }
    echo.join().unwrap();
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

/// `empty` with a relayed link (on a kernel without netem, or with `NETNS_TEST_IMPAIR=relay`):
/// what a relayed link adds to a test.
#[netns_test(topology = "a -- b [delay=0ms]")]
fn relayed_empty() {
    time_to_body();
}

/// `empty`, printing the time from the launch (`BENCH_LAUNCH_NS`, set by `cargo xtask bench`)
/// to the body: harness, sandbox and network, without the teardown.
#[netns_test(topology = "a -- b")]
fn plain_empty() {
    time_to_body();
}

fn time_to_body() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    if let Some(launch) = std::env::var("BENCH_LAUNCH_NS")
        .ok()
        .and_then(|v| v.parse::<u128>().ok())
    {
        println!("to-body-ns: {}", now - launch);
    }
}

// The cases below measure the impairments and print `bench: ` lines, which `cargo xtask bench`
// shows; they run once each, with `--nocapture`.

/// Sorted round-trip times of `count` UDP echoes from `a` to `b`, in milliseconds.
fn udp_rtts(net: &Net, count: usize) -> Vec<f64> {
    udp_rtts_to(net, "b", count)
}

/// Sorted round-trip times of `count` UDP echoes from `a` to `to`, in milliseconds.
fn udp_rtts_to(net: &Net, to: &str, count: usize) -> Vec<f64> {
    let server = net
        .node(to)
        .run(|| UdpSocket::bind("0.0.0.0:9000").unwrap());
    let target = format!("{to}:9000");
    let echo = net.node(to).spawn(move || {
        server
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let mut buffer = [0u8; 64];
        while let Ok((len, from)) = server.recv_from(&mut buffer) {
            server.send_to(&buffer[..len], from).unwrap();
        }
    });
    let mut rtts = net.node("a").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        socket.connect(&target).unwrap();
        let mut rtts = Vec::with_capacity(count);
        let mut buffer = [0u8; 64];
        for i in 0..count as u32 {
            let start = Instant::now();
            socket.send(&i.to_be_bytes()).unwrap();
            // Skip a late answer to an earlier one.
            while let Ok(len) = socket.recv(&mut buffer) {
                if buffer[..len] == i.to_be_bytes() {
                    rtts.push(start.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
            }
        }
        rtts
    });
    echo.join().unwrap();
    rtts.sort_by(f64::total_cmp);
    rtts
}

fn at(sorted: &[f64], share: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * share) as usize]
}

/// The round trip of `delay=20ms` (40 ms expected): median and 99th percentile.
#[netns_test(topology = "a -- b [delay=20ms]")]
fn delay_accuracy(net: &Net) {
    let rtts = udp_rtts(net, 300);
    println!(
        "bench: delay=20ms: round trip median {:.2} ms, p99 {:.2} ms over {} (goal 40 within 2, p99 within 5)",
        at(&rtts, 0.5),
        at(&rtts, 0.99),
        rtts.len()
    );
}

/// The spread of `delay=20ms, jitter=5ms`: uniform within 5 ms each way, so a round trip's
/// standard deviation is 5 / sqrt(3) * sqrt(2) = 4.08 ms. The round trips also vary by the
/// machine's own noise (scheduling, timers), so a `delay=20ms` link without jitter is measured
/// beside it, in turns, and the spread the jitter adds is sqrt(var_jittered - var_plain): the
/// noise adds its variance to the jitter's, being independent of it.
#[netns_test(topology = "a -- b [delay=20ms, jitter=5ms]; a -- c [delay=20ms]")]
fn jitter_accuracy(net: &Net) {
    let (mut jittered, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        jittered.extend(udp_rtts_to(net, "b", 100));
        plain.extend(udp_rtts_to(net, "c", 100));
    }
    let variance = |rtts: &[f64]| {
        let mean = rtts.iter().sum::<f64>() / rtts.len() as f64;
        let var = rtts.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / rtts.len() as f64;
        (mean, var)
    };
    let (mean, var) = variance(&jittered);
    let (plain_mean, plain_var) = variance(&plain);
    let spread = (var - plain_var).max(0.0).sqrt();
    println!(
        "bench: delay=20ms, jitter=5ms: round trip mean {mean:.2} ms, standard deviation {:.2} ms; \
         without jitter mean {plain_mean:.2} ms, standard deviation {:.2} ms; spread from the \
         jitter sqrt(var - var_plain) {spread:.2} ms (expected 4.08 ms; goal within 20%: {})",
        var.sqrt(),
        plain_var.sqrt(),
        if (spread - 4.08).abs() <= 0.816 {
            "yes"
        } else {
            "NO"
        }
    );
}

/// Datagrams of a one-way stream of `count` from `a` to `b` that arrived, by sequence number.
fn arrivals(net: &Net, count: u32) -> Vec<bool> {
    let receiver = net
        .node("b")
        .run(|| UdpSocket::bind("0.0.0.0:9001").unwrap());
    let receiving = net.node("b").spawn(move || {
        // Long enough for the pings below to end, then half a second after the last datagram.
        receiver
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut arrived = vec![false; count as usize];
        let mut buffer = [0u8; 16];
        while let Ok((_, _)) = receiver.recv_from(&mut buffer) {
            arrived[u32::from_be_bytes(buffer[..4].try_into().unwrap()) as usize] = true;
            receiver
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
        }
        arrived
    });
    // Resolve the neighbours first: a lost ARP request would look like a burst of loss. A ping
    // whose reply is lost waits for it at most a second (without `-W`, ten).
    let _ = net
        .node("a")
        .command("ping")
        .args(["-c", "5", "-i", "0.05", "-W", "1", "b"])
        .output();
    net.node("a").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        for seq in 0..count {
            socket.send_to(&seq.to_be_bytes(), "b:9001").unwrap();
            if seq % 20 == 19 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    receiving.join().unwrap()
}

/// `loss=10%` over 2000 datagrams against the binomial 99% bounds.
#[netns_test(topology = "a -- b [loss=10%]")]
fn loss_accuracy(net: &Net) {
    let arrived = arrivals(net, 2000);
    let lost = arrived.iter().filter(|a| !**a).count();
    // 2000 * 0.1 = 200, standard deviation sqrt(2000 * 0.1 * 0.9) = 13.42; 99%: 2.576 of them.
    let (low, high) = (200.0 - 2.576 * 13.42, 200.0 + 2.576 * 13.42);
    let inside = (low..=high).contains(&(lost as f64));
    println!(
        "bench: loss=10%: {lost} of 2000 lost; binomial 99% bounds {low:.0} to {high:.0}: {}",
        if inside { "inside" } else { "OUTSIDE" }
    );
}

/// Runs of losses with `burst=5`: mean run length (independent 10% losses give 1.11).
#[netns_test(topology = "a -- b [loss=10%, burst=5]")]
fn burst_accuracy(net: &Net) {
    let arrived = arrivals(net, 2000);
    let lost = arrived.iter().filter(|a| !**a).count();
    let runs = arrived.windows(2).filter(|w| w[0] && !w[1]).count().max(1);
    println!(
        "bench: loss=10%, burst=5: {lost} of 2000 lost in {runs} runs, {:.2} on average (set 5)",
        lost as f64 / runs as f64
    );
}

/// The relay thread's CPU time so far, in seconds, if this process has one.
fn relay_cpu_seconds() -> Option<f64> {
    let ticks = 100.0; // USER_HZ
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim() == "netns-relay" {
            let stat = std::fs::read_to_string(path.join("stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            return Some((utime + stime) / ticks);
        }
    }
    None
}

/// Bulk TCP from `a` to `b` for about two seconds: Gbit/s, and the relay's CPU per Gbit.
fn throughput(net: &Net, label: &str) {
    let listener = net
        .node("b")
        .run(|| TcpListener::bind("0.0.0.0:7000").unwrap());
    let receiver = net.node("b").spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buffer = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            match stream.read(&mut buffer).unwrap() {
                0 => break total,
                n => total += n as u64,
            }
        }
    });
    let cpu_before = relay_cpu_seconds();
    let start = Instant::now();
    net.node("a").run(|| {
        let mut stream = TcpStream::connect("b:7000").unwrap();
        let chunk = vec![7u8; 1 << 20];
        while start.elapsed() < Duration::from_secs(2) {
            stream.write_all(&chunk).unwrap();
        }
    });
    let bytes = receiver.join().unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let gbit = bytes as f64 * 8.0 / 1e9;
    let cpu = relay_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| {
            format!(
                "; relay thread {:.2} CPU s, {:.3} CPU s per Gbit",
                after - before,
                (after - before) / gbit
            )
        })
        .unwrap_or_default();
    println!(
        "bench: {label}: {:.2} Gbit/s ({:.0} MB in {seconds:.2} s){cpu}",
        gbit / seconds,
        bytes as f64 / 1e6
    );
}

#[netns_test(topology = "a -- b [delay=1ms]")]
fn tcp_delayed(net: &Net) {
    throughput(net, "TCP through delay=1ms (goal >= 1 Gbit/s)");
}

#[netns_test(topology = "a -- b")]
fn tcp_plain(net: &Net) {
    throughput(net, "TCP through a plain veth, for comparison");
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
