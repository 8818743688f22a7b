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

use crate::topology::{Directed, LinkSettings};

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
/// `TCA_NETEM_JITTER64`: the jitter in nanoseconds (`s64`).
const TCA_NETEM_JITTER64: u16 = 11;
/// `TCA_NETEM_REORDER`: `struct tc_netem_reorder` (probability, correlation).
const TCA_NETEM_REORDER: u16 = 3;
/// `TCA_NETEM_CORRUPT`: `struct tc_netem_corrupt` (probability, correlation).
const TCA_NETEM_CORRUPT: u16 = 4;
/// `TCA_NETEM_LOSS`: the loss model, nested.
const TCA_NETEM_LOSS: u16 = 5;
/// `NETEM_LOSS_GE`: `struct tc_netem_gemodel` (p, r, h, k1).
const NETEM_LOSS_GE: u16 = 2;
/// `NLA_F_NESTED`.
const NLA_F_NESTED: u16 = 1 << 15;
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
    /// `tbf` at this many bits per second: `rate.ab` on end `a`, `rate.ba` on end `b`.
    Tbf { rate: Directed<u64> },
    /// `netem` with these settings.
    Netem(LinkSettings),
}

impl Shape {
    pub(crate) fn of(settings: &LinkSettings) -> Shape {
        match (settings.impairs(), settings.rate) {
            (false, None) => Shape::None,
            (false, Some(rate)) => Shape::Tbf { rate },
            (true, _) => Shape::Netem(LinkSettings {
                mtu: None,
                ..*settings
            }),
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
            Shape::Tbf { rate } => {
                let settings = LinkSettings {
                    rate: Some(*rate),
                    ..LinkSettings::default()
                };
                format!("`{}`", settings.entries().join(", "))
            }
            Shape::Netem(settings) => {
                // The impairments, then the rate netem also carries.
                let mut parts = settings.entries();
                if let Some(rate) = parts.iter().position(|p| p.starts_with("rate=")) {
                    let rate = parts.remove(rate);
                    parts.push(rate);
                }
                format!("`{}`", parts.join(", "))
            }
        }
    }

    /// The request that makes it the root qdisc of link `index`, replacing whatever is there;
    /// `None` for [`Shape::None`] (see [`delete_root`]). `from_b` says the end is the link's
    /// `b` end, whose direction's values netem then takes.
    pub(crate) fn message(&self, index: u32, from_b: bool) -> Option<RouteNetlinkMessage> {
        let (kind, options) = match self {
            Shape::None => return None,
            Shape::Tbf { rate } => ("tbf", tbf_options(rate.from(from_b))),
            Shape::Netem(settings) => ("netem", netem_options(settings, from_b)),
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

/// A probability in millionths, scaled to `u32::MAX`, as `tc` sends it.
fn probability(ppm: u32) -> u32 {
    (u128::from(ppm) * u128::from(u32::MAX) / 1_000_000) as u32
}

/// `TCA_OPTIONS` of `netem` for the end that sends direction `from_b`: `struct tc_netem_qopt`,
/// then attributes (not nested in it).
fn netem_options(settings: &LinkSettings, from_b: bool) -> Vec<u8> {
    let us = |value: Option<Directed<u64>>| value.map(|v| v.from(from_b));
    let ppm = |value: Option<Directed<u32>>| value.map(|v| v.from(from_b)).unwrap_or(0);
    let delay_ns = us(settings.delay_us).unwrap_or(0) * 1000;
    let jitter_ns = us(settings.jitter_us).unwrap_or(0) * 1000;
    let burst = settings.burst.map_or(1, |b| b.from(from_b));
    let loss_ppm = ppm(settings.loss_ppm);
    let bursty = burst > 1 && loss_ppm > 0 && loss_ppm < 1_000_000;
    let loss = if bursty { 0 } else { probability(loss_ppm) };
    let reorder = ppm(settings.reorder_ppm);
    // netem reorders only with a gap: every `gap`-th packet may go at once; 1 lets any.
    let gap = u32::from(reorder > 0);
    let ticks = |ns: u64| (ns / NS_PER_TICK).min(u64::from(u32::MAX)) as u32;
    let duplicate = probability(ppm(settings.duplicate_ppm));
    let mut options = Vec::new();
    for field in [
        ticks(delay_ns),
        NETEM_LIMIT,
        loss,
        gap,
        duplicate,
        ticks(jitter_ns),
    ] {
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
    if settings.jitter_us.is_some() {
        nla(
            &mut options,
            TCA_NETEM_JITTER64,
            &(jitter_ns as i64).to_ne_bytes(),
        );
    }
    if reorder > 0 {
        let mut value = probability(reorder).to_ne_bytes().to_vec();
        value.extend_from_slice(&0u32.to_ne_bytes()); // correlation
        nla(&mut options, TCA_NETEM_REORDER, &value);
    }
    let corrupt = ppm(settings.corrupt_ppm);
    if corrupt > 0 {
        let mut value = probability(corrupt).to_ne_bytes().to_vec();
        value.extend_from_slice(&0u32.to_ne_bytes()); // correlation
        nla(&mut options, TCA_NETEM_CORRUPT, &value);
    }
    if bursty {
        // Gilbert-Elliott: p (good to bad), r (bad to good), h = 0 (the bad state loses
        // everything), k1 = 1 (the good state loses nothing); see the relay's `impair.rs`.
        let r = 1_000_000 / burst;
        let p = (u64::from(loss_ppm) * u64::from(r) / (1_000_000 - u64::from(loss_ppm)))
            .min(1_000_000) as u32;
        let mut model = Vec::with_capacity(16);
        for field in [probability(p), probability(r), 0, u32::MAX] {
            model.extend_from_slice(&field.to_ne_bytes());
        }
        let mut nested = Vec::new();
        nla(&mut nested, NETEM_LOSS_GE, &model);
        nla(&mut options, TCA_NETEM_LOSS | NLA_F_NESTED, &nested);
    }
    if let Some(rate) = settings.rate {
        let mut value = Vec::with_capacity(16);
        value.extend_from_slice(&bytes_per_second(rate.from(from_b)).to_ne_bytes());
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
        settings.rate = Some(Directed::both(1_000_000));
        assert_eq!(
            Shape::of(&settings),
            Shape::Tbf {
                rate: Directed::both(1_000_000)
            }
        );
        assert_eq!(Shape::of(&settings).describe(), "`rate=1mbit`");
        settings.delay_us = Some(Directed::both(50_000));
        assert_eq!(
            Shape::of(&settings),
            Shape::Netem(LinkSettings {
                mtu: None,
                ..settings
            })
        );
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
            delay_us: Some(Directed::both(50_000)),
            loss_ppm: Some(Directed::both(10_000)),
            rate: Some(Directed::both(8_000_000)),
            ..LinkSettings::default()
        };
        let options = netem_options(&settings, false);
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
        let loss = netem_options(
            &LinkSettings {
                loss_ppm: Some(Directed::both(1_000_000)),
                ..LinkSettings::default()
            },
            true,
        );
        assert_eq!(loss.len(), 24);
        assert_eq!(u32_at(&loss, 8), u32::MAX);
    }

    #[test]
    fn netem_takes_the_direction_of_its_end_and_every_impairment() {
        let settings = LinkSettings {
            delay_us: Some(Directed {
                ab: 20_000,
                ba: 5_000,
            }),
            jitter_us: Some(Directed::both(1_000)),
            loss_ppm: Some(Directed::both(100_000)),
            burst: Some(Directed::both(4)),
            duplicate_ppm: Some(Directed::both(10_000)),
            reorder_ppm: Some(Directed::both(250_000)),
            ..LinkSettings::default()
        };
        let a = netem_options(&settings, false);
        let b = netem_options(&settings, true);
        assert_eq!(u32_at(&a, 0), 20_000_000 / 64);
        assert_eq!(u32_at(&b, 0), 5_000_000 / 64);
        // Bursty: the random loss is 0, the model carries it; gap 1 for the reorder.
        assert_eq!(u32_at(&a, 8), 0);
        assert_eq!(u32_at(&a, 12), 1);
        assert_eq!(u32_at(&a, 16), probability(10_000));
        assert_eq!(u32_at(&a, 20), 1_000_000 / 64);
        // Then LATENCY64, JITTER64, REORDER, LOSS (nested GE), in that order.
        let mut at = 24;
        let mut kinds = Vec::new();
        while at < a.len() {
            kinds.push(u16_at(&a, at + 2));
            at += (u16_at(&a, at) as usize).next_multiple_of(4);
        }
        assert_eq!(
            kinds,
            [
                TCA_NETEM_LATENCY64,
                TCA_NETEM_JITTER64,
                TCA_NETEM_REORDER,
                TCA_NETEM_LOSS | NLA_F_NESTED
            ]
        );
        // The GE model: r = 1/4, p = 0.1 * 0.25 / 0.9; h = 0, k1 = 1.
        let model = &a[a.len() - 16..];
        assert_eq!(u32_at(model, 0), probability(27_777));
        assert_eq!(u32_at(model, 4), probability(250_000));
        assert_eq!(u32_at(model, 8), 0);
        assert_eq!(u32_at(model, 12), u32::MAX);
        assert_eq!(
            Shape::of(&settings).describe(),
            "`delay=20ms/5ms, jitter=1ms, loss=10%, burst=4, duplicate=1%, reorder=25%`"
        );
    }

    #[test]
    fn messages_replace_the_root_qdisc_of_the_link() {
        let Some(RouteNetlinkMessage::NewQueueDiscipline(message)) = (Shape::Tbf {
            rate: Directed::both(1_000_000),
        })
        .message(7, false) else {
            panic!("not a new qdisc");
        };
        assert_eq!(message.header.index, 7);
        assert_eq!(message.header.parent, TcHandle::ROOT);
        assert_eq!(message.header.handle, TcHandle::UNSPEC);
        assert_eq!(message.attributes[0], TcAttribute::Kind("tbf".to_string()));
        assert!(Shape::None.message(7, false).is_none());
        let RouteNetlinkMessage::DelQueueDiscipline(delete) = delete_root(7) else {
            panic!("not a qdisc deletion");
        };
        assert_eq!(delete.header.parent, TcHandle::ROOT);
    }

    #[test]
    fn each_end_gets_the_rate_of_what_it_sends() {
        let shape = Shape::Tbf {
            rate: Directed {
                ab: 10_000_000,
                ba: 1_000_000,
            },
        };
        assert_eq!(shape.describe(), "`rate=10mbit/1mbit`");
        let options = |from_b| {
            let Some(RouteNetlinkMessage::NewQueueDiscipline(message)) = shape.message(7, from_b)
            else {
                panic!("not a new qdisc");
            };
            message.attributes[1].clone()
        };
        let tbf = |rate| TcAttribute::Other(DefaultNla::new(TCA_OPTIONS, tbf_options(rate)));
        assert_eq!(options(false), tbf(10_000_000));
        assert_eq!(options(true), tbf(1_000_000));
        let netem = LinkSettings {
            delay_us: Some(Directed::both(1_000)),
            rate: Some(Directed {
                ab: 8_000_000,
                ba: 800_000,
            }),
            ..LinkSettings::default()
        };
        assert_ne!(netem_options(&netem, false), netem_options(&netem, true));
    }
}
