//! `cargo xtask doctor`: what this machine offers netns-test, and how to fix what it lacks.
//!
//! - user namespaces: a sandbox is made exactly as the harness makes one for a test
//!   ([`netns_test::probe_sandbox`]); a refusal is explained with the step, errno, setting and fix;
//! - link kinds and qdiscs: each is created in a throwaway network namespace (inside a fresh user
//!   namespace when rootless), so nothing on the host changes and no packet leaves;
//! - the programs tests and examples run, with the Debian package that provides each.

use std::process::{Command, Stdio};

use anyhow::Result;
use netns_test::SandboxSupport;

use crate::setup::{is_root, on_path};

/// A kernel feature, how to make one, and what provides it.
struct Feature {
    name: &'static str,
    /// Commands (run with `sh -c` in a throwaway namespace) that succeed only if it works.
    script: &'static str,
    module: &'static str,
    config: &'static str,
}

const LINK_KINDS: &[Feature] = &[
    feature(
        "veth",
        "ip link add t0 type veth peer name t1",
        "veth",
        "VETH",
    ),
    feature("bridge", "ip link add t0 type bridge", "bridge", "BRIDGE"),
    feature(
        "vxlan",
        "ip link add t0 type vxlan id 42 dstport 4789",
        "vxlan",
        "VXLAN",
    ),
    feature("tun", "ip tuntap add mode tun name t0", "tun", "TUN"),
    feature("dummy", "ip link add t0 type dummy", "dummy", "DUMMY"),
    feature(
        "vlan",
        "ip link add p0 type veth peer name p1 && ip link add link p0 name t0 type vlan id 5",
        "8021q",
        "VLAN_8021Q",
    ),
    feature(
        "macvlan",
        "ip link add p0 type veth peer name p1 && ip link add link p0 name t0 type macvlan",
        "macvlan",
        "MACVLAN",
    ),
    feature(
        "ipvlan",
        "ip link add p0 type veth peer name p1 && ip link add link p0 name t0 type ipvlan",
        "ipvlan",
        "IPVLAN",
    ),
    feature("bond", "ip link add t0 type bond", "bonding", "BONDING"),
    feature("vrf", "ip link add t0 type vrf table 10", "vrf", "NET_VRF"),
    feature(
        "gre",
        "ip link add t0 type gre local 10.0.0.1 remote 10.0.0.2",
        "ip_gre",
        "NET_IPGRE",
    ),
    feature(
        "wireguard",
        "ip link add t0 type wireguard",
        "wireguard",
        "WIREGUARD",
    ),
];

const QDISCS: &[Feature] = &[
    qdisc(
        "tbf",
        "tbf rate 1mbit burst 32kbit latency 400ms",
        "sch_tbf",
        "NET_SCH_TBF",
    ),
    qdisc("htb", "handle 1: htb", "sch_htb", "NET_SCH_HTB"),
    qdisc("netem", "netem delay 10ms", "sch_netem", "NET_SCH_NETEM"),
    qdisc("fq_codel", "fq_codel", "sch_fq_codel", "NET_SCH_FQ_CODEL"),
    qdisc("fq", "fq", "sch_fq", "NET_SCH_FQ"),
    qdisc("prio", "prio", "sch_prio", "NET_SCH_PRIO"),
    qdisc("sfq", "sfq", "sch_sfq", "NET_SCH_SFQ"),
    qdisc("cake", "cake", "sch_cake", "NET_SCH_CAKE"),
];

const fn feature(
    name: &'static str,
    script: &'static str,
    module: &'static str,
    config: &'static str,
) -> Feature {
    Feature {
        name,
        script,
        module,
        config,
    }
}

/// A qdisc is tried as the root qdisc of `lo`, which every namespace has.
const fn qdisc(
    name: &'static str,
    script: &'static str,
    module: &'static str,
    config: &'static str,
) -> Feature {
    Feature {
        name,
        script,
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
            features("link kinds", LINK_KINDS, prefix, false);
            println!();
            features("qdiscs", QDISCS, prefix, true);
        }
        None => println!(
            "link kinds and qdiscs: not probed (no namespace can be made here to try them in)"
        ),
    }
    println!();
    tools();
    Ok(())
}

/// Reports whether tests can make their sandbox, and returns the `unshare` arguments that make a
/// throwaway network namespace, if one can be made.
fn user_namespaces() -> Option<&'static [&'static str]> {
    match netns_test::probe_sandbox() {
        Ok(SandboxSupport::UserNamespace) => {
            println!("user namespaces   ok: tests run in their own user namespace, rootless");
            Some(&["unshare", "--user", "--map-root-user", "--net"])
        }
        Ok(SandboxSupport::RootWithoutUserNamespace(refusal)) => {
            println!(
                "user namespaces   refused, but this is root: tests run without one \
                 (network, mount and PID namespaces only)\n                  {refusal}"
            );
            Some(&["unshare", "--net"])
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

fn features(title: &str, features: &[Feature], prefix: &[&str], is_qdisc: bool) {
    println!("{title}:");
    let width = features.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for feature in features {
        let script = if is_qdisc {
            format!(
                "ip link set lo up && tc qdisc add dev lo root {}",
                feature.script
            )
        } else {
            feature.script.to_string()
        };
        let output = Command::new(prefix[0])
            .args(&prefix[1..])
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(output) if output.status.success() => {
                println!("  {:width$}  ok", feature.name);
            }
            Ok(output) => {
                let why = String::from_utf8_lossy(&output.stderr);
                let why = why.lines().next().unwrap_or("failed").trim();
                let unknown = why.contains("Unknown device type") || why.contains("is unknown");
                if !unknown {
                    println!("  {:width$}  fails here: {why}", feature.name);
                    continue;
                }
                let root_hint = if is_root() {
                    ""
                } else {
                    " (as root: only root may load a module)"
                };
                println!(
                    "  {:width$}  missing: this kernel lacks it ({why})\n  {:width$}  fix: sudo \
                     modprobe {}{root_hint}, or a kernel built with CONFIG_{}",
                    feature.name, "", feature.module, feature.config
                );
            }
            Err(error) => println!("  {:width$}  cannot probe: {error}", feature.name),
        }
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
