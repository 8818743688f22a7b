//! The state of every node at the moment a test failed, one text file per node.
//!
//! `<node>.txt` holds what a network engineer would type into that node to see where the
//! packets went: its links, addresses and routes (as in the failure report), its neighbour
//! table (`ip neigh`), its forwarding and reverse-path sysctls, and the nftables ruleset
//! (`nft list ruleset`, when `nft` is installed). `_switches.txt` lists the bridges and their
//! ports when the topology has switches. Everything is read live inside each namespace, which
//! is why this runs in the test process before it exits (see [`crate::artifacts`]).
//!
//! Nothing here fails the whole dump: what cannot be read is said in the file instead.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::process::Command;

use netlink_packet_route::neighbour::NeighbourState;

use crate::apply::{Built, SWITCHES};
use crate::netlink::{Link, Neighbour};
use crate::netns::Entered;
use crate::report;
use crate::topology::Plan;

/// Writes one file per node (and one for the switches) into `dir`; returns their paths.
pub(crate) fn save(plan: &Plan, built: &Built, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (node, fd) in plan.nodes.iter().zip(&built.nodes) {
        let path = dir.join(format!("{}.txt", crate::artifacts::sanitize(&node.name)));
        fs::write(&path, describe_node(&node.name, fd.as_fd()))?;
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

/// The whole text of one node's file.
fn describe_node(name: &str, ns: BorrowedFd<'_>) -> String {
    let mut text = format!("node `{name}`\n\nlinks, addresses and routes (main table):\n");
    report::describe_namespace(&mut text, ns, name);
    let links = match report::open(ns, name) {
        Ok(mut socket) => {
            let links = socket.links().unwrap_or_default();
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
            text.push_str("\nsysctls:\n");
            text.push_str(&sysctls(&links));
            text.push_str("\nnftables ruleset (nft list ruleset):\n");
            text.push_str(&nft_ruleset());
            drop(entered);
        }
        Err(error) => {
            let _ = writeln!(
                text,
                "\n(cannot enter the node for sysctls and nftables: {error})"
            );
        }
    }
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

/// `nft list ruleset` run on the calling thread's namespace (children inherit it), indented.
fn nft_ruleset() -> String {
    match Command::new("nft").args(["list", "ruleset"]).output() {
        Ok(output) if output.status.success() => {
            let rules = String::from_utf8_lossy(&output.stdout);
            if rules.trim().is_empty() {
                "  (empty)\n".to_string()
            } else {
                rules.lines().map(|l| format!("  {l}\n")).collect()
            }
        }
        Ok(output) => format!(
            "  (nft failed: {}{})\n",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            "  (nft is not installed)\n".to_string()
        }
        Err(error) => format!("  (cannot run nft: {error})\n"),
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
