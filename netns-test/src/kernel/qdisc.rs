//! The queueing disciplines behind `rate=`, `delay=` and `loss=`: `tbf` and `netem` messages,
//! built by hand.
//!
//! rtnetlink has no typed `tbf` nor `netem` options, so their `TCA_OPTIONS` are written here
//! byte by byte, in the kernel's layout (`include/uapi/linux/pkt_sched.h`), and sent as an
//! opaque attribute. Each end of a link gets its own root qdisc, which shapes what that end
//! *sends*: with both ends shaped, each direction is.
//!
//! # `rate=`: a token bucket (`tbf`)
//!
//! - **Burst: the larger of 10 ms of traffic at the rate and 65 KiB.** A packet larger than the
//!   burst is dropped outright (unless it is a GSO super-packet, which `tbf` splits), so the
//!   burst must hold the largest packet the link can carry: 65 KiB covers every MTU a veth
//!   accepts (up to 65535, plus the 14-byte Ethernet header), including one raised by
//!   `Link::set_mtu` after the rate was set. 10 ms is what `tc` advises for fast rates
//!   (rate / HZ). The cost: at low rates the first 65 KiB pass at once (about half a second's
//!   worth at 1 Mbit/s), which a test of throughput over several seconds barely notices.
//! - **Queue: 100 ms of traffic at the rate on top of the burst** (`tc`'s `latency 100ms`),
//!   so that TCP sees a shallow queue and a limited rate rather than drops.
//!
//! # `delay=` and `loss=`: `netem`
//!
//! One `netem` qdisc per end carries the delay, the loss and, if the link also has a `rate`, the
//! rate (netem's own), since an end has one root qdisc. The delay goes as
//! `TCA_NETEM_LATENCY64` (nanoseconds) and also in the legacy field (in scheduler ticks) for
//! older kernels; the loss is a probability scaled to `u32::MAX`, as `tc` sends it. The queue
//! holds 1000 packets (`tc`'s default).
//!
//! Kernels without `sch_netem` (such as the one this crate is tested on) answer `ENOENT`
//! ("Specified qdisc kind is unknown"): the caller turns that into
//! [`Error::KernelLacks`](crate::Error::KernelLacks) naming the attribute and the node.

use netlink_packet_core::DefaultNla;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcHeader, TcMessage};

use crate::topology::{Delay, LinkSettings, Loss, Rate};

/// `TCA_OPTIONS`.
const TCA_OPTIONS: u16 = 2;
/// `TCA_TBF_PARMS`: `struct tc_tbf_qopt`.
const TCA_TBF_PARMS: u16 = 1;
/// `TCA_TBF_BURST`: the bucket size in bytes (`u32`).
const TCA_TBF_BURST: u16 = 6;
/// `TCA_NETEM_RATE`: `struct tc_netem_rate`.
const TCA_NETEM_RATE: u16 = 6;
/// `TCA_NETEM_LATENCY64`: the delay in nanoseconds (`s64`).
const TCA_NETEM_LATENCY64: u16 = 10;
/// `TC_LINKLAYER_ETHERNET`: the rate counts whole bytes, no ATM cells (and needs no rate table).
const TC_LINKLAYER_ETHERNET: u8 = 1;
/// Nanoseconds per scheduler tick (`PSCHED_SHIFT` is 6).
const NS_PER_TICK: u64 = 64;

/// The smallest bucket: room for the largest packet a veth can carry (65535 bytes and a 14-byte
/// Ethernet header).
const MIN_BURST: u64 = 65 * 1024;
/// The bucket holds this much time at the rate, if that is more than [`MIN_BURST`].
const BURST_NS: u64 = 10_000_000;
/// The queue holds this much time at the rate, on top of the bucket.
const QUEUE_NS: u64 = 100_000_000;
/// `netem`'s queue, in packets.
const NETEM_LIMIT: u32 = 1000;

/// What a link end's root qdisc should be, from its settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No qdisc of ours: the kernel's default.
    None,
    /// `tbf` at this many bits per second.
    Tbf { rate: u64 },
    /// `netem` with these settings.
    Netem(LinkSettings),
}

impl Shape {
    pub(crate) fn of(settings: &LinkSettings) -> Shape {
        match settings {
            LinkSettings {
                delay_us: None,
                loss_ppm: None,
                rate: None,
                ..
            } => Shape::None,
            LinkSettings {
                delay_us: None,
                loss_ppm: None,
                rate: Some(rate),
                ..
            } => Shape::Tbf { rate: *rate },
            _ => Shape::Netem(*settings),
        }
    }

    /// The module the kernel needs for it, as `KernelLacks` names it.
    pub(crate) fn feature(&self) -> Option<&'static str> {
        match self {
            Shape::None => None,
            Shape::Tbf { .. } => Some("sch_tbf"),
            Shape::Netem(_) => Some("sch_netem"),
        }
    }

    /// What the user wrote for it: `rate=1mbit`, `delay=50ms, loss=1%`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Shape::None => "no rate, delay or loss".to_string(),
            Shape::Tbf { rate } => format!("`rate={}`", Rate(*rate)),
            Shape::Netem(settings) => {
                let mut parts = Vec::new();
                if let Some(delay) = settings.delay_us {
                    parts.push(format!("delay={}", Delay(delay)));
                }
                if let Some(loss) = settings.loss_ppm {
                    parts.push(format!("loss={}", Loss(loss)));
                }
                if let Some(rate) = settings.rate {
                    parts.push(format!("rate={}", Rate(rate)));
                }
                format!("`{}`", parts.join(", "))
            }
        }
    }

    /// The request that makes it the root qdisc of link `index`, replacing whatever is there;
    /// `None` for [`Shape::None`] (see [`delete_root`]).
    pub(crate) fn message(&self, index: u32) -> Option<RouteNetlinkMessage> {
        let (kind, options) = match self {
            Shape::None => return None,
            Shape::Tbf { rate } => ("tbf", tbf_options(*rate)),
            Shape::Netem(settings) => ("netem", netem_options(settings)),
        };
        let mut message = root(index);
        message.attributes = vec![
            TcAttribute::Kind(kind.to_string()),
            TcAttribute::Other(DefaultNla::new(TCA_OPTIONS, options)),
        ];
        Some(RouteNetlinkMessage::NewQueueDiscipline(message))
    }
}

/// The request that deletes the root qdisc of link `index`, giving it back the default.
pub(crate) fn delete_root(index: u32) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelQueueDiscipline(root(index))
}

fn root(index: u32) -> TcMessage {
    let header = TcHeader {
        index: index as i32,
        parent: TcHandle::ROOT,
        ..TcHeader::default()
    };
    TcMessage::from_parts(header, Vec::new())
}

/// The bucket size for `rate` bits per second, in bytes (see the module docs).
pub(crate) fn burst(rate: u64) -> u64 {
    (rate / 8 * BURST_NS / 1_000_000_000).max(MIN_BURST)
}

/// Bytes sent at `rate` bits per second in `ns` nanoseconds.
fn bytes_in(rate: u64, ns: u64) -> u64 {
    (u128::from(rate) * u128::from(ns) / 8 / 1_000_000_000) as u64
}

/// Scheduler ticks to send `bytes` at `rate` bits per second.
fn ticks_for(rate: u64, bytes: u64) -> u32 {
    let ns = u128::from(bytes) * 8 * 1_000_000_000 / u128::from(rate);
    (ns / u128::from(NS_PER_TICK)).min(u128::from(u32::MAX)) as u32
}

/// `struct tc_ratespec` for `rate` bits per second: 12 bytes.
fn ratespec(out: &mut Vec<u8>, rate: u64) {
    out.push(0); // cell_log: no rate table
    out.push(TC_LINKLAYER_ETHERNET);
    out.extend_from_slice(&0u16.to_ne_bytes()); // overhead
    out.extend_from_slice(&0i16.to_ne_bytes()); // cell_align
    out.extend_from_slice(&0u16.to_ne_bytes()); // mpu
    out.extend_from_slice(&bytes_per_second(rate).to_ne_bytes());
}

/// The rate in bytes per second, as `u32` (rates are at most 32 Gbit/s, checked at parse time).
fn bytes_per_second(rate: u64) -> u32 {
    (rate / 8).min(u64::from(u32::MAX)) as u32
}

/// Appends an attribute (`struct nlattr` and value, padded to 4 bytes).
fn nla(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// `TCA_OPTIONS` of `tbf`: `TCA_TBF_PARMS` and `TCA_TBF_BURST`, nested.
fn tbf_options(rate: u64) -> Vec<u8> {
    let burst = burst(rate);
    let limit = burst + bytes_in(rate, QUEUE_NS);
    let mut parms = Vec::with_capacity(36);
    ratespec(&mut parms, rate);
    parms.extend_from_slice(&[0; 12]); // peakrate: none
    parms.extend_from_slice(&(limit.min(u64::from(u32::MAX)) as u32).to_ne_bytes());
    parms.extend_from_slice(&ticks_for(rate, burst).to_ne_bytes()); // buffer
    parms.extend_from_slice(&0u32.to_ne_bytes()); // mtu: only with a peak rate
    let mut options = Vec::new();
    nla(&mut options, TCA_TBF_PARMS, &parms);
    nla(&mut options, TCA_TBF_BURST, &(burst as u32).to_ne_bytes());
    options
}

/// `TCA_OPTIONS` of `netem`: `struct tc_netem_qopt`, then attributes (not nested in it).
fn netem_options(settings: &LinkSettings) -> Vec<u8> {
    let delay_ns = settings.delay_us.unwrap_or(0) * 1000;
    let loss = settings.loss_ppm.map_or(0, |ppm| {
        (u128::from(ppm) * u128::from(u32::MAX) / 1_000_000) as u32
    });
    let mut options = Vec::new();
    let legacy_latency = (delay_ns / NS_PER_TICK).min(u64::from(u32::MAX)) as u32;
    for field in [legacy_latency, NETEM_LIMIT, loss, 0, 0, 0] {
        // latency, limit, loss, gap, duplicate, jitter
        options.extend_from_slice(&field.to_ne_bytes());
    }
    if settings.delay_us.is_some() {
        nla(
            &mut options,
            TCA_NETEM_LATENCY64,
            &(delay_ns as i64).to_ne_bytes(),
        );
    }
    if let Some(rate) = settings.rate {
        let mut value = Vec::with_capacity(16);
        value.extend_from_slice(&bytes_per_second(rate).to_ne_bytes());
        value.extend_from_slice(&[0; 12]); // packet_overhead, cell_size, cell_overhead
        nla(&mut options, TCA_NETEM_RATE, &value);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes(bytes[at..at + 2].try_into().unwrap())
    }

    #[test]
    fn the_shape_follows_the_settings() {
        let mut settings = LinkSettings {
            mtu: Some(1280),
            ..LinkSettings::default()
        };
        assert_eq!(Shape::of(&settings), Shape::None);
        settings.rate = Some(1_000_000);
        assert_eq!(Shape::of(&settings), Shape::Tbf { rate: 1_000_000 });
        assert_eq!(Shape::of(&settings).describe(), "`rate=1mbit`");
        settings.delay_us = Some(50_000);
        assert_eq!(Shape::of(&settings), Shape::Netem(settings));
        assert_eq!(Shape::of(&settings).feature(), Some("sch_netem"));
        assert_eq!(Shape::of(&settings).describe(), "`delay=50ms, rate=1mbit`");
    }

    #[test]
    fn tbf_options_are_the_kernels_layout() {
        // 1 Mbit/s: 125000 bytes/s; 10 ms of it is 1250 bytes, so the bucket is 65 KiB.
        let options = tbf_options(1_000_000);
        assert_eq!(options.len(), 4 + 36 + 4 + 4);
        assert_eq!(u16_at(&options, 0), 40);
        assert_eq!(u16_at(&options, 2), TCA_TBF_PARMS);
        let parms = &options[4..40];
        assert_eq!(parms[0], 0);
        assert_eq!(parms[1], TC_LINKLAYER_ETHERNET);
        assert_eq!(u32_at(parms, 8), 125_000);
        assert_eq!(&parms[12..24], &[0; 12]);
        // limit: the bucket and 100 ms of traffic (12500 bytes).
        assert_eq!(u32_at(parms, 24), 66_560 + 12_500);
        // buffer: 66560 bytes take 532.48 ms, that is 8320000 ticks of 64 ns.
        assert_eq!(u32_at(parms, 28), 8_320_000);
        assert_eq!(u32_at(parms, 32), 0);
        assert_eq!(u16_at(&options, 40), 8);
        assert_eq!(u16_at(&options, 42), TCA_TBF_BURST);
        assert_eq!(u32_at(&options, 44), 66_560);
        // 10 Gbit/s: 10 ms is 12.5 MB, more than 65 KiB.
        assert_eq!(burst(10_000_000_000), 12_500_000);
    }

    #[test]
    fn netem_options_are_the_qopt_then_attributes() {
        let settings = LinkSettings {
            delay_us: Some(50_000),
            loss_ppm: Some(10_000),
            rate: Some(8_000_000),
            ..LinkSettings::default()
        };
        let options = netem_options(&settings);
        assert_eq!(options.len(), 24 + 12 + 20);
        assert_eq!(u32_at(&options, 0), 50_000_000 / 64);
        assert_eq!(u32_at(&options, 4), 1000);
        // 1% of u32::MAX.
        assert_eq!(u32_at(&options, 8), 42_949_672);
        assert_eq!(&options[12..24], &[0; 12]);
        assert_eq!(u16_at(&options, 24), 12);
        assert_eq!(u16_at(&options, 26), TCA_NETEM_LATENCY64);
        let latency = i64::from_ne_bytes(options[28..36].try_into().unwrap());
        assert_eq!(latency, 50_000_000);
        assert_eq!(u16_at(&options, 36), 20);
        assert_eq!(u16_at(&options, 38), TCA_NETEM_RATE);
        assert_eq!(u32_at(&options, 40), 1_000_000);
        // Loss alone: the qopt only.
        let loss = netem_options(&LinkSettings {
            loss_ppm: Some(1_000_000),
            ..LinkSettings::default()
        });
        assert_eq!(loss.len(), 24);
        assert_eq!(u32_at(&loss, 8), u32::MAX);
    }

    #[test]
    fn messages_replace_the_root_qdisc_of_the_link() {
        let Some(RouteNetlinkMessage::NewQueueDiscipline(message)) =
            Shape::Tbf { rate: 1_000_000 }.message(7)
        else {
            panic!("not a new qdisc");
        };
        assert_eq!(message.header.index, 7);
        assert_eq!(message.header.parent, TcHandle::ROOT);
        assert_eq!(message.header.handle, TcHandle::UNSPEC);
        assert_eq!(message.attributes[0], TcAttribute::Kind("tbf".to_string()));
        assert!(Shape::None.message(7).is_none());
        let RouteNetlinkMessage::DelQueueDiscipline(delete) = delete_root(7) else {
            panic!("not a qdisc deletion");
        };
        assert_eq!(delete.header.parent, TcHandle::ROOT);
    }
}
