//! The relay: `delay=`, `loss=` and the other impairments on a kernel without `sch_netem`, in
//! userspace, rootless.
//!
//! # What it is
//!
//! A link `a -- b` with an impairment becomes two veth pairs through one hidden namespace per
//! test (like the switches', never a node: it is in no picture, no hosts file, not in
//! `Net::nodes`): `a`'s `eth0` is paired with the relay's end `r<k>a`, `b`'s with `r<k>b`
//! (`k` the link's number in the plan). One thread per test, inside that namespace, holds a
//! packet socket on each relay end and moves every frame to the other end of its link, after
//! the link's impairment (`impair.rs`) has decided whether to drop it and how long to hold it.
//! The node ends keep the names, indexes, addresses and MTU of a plain link, so everything
//! else (run-time faults, captures, reports) sees the same interfaces.
//!
//! # What it does to a frame
//!
//! Per direction (`a` to `b`, `b` to `a`), in this order (`impair.rs`): loss (independent, or
//! in bursts by a two-state Gilbert-Elliott model with `burst=`), corruption (one random bit
//! after the Ethernet header, after completing a checksum the kernel left to do; an offloaded
//! TCP burst cannot be corrupted without splitting it, so one picked for corruption is dropped
//! instead, which TCP sees as a loss), duplication (sent twice), then the delay: `delay=`
//! plus a uniform draw within `jitter=` either side (never below zero), or none for the
//! `reorder=` share, which overtakes the frames before it.
//!
//! # Choices
//!
//! - **Layer 2, whole frames.** Sockets are `AF_PACKET`/`SOCK_RAW` for every protocol, so ARP,
//!   neighbour discovery, multicast and any EtherType pass unchanged. The relay's namespace has
//!   IPv6 off (`disable_ipv6`) and no addresses, so its ends send nothing of their own (no
//!   router solicitations, no MLD reports). Each socket ignores what it sends itself
//!   (`PACKET_IGNORE_OUTGOING`).
//! - **Offloads kept: `PACKET_VNET_HDR`.** veth hands a TCP burst to a packet socket as one
//!   frame of up to 64 KiB, with its checksum still to be done. With a `virtio_net_hdr` in
//!   front of every frame, received and sent, the relay passes that state on, and the receiving
//!   node gets the burst as the kernel would have given it over a plain veth: bulk TCP runs at
//!   veth speed, and no checksum is computed in userspace.
//! - **Batched receive: `recvmmsg`**, 32 frames per call, into buffers reused for every batch;
//!   a frame that is sent at once is never copied, one that waits is copied once. (A
//!   `TPACKET_V3` ring, as the capture uses, hands frames over a block at a time, after a
//!   timeout of at least a millisecond when traffic is light: too coarse for a delay.) The
//!   cost is the socket receive buffer, which a user namespace cannot raise above
//!   `net.core.rmem_max`: if the thread falls behind by more than that (a few offloaded frames,
//!   or hundreds of small ones), the kernel drops frames. The relay counts what it lost
//!   (`Counts::lost`, in the failure report); the benchmark prints it.
//! - **Time: a heap of due frames and a `timerfd`.** A delayed frame goes into a binary heap
//!   ordered by due time, then arrival; the thread sleeps in `epoll` until the earliest is due
//!   (a `timerfd` on the monotonic clock, to the nanosecond, not `epoll`'s milliseconds). With
//!   one delay per direction, frames leave in the order they came.
//! - **One thread per test, not per link**, woken by `epoll` on every socket, the timer, and an
//!   `eventfd` that stops it (when the network is dropped) or says the settings changed
//!   (`Link::set_delay` and friends, at run time).
//! - **Built beside the rest.** The relay's thread starts first, makes the relay's
//!   namespace (and asks about netem there) while the test's thread makes the nodes', and stays
//!   in it; if the thread has not started on it by the time the nodes' namespaces are made (on
//!   a busy machine a new thread can wait a millisecond for a core), the test's thread makes it
//!   instead and the relay's thread enters it later. The relay's ends are the main ends of
//!   their pairs, created up in the same batch as every other link, so nothing more is sent for
//!   them (but for an end facing a bridge port, which must be the main end to be enslaved); the
//!   thread binds its sockets as soon as its ends exist, while the nodes are configured, and
//!   their readiness is polled with the nodes'. A relayed link adds 0.7 to 1 ms to building a
//!   network here (`cargo xtask bench`), nearly all of it the kernel's work: the two more veth
//!   ends, made and set up on the building thread (about 0.4 ms), and the relay's namespace
//!   (about 0.6 ms on the relay's thread, hidden only while the other core is free; making
//!   it also slows the nodes' by about 0.2 ms, the two sharing the kernel's locks).
//! - **Closed after the test.** Releasing a packet socket waits for an RCU grace period
//!   (10 to 16 ms here); the relay gives its sockets' last references to an `io_uring` that is
//!   never used for I/O, registered when the sockets are opened, and closes it, so the kernel
//!   releases them in a worker of its own and the test process exits without waiting
//!   (`sys::Releaser`). Without `io_uring` (`kernel.io_uring_disabled`), the sockets are
//!   closed on one thread each, which wait for the same grace period.
//! - **Which links.** A link is relayed when its topology gives it any impairment (`delay=`,
//!   `jitter=`, `loss=`, `duplicate=`, `reorder=`, `corrupt=`)
//!   (`delay=0ms` reserves the relay for a link that gets its delay only at run time). `rate=`
//!   stays the kernel's `tbf` on the node ends, relayed or not.
//! - **Which path** ([`Choice`], from `NETNS_TEST_IMPAIR`): `auto` (the default) asks the
//!   kernel for a `netem` qdisc on the hidden namespace's `lo` and uses netem if it has it, the
//!   relay if not; `netem` and `relay` force one. Asking for netem where the kernel lacks it
//!   gives the kernel's "this kernel lacks sch_netem" error.
//!
//! # The parts
//!
//! - `impair.rs`: the settings of one direction, and each frame's fate (pure, unit-tested);
//! - `engine.rs`: the thread, its heap and its counts;
//! - `sys.rs`: packet sockets, `recvmmsg`, `epoll`, `timerfd`, `eventfd` (all the `unsafe`).
//!
//! It never decides what a link is: the plan says which settings each link has, and the
//! caller (`apply`) which links are relayed.

mod engine;
mod impair;
mod sys;

use std::fmt;

pub(crate) use engine::{Relay, Starting};
pub(crate) use impair::Direction;

use crate::kernel::netlink::{self, Socket};
use crate::kernel::qdisc::Shape;
use crate::topology::{Directed, LinkSettings};
use crate::{Error, Result};

/// Which path carries `delay=` and `loss=`: the `NETNS_TEST_IMPAIR` knob.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Choice {
    /// netem where the kernel has it, else the relay.
    #[default]
    Auto,
    /// The kernel's netem only; a kernel without it fails the test before its body.
    Netem,
    /// The relay, even where the kernel has netem.
    Relay,
}

impl Choice {
    /// Reads `auto`, `netem` or `relay`; nothing is `auto`.
    pub(crate) fn parse(value: Option<&str>) -> Result<Choice, String> {
        match value.map(str::trim) {
            None | Some("") | Some("auto") => Ok(Choice::Auto),
            Some("netem") => Ok(Choice::Netem),
            Some("relay") => Ok(Choice::Relay),
            Some(other) => Err(format!(
                "`{other}` is not a way to impair links: write `auto`, `netem` or `relay`"
            )),
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Choice::Auto => "auto",
            Choice::Netem => "netem",
            Choice::Relay => "relay",
        })
    }
}

/// Whether a link with `settings` needs netem or the relay.
pub(crate) fn impairs(settings: &LinkSettings) -> bool {
    settings.impairs()
}

/// What the kernel still does on a relayed link: everything but the impairment (`rate=` and
/// `mtu=`).
pub(crate) fn kernel_part(settings: &LinkSettings) -> LinkSettings {
    LinkSettings {
        mtu: settings.mtu,
        rate: settings.rate,
        ..LinkSettings::default()
    }
}

/// Whether the kernel has netem: asks for a netem qdisc on `lo` of the namespace `socket` is
/// in (the relay's own, still empty, so nothing else sees it).
pub(crate) fn netem_present(socket: &mut Socket) -> Result<bool> {
    let probe = Shape::Netem(LinkSettings {
        delay_us: Some(Directed::both(0)),
        ..LinkSettings::default()
    });
    let Some(message) = probe.message(netlink::LOOPBACK_INDEX, false) else {
        return Ok(false);
    };
    socket.qdisc(
        message,
        probe.feature(),
        "a netem qdisc on `lo` of the relay's namespace (asking whether the kernel has netem)"
            .to_string(),
    );
    match socket.flush() {
        Ok(()) => Ok(true),
        Err(Error::KernelLacks { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// The relay's end of link `k` facing side `a` (`r<k>a`) or `b` (`r<k>b`).
pub(crate) fn end_name(k: usize, side_b: bool) -> String {
    format!("r{k}{}", if side_b { 'b' } else { 'a' })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_is_read_from_its_three_words() {
        assert_eq!(Choice::parse(None), Ok(Choice::Auto));
        assert_eq!(Choice::parse(Some("")), Ok(Choice::Auto));
        assert_eq!(Choice::parse(Some("netem")), Ok(Choice::Netem));
        assert_eq!(Choice::parse(Some("relay")), Ok(Choice::Relay));
        assert_eq!(
            Choice::parse(Some("tc")).unwrap_err(),
            "`tc` is not a way to impair links: write `auto`, `netem` or `relay`"
        );
    }

    #[test]
    fn a_relayed_link_keeps_its_rate_in_the_kernel() {
        let settings = LinkSettings {
            mtu: Some(1400),
            rate: Some(Directed {
                ab: 1_000_000,
                ba: 2_000_000,
            }),
            delay_us: Some(Directed::both(1000)),
            ..LinkSettings::default()
        };
        assert!(impairs(&settings));
        assert!(!impairs(&kernel_part(&settings)));
        assert_eq!(kernel_part(&settings).rate, settings.rate);
        assert_eq!(end_name(3, true), "r3b");
    }
}
