//! `cargo xtask doctor`: what this machine offers netns-test, and how to fix what it lacks.
//!
//! - user namespaces: a sandbox is made exactly as the harness makes one for a test
//!   ([`netns_test::probe_sandbox`]); a refusal is explained with the step, errno, setting and fix;
//! - link kinds and qdiscs: each is created in a throwaway network and mount namespace (inside a
//!   fresh user namespace when rootless), so nothing on the host changes and no packet leaves; a
//!   link kind stacked on a parent (vlan, macvlan, ipvlan) counts only once a ping crosses it
//!   between two namespaces;
//! - link impairment: which path carries `delay=`, `loss=` and the rest here (the kernel's netem
//!   or the userspace relay) and why, then a real round trip across a delayed, duplicating link
//!   built as a test would build it ([`netns_test::run`]);
//! - NAT routers: each nf_tables and conntrack feature their rules need, tried in a node of a
//!   throwaway network built as a test builds one (the runtime's own probe, which sends the
//!   messages a NAT's installation sends),
//!   then one datagram from behind a NAT that must arrive from its outside address;
//! - the programs tests and examples run, with the Debian package that provides each.

use std::process::{Command, Stdio};

use anyhow::Result;
use netns_test::SandboxSupport;

use crate::setup::{is_root, on_path};

/// A kernel feature, how to try it, and what provides it.
struct Feature {
    name: &'static str,
    trial: Trial,
    module: &'static str,
    config: &'static str,
}

/// How a feature is tried, with `sh -c` in a throwaway network and mount namespace.
#[derive(Clone, Copy)]
enum Trial {
    /// A command that makes the link on its own.
    Make(&'static str),
    /// A link stacked on a parent (`type macvlan`, `type vlan id 5`): one on each end of a veth
    /// pair, one of them made straight into a second namespace, the way a test gives a node such
    /// an interface, and a ping must cross between the two. That the kernel accepts the link is
    /// not enough to call it usable.
    Stacked(&'static str),
    /// The root qdisc of `lo`, which every namespace has.
    Qdisc(&'static str),
}

impl Trial {
    fn script(self) -> String {
        match self {
            Trial::Make(command) => command.to_string(),
            Trial::Stacked(kind) => format!(
                "mount -t tmpfs tmpfs /run && ip netns add far \
                 && ip link add p0 type veth peer name p1 && ip link set p0 up && ip link set p1 up \
                 && ip link add link p0 name t0 netns far {kind} && ip link add link p1 name t1 {kind} \
                 && ip -n far address add 10.9.0.1/24 dev t0 && ip -n far link set t0 up \
                 && ip address add 10.9.0.2/24 dev t1 && ip link set t1 up \
                 && ip netns exec far ping -q -c 1 -W 3 10.9.0.2"
            ),
            Trial::Qdisc(qdisc) => format!("ip link set lo up && tc qdisc add dev lo root {qdisc}"),
        }
    }
}

const LINK_KINDS: &[Feature] = &[
    feature(
        "veth",
        Trial::Make("ip link add t0 type veth peer name t1"),
        "veth",
        "VETH",
    ),
    feature(
        "bridge",
        Trial::Make("ip link add t0 type bridge"),
        "bridge",
        "BRIDGE",
    ),
    feature(
        "vxlan",
        Trial::Make("ip link add t0 type vxlan id 42 dstport 4789"),
        "vxlan",
        "VXLAN",
    ),
    feature(
        "tun",
        Trial::Make("ip tuntap add mode tun name t0"),
        "tun",
        "TUN",
    ),
    feature(
        "dummy",
        Trial::Make("ip link add t0 type dummy"),
        "dummy",
        "DUMMY",
    ),
    feature(
        "vlan",
        Trial::Stacked("type vlan id 5"),
        "8021q",
        "VLAN_8021Q",
    ),
    feature(
        "macvlan",
        Trial::Stacked("type macvlan mode bridge"),
        "macvlan",
        "MACVLAN",
    ),
    feature(
        "ipvlan",
        Trial::Stacked("type ipvlan mode l2"),
        "ipvlan",
        "IPVLAN",
    ),
    feature(
        "bond",
        Trial::Make("ip link add t0 type bond"),
        "bonding",
        "BONDING",
    ),
    feature(
        "vrf",
        Trial::Make("ip link add t0 type vrf table 10"),
        "vrf",
        "NET_VRF",
    ),
    feature(
        "gre",
        Trial::Make("ip link add t0 type gre local 10.0.0.1 remote 10.0.0.2"),
        "ip_gre",
        "NET_IPGRE",
    ),
    feature(
        "wireguard",
        Trial::Make("ip link add t0 type wireguard"),
        "wireguard",
        "WIREGUARD",
    ),
];

const QDISCS: &[Feature] = &[
    feature(
        "tbf",
        Trial::Qdisc("tbf rate 1mbit burst 32kbit latency 400ms"),
        "sch_tbf",
        "NET_SCH_TBF",
    ),
    feature(
        "htb",
        Trial::Qdisc("handle 1: htb"),
        "sch_htb",
        "NET_SCH_HTB",
    ),
    feature(
        "netem",
        Trial::Qdisc("netem delay 10ms"),
        "sch_netem",
        "NET_SCH_NETEM",
    ),
    feature(
        "fq_codel",
        Trial::Qdisc("fq_codel"),
        "sch_fq_codel",
        "NET_SCH_FQ_CODEL",
    ),
    feature("fq", Trial::Qdisc("fq"), "sch_fq", "NET_SCH_FQ"),
    feature("prio", Trial::Qdisc("prio"), "sch_prio", "NET_SCH_PRIO"),
    feature("sfq", Trial::Qdisc("sfq"), "sch_sfq", "NET_SCH_SFQ"),
    feature("cake", Trial::Qdisc("cake"), "sch_cake", "NET_SCH_CAKE"),
];

const fn feature(
    name: &'static str,
    trial: Trial,
    module: &'static str,
    config: &'static str,
) -> Feature {
    Feature {
        name,
        trial,
        module,
        config,
    }
}

/// The programs tests and examples run, with the Debian package of each.
const TOOLS: &[(&str, &str, &str)] = &[
    ("ip", "iproute2", "links, addresses and routes inside nodes"),
    ("tc", "iproute2", "qdiscs: rate limits, delay, loss"),
    ("nft", "nftables", "firewall rules inside nodes"),
    ("ping", "iputils-ping", "reachability checks"),
    ("curl", "curl", "an HTTP exchange through an impaired link"),
    ("tshark", "tshark", "packet captures"),
    ("nsenter", "util-linux", "entering a node from a shell"),
    (
        "unshare",
        "util-linux",
        "this doctor's throwaway namespaces",
    ),
];

pub(crate) fn doctor() -> Result<()> {
    println!("netns-test doctor: what this machine offers\n");
    let namespace_prefix = user_namespaces();
    println!();
    match namespace_prefix {
        Some(prefix) => {
            features("link kinds", LINK_KINDS, prefix);
            println!();
            features("qdiscs", QDISCS, prefix);
            println!();
            impairment(prefix);
            println!();
            nat();
        }
        None => println!(
            "link kinds and qdiscs: not probed (no namespace can be made here to try them in)"
        ),
    }
    println!();
    tools();
    Ok(())
}

/// Builds a network with a NAT, as a test builds one, and sends one datagram through it.
fn nat_checked() {
    let topology = "peer -- home -- server; nat home [outside=server, type=full-cone]";
    let checked = netns_test::run(topology, |net| {
        let receiver = net
            .node("server")
            .run(|| std::net::UdpSocket::bind("0.0.0.0:9000"))
            .map_err(|e| e.to_string())?;
        receiver
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        let server = std::net::SocketAddr::from((net.node("server").ip(), 9000));
        net.node("peer")
            .run(|| std::net::UdpSocket::bind("0.0.0.0:0")?.send_to(b"doctor", server))
            .map_err(|e| e.to_string())?;
        let mut buffer = [0u8; 16];
        let (_, from) = receiver.recv_from(&mut buffer).map_err(|e| e.to_string())?;
        let outside = net.nat("home").outside_ip();
        Ok::<_, String>((from.ip().to_string(), outside.to_string()))
    });
    match checked {
        Ok(Ok((from, outside))) if from == outside => println!(
            "  checked: a datagram from behind a NAT arrived from its outside address, {outside}"
        ),
        Ok(Ok((from, outside))) => println!(
            "  FAILED: a datagram from behind `home` arrived from {from}, not from its outside \
             address {outside}"
        ),
        Ok(Err(error)) => println!("  FAILED: {error}"),
        Err(error) => println!("  FAILED: cannot build a network with a NAT: {error}"),
    }
}

/// Says which path carries the link impairments here and why, and checks it with a round trip.
fn impairment(prefix: &[&str]) {
    println!("link impairment (delay, jitter, loss, duplicate, reorder, corrupt):");
    let asked = std::env::var(netns_test::IMPAIR_ENV).unwrap_or_default();
    let asked = if asked.trim().is_empty() {
        "auto".to_string()
    } else {
        asked.trim().to_string()
    };
    let netem = QDISCS
        .iter()
        .find(|f| f.name == "netem")
        .expect("netem is a probed qdisc");
    let has_netem = match try_feature(netem, prefix) {
        Outcome::Works => Ok(()),
        Outcome::Missing(why) | Outcome::Fails(why) => Err(why),
        Outcome::CannotProbe(error) => Err(error.to_string()),
    };
    let (path, why) = match (asked.as_str(), &has_netem) {
        ("auto", Ok(())) => ("netem", "the kernel has sch_netem".to_string()),
        ("auto", Err(why)) => (
            "relay",
            format!("the kernel lacks sch_netem ({why}); the relay needs nothing more"),
        ),
        ("relay", _) => ("relay", format!("{} asks for it", netns_test::IMPAIR_ENV)),
        ("netem", Ok(())) => ("netem", format!("{} asks for it", netns_test::IMPAIR_ENV)),
        ("netem", Err(why)) => (
            "none",
            format!(
                "{} asks for netem, which this kernel lacks ({why}): every test with a delay \
                 or loss fails; unset it to use the relay",
                netns_test::IMPAIR_ENV
            ),
        ),
        (other, _) => (
            "none",
            format!(
                "{}=`{other}` is not `auto`, `netem` or `relay`: every test fails",
                netns_test::IMPAIR_ENV
            ),
        ),
    };
    println!(
        "  {}={asked}: {path}, because {why}",
        netns_test::IMPAIR_ENV
    );
    if path == "none" {
        return;
    }
    // One real exchange across an impaired link, built as a test builds it.
    let checked = netns_test::run("a -- b [delay=5ms, duplicate=100%]", |net| {
        let receiver = net
            .node("b")
            .run(|| std::net::UdpSocket::bind("0.0.0.0:9000"))
            .map_err(|e| e.to_string())?;
        receiver
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        let start = std::time::Instant::now();
        net.node("a")
            .run(|| {
                let socket = std::net::UdpSocket::bind("0.0.0.0:0")?;
                socket.send_to(b"doctor", "b:9000")
            })
            .map_err(|e| e.to_string())?;
        let mut buffer = [0u8; 16];
        let mut copies = 0u32;
        while copies < 2 && receiver.recv_from(&mut buffer).is_ok() {
            copies += 1;
        }
        Ok::<_, String>((copies, start.elapsed().as_micros() as u64))
    });
    match checked {
        Ok(Ok((2, micros))) => println!(
            "  checked: a datagram crossed `delay=5ms, duplicate=100%` twice, within {:.1} ms",
            micros as f64 / 1000.0
        ),
        Ok(Ok((copies, _))) => println!(
            "  FAILED: a datagram sent across `delay=5ms, duplicate=100%` arrived {copies} times, not twice"
        ),
        Ok(Err(error)) => println!("  FAILED: {error}"),
        Err(error) => println!("  FAILED: cannot build a network with a delay: {error}"),
    }
}

/// Says whether NAT routers can be built here, feature by feature, from the runtime's probe run
/// in a node.
fn nat() {
    println!("NAT routers (nf_tables rules and conntrack, over netlink):");
    let probed = netns_test::run("gw -- out", |net| {
        net.node("gw")
            .run(netns_test::__private::probe_nat)
            .into_iter()
            .map(|(feature, result)| (feature.to_string(), result))
            .collect::<Vec<_>>()
    });
    match probed {
        Ok(results) => {
            for (feature, result) in results {
                match result {
                    Ok(()) => println!("  ok       {feature}"),
                    Err(why) => println!("  MISSING  {feature}: {}", why.replace('\n', " ")),
                }
            }
        }
        Err(error) => println!("  cannot probe: cannot build a network: {error}"),
    }
    nat_checked();
}

/// Reports whether tests can make their sandbox, and returns the `unshare` arguments that make a
/// throwaway network and mount namespace, if one can be made.
fn user_namespaces() -> Option<&'static [&'static str]> {
    match netns_test::probe_sandbox() {
        Ok(SandboxSupport::UserNamespace) => {
            println!("user namespaces   ok: tests run in their own user namespace, rootless");
            Some(&["unshare", "--user", "--map-root-user", "--net", "--mount"])
        }
        Ok(SandboxSupport::RootWithoutUserNamespace(refusal)) => {
            println!(
                "user namespaces   refused, but this is root: tests run without one \
                 (network, mount and PID namespaces only)\n                  {refusal}"
            );
            Some(&["unshare", "--net", "--mount"])
        }
        Ok(SandboxSupport::Refused(refusal)) => {
            let indent = " ".repeat(18);
            println!("user namespaces   REFUSED: tests cannot run here");
            println!("{indent}step:   {}", refusal.step());
            let errno = refusal.errno();
            println!("{indent}errno:  {errno:?} ({})", errno.desc());
            println!("{indent}cause:  {}", refusal.setting());
            println!("{indent}fix:    {}", refusal.fix());
            None
        }
        Err(error) => {
            println!("user namespaces   cannot probe: {error}");
            None
        }
    }
}

fn features(title: &str, features: &[Feature], prefix: &[&str]) {
    println!("{title}:");
    let width = features.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for feature in features {
        let name = feature.name;
        match try_feature(feature, prefix) {
            Outcome::Works => println!("  {name:width$}  ok"),
            Outcome::Fails(why) => println!("  {name:width$}  fails here: {why}"),
            Outcome::Missing(why) => {
                let root_hint = if is_root() {
                    ""
                } else {
                    " (as root: only root may load a module)"
                };
                println!(
                    "  {name:width$}  missing: this kernel lacks it ({why})\n  {:width$}  fix: sudo \
                     modprobe {}{root_hint}, or a kernel built with CONFIG_{}",
                    "", feature.module, feature.config
                );
            }
            Outcome::CannotProbe(error) => println!("  {name:width$}  cannot probe: {error}"),
        }
    }
}

/// How trying a feature ended.
enum Outcome {
    Works,
    /// The kernel does not know the link kind or qdisc: its module is not loaded or not built.
    Missing(String),
    /// Known to the kernel, but the trial failed, with the first line that says why.
    Fails(String),
    CannotProbe(std::io::Error),
}

/// Runs the trial of `feature` in a throwaway namespace made by `prefix`.
fn try_feature(feature: &Feature, prefix: &[&str]) -> Outcome {
    let output = Command::new(prefix[0])
        .args(&prefix[1..])
        .args(["sh", "-c", &feature.trial.script()])
        .stdin(Stdio::null())
        .output();
    let output = match output {
        Ok(output) if output.status.success() => return Outcome::Works,
        Ok(output) => output,
        Err(error) => return Outcome::CannotProbe(error),
    };
    // `ip` and `tc` say why on stderr; a ping that got no answer says so on its last line.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let why = stderr
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .or_else(|| stdout.lines().map(str::trim).rfind(|line| !line.is_empty()))
        .unwrap_or("failed")
        .to_string();
    if why.contains("Unknown device type") || why.contains("is unknown") {
        Outcome::Missing(why)
    } else {
        Outcome::Fails(why)
    }
}

fn tools() {
    println!("tools:");
    let width = TOOLS.iter().map(|(tool, ..)| tool.len()).max().unwrap_or(0);
    let mut missing = Vec::new();
    for (tool, package, what) in TOOLS {
        match on_path(tool) {
            Some(path) => println!("  {tool:width$}  ok: {} ({what})", path.display()),
            None => {
                println!("  {tool:width$}  missing ({what}): sudo apt-get install {package}");
                if !missing.contains(package) {
                    missing.push(*package);
                }
            }
        }
    }
    if !missing.is_empty() {
        println!(
            "\nto install everything missing: sudo apt-get install {}",
            missing.join(" ")
        );
    }
}
