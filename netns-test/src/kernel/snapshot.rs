//! The state of every node at the moment a test failed, one text file per node.
//!
//! `<node>.txt` holds what a network engineer would type into that node to see where the
//! packets went: its links, addresses and routes (as in the failure report), the routes of its
//! other routing tables and its policy rules (`ip rule`), its neighbour table (`ip neigh`), its
//! queueing disciplines (`tc qdisc`: rate, delay and loss), its forwarding and reverse-path
//! sysctls, and the nftables ruleset (`nft list ruleset`). The last three sections come from
//! running those programs in the node; a program that is not installed is said so. Then the
//! sockets that listen in the node and the processes (and threads) whose network namespace is
//! the node's (see [`crate::kernel::sockets`]). A NAT router's file also lists its mappings, as
//! conntrack has them. `_switches.txt` lists the bridges and their
//! ports when the topology has switches. Everything is read live inside each namespace, which
//! is why this runs in the test process before it exits (see the failure component's `artifacts.rs`).
//!
//! Nothing here fails the whole dump: what cannot be read is said in the file instead.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::process::Command;

use netlink_packet_route::neighbour::NeighbourState;

use crate::kernel::apply::{Built, SWITCHES};
use crate::kernel::netfilter;
use crate::kernel::netlink::{Link, Neighbour};
use crate::kernel::netns::Entered;
use crate::kernel::report;
use crate::kernel::sockets;
use crate::topology::{NatPlan, Plan};

/// Writes one file per node (and one for the switches) into `dir`; returns their paths.
pub(crate) fn save(plan: &Plan, built: &Built, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (index, (node, fd)) in plan.nodes.iter().zip(&built.nodes).enumerate() {
        let path = dir.join(format!("{}.txt", sanitize(&node.name)));
        let nat = plan.nats.iter().find(|nat| nat.node == index);
        fs::write(&path, describe_node(&node.name, fd.as_fd(), nat))?;
        written.push(path);
    }
    if let Some(switches) = &built.switches {
        let mut text = String::from("switches (a hidden namespace): bridges and their ports\n");
        report::describe_switches(&mut text, plan, switches.as_fd());
        // Node names start with a letter: this name is never a node's.
        let path = dir.join(format!("_{SWITCHES}.txt"));
        fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// The whole text of one node's file; a NAT's lists its mappings too.
fn describe_node(name: &str, ns: BorrowedFd<'_>, nat: Option<&NatPlan>) -> String {
    let mut text = format!("node `{name}`\n\nlinks, addresses and routes (main table):\n");
    report::describe_namespace(&mut text, ns, name);
    let links = match report::open(ns, name) {
        Ok(mut socket) => {
            let links = socket.links().unwrap_or_default();
            text.push_str("\nroutes of the other tables:\n");
            let mut other = 0;
            for routes in [socket.ipv4_routes(), socket.ipv6_routes()] {
                match routes {
                    Ok(routes) => {
                        for route in routes.iter().filter(|r| is_other_table(r.table)) {
                            let line = report::route_line(route, &links);
                            let _ = writeln!(text, "  {line} table {}", route.table);
                            other += 1;
                        }
                    }
                    Err(error) => {
                        let _ = writeln!(text, "  (cannot list the routes: {error})");
                    }
                }
            }
            if other == 0 {
                text.push_str("  (none)\n");
            }
            text.push_str("\nneighbours:\n");
            // As `ip neigh` does, leave out the entries that need no resolution (multicast).
            let neighbours = socket.neighbours().map(|mut all| {
                all.retain(|n| n.state != NeighbourState::Noarp);
                all
            });
            match neighbours {
                Ok(neighbours) if neighbours.is_empty() => text.push_str("  (none)\n"),
                Ok(neighbours) => {
                    for neighbour in &neighbours {
                        let _ = writeln!(text, "  {}", neighbour_line(neighbour, &links));
                    }
                }
                Err(error) => {
                    let _ = writeln!(text, "  (cannot list the neighbours: {error})");
                }
            }
            links
        }
        Err(error) => {
            let _ = writeln!(text, "\nneighbours:\n  ({error})");
            Vec::new()
        }
    };
    match Entered::new(ns) {
        Ok(entered) => {
            text.push_str("\npolicy rules (ip rule; ip -6 rule):\n");
            text.push_str(&program_output("ip", &["rule", "show"]));
            text.push_str(&program_output("ip", &["-6", "rule", "show"]));
            text.push_str("\nqueueing disciplines (tc qdisc show):\n");
            text.push_str(&program_output("tc", &["qdisc", "show"]));
            text.push_str("\nsysctls:\n");
            text.push_str(&sysctls(&links));
            text.push_str("\nnftables ruleset (nft list ruleset):\n");
            text.push_str(&program_output("nft", &["list", "ruleset"]));
            if let Some(nat) = nat {
                let _ = writeln!(
                    text,
                    "\nNAT ({}, outside {} {}): mappings now (conntrack):",
                    nat.describe(),
                    nat.outside,
                    nat.outside_ipv4
                );
                match netfilter::mappings(name) {
                    Ok(mappings) if mappings.is_empty() => text.push_str("  (none)\n"),
                    Ok(mappings) => {
                        for mapping in mappings {
                            let _ = writeln!(text, "  {mapping}");
                        }
                    }
                    Err(error) => {
                        let _ = writeln!(text, "  (cannot read conntrack: {error})");
                    }
                }
            }
            text.push_str("\nlistening sockets (tcp in LISTEN, udp bound and not connected):\n");
            match sockets::listening_here() {
                Ok(listening) if listening.is_empty() => text.push_str("  (none)\n"),
                Ok(listening) => {
                    for socket in listening {
                        let _ = writeln!(text, "  {socket}");
                    }
                }
                Err(error) => {
                    let _ = writeln!(text, "  (cannot read the sockets: {error})");
                }
            }
            drop(entered);
        }
        Err(error) => {
            let _ = writeln!(
                text,
                "\n(cannot enter the node for sysctls and nftables: {error})"
            );
        }
    }
    text.push_str("\nprocesses (and threads) in this node:\n");
    text.push_str(&report::process_lines(ns));
    text
}

/// A neighbour entry as `ip neigh` prints it.
fn neighbour_line(neighbour: &Neighbour, links: &[Link]) -> String {
    let mut line = format!(
        "{} dev {}",
        neighbour.addr,
        report::name_of(links, neighbour.index)
    );
    if let Some(lladdr) = &neighbour.lladdr {
        let hex: Vec<String> = lladdr.iter().map(|b| format!("{b:02x}")).collect();
        let _ = write!(line, " lladdr {}", hex.join(":"));
    }
    let state = match neighbour.state {
        NeighbourState::Other(n) => format!("STATE{n:#x}"),
        state => format!("{state:?}").to_uppercase(),
    };
    let _ = write!(line, " {state}");
    line
}

/// The sysctls that decide whether a node forwards and what it drops, as `name = value` lines.
/// `/proc/sys/net` shows the calling thread's namespace: the thread must be inside the node.
fn sysctls(links: &[Link]) -> String {
    let mut names = vec![
        "net.ipv4.ip_forward".to_string(),
        "net.ipv4.conf.all.forwarding".to_string(),
        "net.ipv4.conf.all.rp_filter".to_string(),
        "net.ipv6.conf.all.forwarding".to_string(),
    ];
    for link in links.iter().filter(|l| l.name != "lo") {
        names.push(format!("net.ipv4.conf.{}.forwarding", link.name));
        names.push(format!("net.ipv4.conf.{}.rp_filter", link.name));
    }
    let mut text = String::new();
    for name in names {
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        let value = match fs::read_to_string(&path) {
            Ok(value) => value.trim().to_string(),
            Err(error) => format!("(unreadable: {error})"),
        };
        let _ = writeln!(text, "  {name} = {value}");
    }
    text
}

/// Whether routes of routing table `table` are worth a section of their own: not the main table
/// (shown with the links), nor the kernel's `local` table, which every namespace has.
fn is_other_table(table: u32) -> bool {
    const LOCAL_TABLE: u32 = 255;
    table != report::MAIN_TABLE && table != LOCAL_TABLE
}

/// What `program` prints, run in the calling thread's namespace (children inherit it),
/// indented; or why it printed nothing.
fn program_output(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(output) if output.status.success() => {
            let printed = String::from_utf8_lossy(&output.stdout);
            if printed.trim().is_empty() {
                "  (empty)\n".to_string()
            } else {
                printed.lines().map(|l| format!("  {l}\n")).collect()
            }
        }
        Ok(output) => format!(
            "  ({program} failed: {}{})\n",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            format!("  ({program} is not installed)\n")
        }
        Err(error) => format!("  (cannot run {program}: {error})\n"),
    }
}

/// A test or binary name as a single, plain folder name: `nested::inner` becomes
/// `nested__inner`.
pub(crate) fn sanitize(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match plain.trim_start_matches('.') {
        "" => "_".into(),
        _ => plain,
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_route::link::State;

    use super::*;

    #[test]
    fn neighbours_read_like_ip_neigh() {
        let links = [Link {
            index: 2,
            name: "eth0".into(),
            admin_up: true,
            state: State::Up,
            mtu: 1500,
            kind: Some("veth".into()),
            master: None,
            port_state: None,
        }];
        let reachable = Neighbour {
            index: 2,
            addr: "10.0.1.2".parse().unwrap(),
            lladdr: Some(vec![0x02, 0, 0, 0, 0x01, 0xfe]),
            state: NeighbourState::Reachable,
        };
        assert_eq!(
            neighbour_line(&reachable, &links),
            "10.0.1.2 dev eth0 lladdr 02:00:00:00:01:fe REACHABLE"
        );
        let failed = Neighbour {
            index: 2,
            addr: "10.0.1.9".parse().unwrap(),
            lladdr: None,
            state: NeighbourState::Failed,
        };
        assert_eq!(neighbour_line(&failed, &links), "10.0.1.9 dev eth0 FAILED");
    }
}
