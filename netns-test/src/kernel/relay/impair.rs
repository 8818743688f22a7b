//! What the relay does to one frame going one way: the settings of a direction, read from a
//! link's [`LinkSettings`], and the random draws that decide each frame's fate.
//!
//! Pure: no sockets, no clock. The relay loop asks [`Direction::fate`] what to do with a frame
//! and does it.

use crate::topology::{Directed, LinkSettings};

/// One in a million: probabilities are in millionths, as the topology writes them.
const MILLION: u64 = 1_000_000;

/// The impairment of one direction of a relayed link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Direction {
    /// Added to every frame, in nanoseconds.
    pub(crate) delay_ns: u64,
    /// The delay varies uniformly within this much either side, in nanoseconds.
    pub(crate) jitter_ns: u64,
    /// The share of frames dropped, in millionths.
    pub(crate) loss_ppm: u32,
    /// With a loss: the mean length of a burst of losses, in frames (1: independent losses).
    pub(crate) burst: u32,
    /// The share of frames sent twice, in millionths.
    pub(crate) duplicate_ppm: u32,
    /// The share of frames sent at once, ahead of the delayed ones, in millionths.
    pub(crate) reorder_ppm: u32,
    /// The share of frames with one bit flipped, in millionths.
    pub(crate) corrupt_ppm: u32,
}

/// The state of a direction's loss: whether the two-state model is in its bad (losing) state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LossState {
    bad: bool,
}

impl Direction {
    /// The directions `[a to b, b to a]` of a link with `settings`.
    pub(crate) fn of(settings: &LinkSettings) -> [Direction; 2] {
        [false, true].map(|from_b| {
            let pick = |value: Option<Directed<u32>>| value.map_or(0, |v| v.from(from_b));
            let pick_us = |value: Option<Directed<u64>>| value.map_or(0, |v| v.from(from_b));
            Direction {
                delay_ns: pick_us(settings.delay_us) * 1000,
                jitter_ns: pick_us(settings.jitter_us) * 1000,
                loss_ppm: pick(settings.loss_ppm),
                burst: pick(settings.burst).max(1),
                duplicate_ppm: pick(settings.duplicate_ppm),
                reorder_ppm: pick(settings.reorder_ppm),
                corrupt_ppm: pick(settings.corrupt_ppm),
            }
        })
    }

    /// What happens to the next frame: dropped, or sent (once or twice) after a delay.
    ///
    /// - Loss with `burst` 1: each frame is lost with the probability set. With a longer
    ///   burst, a Gilbert-Elliott model of two states: the good state loses nothing, the bad
    ///   state loses everything; it leaves the bad state with probability `r = 1 / burst` per
    ///   frame (so bursts are `burst` frames long on average) and enters it with `p = loss * r /
    ///   (1 - loss)`, which makes the long-run share lost `p / (p + r) = loss`.
    /// - Delay: `delay`, plus a uniform draw in `-jitter..=jitter`, never below zero (netem's
    ///   default distribution too); with jitter, frames can overtake each other.
    /// - Reorder: that share of the frames skips the delay.
    pub(crate) fn fate(&self, state: &mut LossState, random: &mut Random) -> Fate {
        if self.loses(state, random) {
            return Fate::Drop;
        }
        let copies = if self.duplicate_ppm > 0 && chance(random, self.duplicate_ppm) {
            2
        } else {
            1
        };
        let after_ns = if self.reorder_ppm > 0 && chance(random, self.reorder_ppm) {
            0
        } else if self.jitter_ns > 0 {
            let spread = random.below(2 * self.jitter_ns + 1);
            (self.delay_ns + spread).saturating_sub(self.jitter_ns)
        } else {
            self.delay_ns
        };
        Fate::Send { after_ns, copies }
    }

    /// Whether to corrupt the next frame.
    pub(crate) fn corrupts(&self, random: &mut Random) -> bool {
        self.corrupt_ppm > 0 && chance(random, self.corrupt_ppm)
    }

    fn loses(&self, state: &mut LossState, random: &mut Random) -> bool {
        if self.loss_ppm == 0 {
            return false;
        }
        if self.burst <= 1 || u64::from(self.loss_ppm) >= MILLION {
            return chance(random, self.loss_ppm);
        }
        let loss = f64::from(self.loss_ppm) / MILLION as f64;
        let r = 1.0 / f64::from(self.burst);
        let p = (loss * r / (1.0 - loss)).min(1.0);
        let draw = random.next_u64() as f64 / u64::MAX as f64;
        state.bad = if state.bad { draw >= r } else { draw < p };
        state.bad
    }
}

/// The `virtio_net_hdr` in front of every frame: flags, GSO type, then little-endian 16-bit
/// header length, segment size, checksum start and offset.
const VNET_HDR_LEN: usize = 10;
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum from `csum_start` on is still to be computed.
const NEEDS_CSUM: u8 = 1;
/// The Ethernet header, which corruption spares (netem spares nothing, but a flipped address
/// would only misdeliver the frame, not test what a corrupt packet does).
const ETHERNET_LEN: usize = 14;

/// Flips one random bit of `frame` (its `virtio_net_hdr` first) after the Ethernet header, as
/// netem does, so that the receiver's checksums catch it. A frame whose checksum is still to be
/// done gets it done first (else the kernel would compute it over the flipped bit, and the
/// corruption would go unseen). Returns `false` for a segmentation-offload burst, which cannot
/// be corrupted without splitting it: the caller drops it (TCP then sees a loss).
pub(crate) fn corrupt(frame: &mut [u8], random: &mut Random) -> bool {
    if frame.len() <= VNET_HDR_LEN + ETHERNET_LEN {
        return true;
    }
    let (header, data) = frame.split_at_mut(VNET_HDR_LEN);
    if header[1] != 0 {
        return false;
    }
    if header[0] & NEEDS_CSUM != 0 && !complete_checksum(header, data) {
        return false;
    }
    let bits = (data.len() - ETHERNET_LEN) as u64 * 8;
    let bit = random.below(bits) as usize;
    data[ETHERNET_LEN + bit / 8] ^= 1 << (bit % 8);
    true
}

/// Computes the checksum the kernel left to do: the one's-complement sum from `csum_start` on
/// (the field at `csum_start + csum_offset` holds the pseudo-header's sum), stored there, and
/// the flag cleared. `false` if the offsets lie outside the frame.
fn complete_checksum(header: &mut [u8], data: &mut [u8]) -> bool {
    let start = usize::from(u16::from_le_bytes([header[6], header[7]]));
    let at = start + usize::from(u16::from_le_bytes([header[8], header[9]]));
    if at + 2 > data.len() {
        return false;
    }
    let sum = !fold(ones_sum(&data[start..]));
    data[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    header[0] &= !NEEDS_CSUM;
    true
}

/// The one's-complement sum of `bytes` as big-endian 16-bit words, unfolded.
fn ones_sum(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(2);
    let mut sum: u64 = (&mut chunks)
        .map(|w| u64::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// True with probability `ppm` millionths.
fn chance(random: &mut Random, ppm: u32) -> bool {
    random.below(MILLION) < u64::from(ppm)
}

/// What the relay does with one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    Drop,
    /// Sent `copies` times (1 or 2), this long after it arrived.
    Send {
        after_ns: u64,
        copies: u8,
    },
}

/// A small fast generator (xoshiro256**), seeded per relay; the draws need no cryptographic
/// strength, only independence and speed.
#[derive(Clone, Debug)]
pub(crate) struct Random {
    state: [u64; 4],
}

impl Random {
    /// A generator seeded from `seed` (through splitmix64, as the algorithm's authors advise).
    pub(crate) fn new(seed: u64) -> Random {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Random {
            state: [next(), next(), next(), next()],
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A number in `0..n` (`n > 0`), without the bias of a plain modulo worth noticing
    /// (Lemire's multiply-shift).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fates(direction: Direction, n: usize) -> Vec<Fate> {
        let mut random = Random::new(1);
        let mut state = LossState::default();
        (0..n)
            .map(|_| direction.fate(&mut state, &mut random))
            .collect()
    }

    #[test]
    fn settings_become_each_direction() {
        let settings = LinkSettings {
            delay_us: Some(Directed {
                ab: 20_000,
                ba: 5_000,
            }),
            loss_ppm: Some(Directed::both(100_000)),
            ..LinkSettings::default()
        };
        let [ab, ba] = Direction::of(&settings);
        assert_eq!((ab.delay_ns, ba.delay_ns), (20_000_000, 5_000_000));
        assert_eq!((ab.loss_ppm, ba.loss_ppm), (100_000, 100_000));
        assert_eq!(ab.burst, 1);
        let plain = Direction::of(&LinkSettings::default())[0];
        assert_eq!(plain.delay_ns, 0);
        assert_eq!(
            fates(plain, 1),
            [Fate::Send {
                after_ns: 0,
                copies: 1
            }]
        );
    }

    #[test]
    fn loss_drops_about_the_share_asked_for() {
        let direction = Direction {
            loss_ppm: 100_000,
            burst: 1,
            ..Direction::default()
        };
        let dropped = fates(direction, 100_000)
            .iter()
            .filter(|f| **f == Fate::Drop)
            .count();
        // 10% of 100000, within about five standard deviations (95).
        assert!((9_500..=10_500).contains(&dropped), "{dropped}");
    }

    #[test]
    fn bursty_loss_keeps_the_share_and_loses_in_runs() {
        let direction = Direction {
            loss_ppm: 100_000,
            burst: 5,
            ..Direction::default()
        };
        let lost: Vec<bool> = fates(direction, 200_000)
            .iter()
            .map(|f| *f == Fate::Drop)
            .collect();
        let total = lost.iter().filter(|l| **l).count();
        assert!((18_000..=22_000).contains(&total), "{total}");
        let bursts = lost.windows(2).filter(|w| w[1] && !w[0]).count();
        let mean = total as f64 / bursts as f64;
        assert!((4.0..6.0).contains(&mean), "mean burst {mean}");
    }

    #[test]
    fn jitter_spreads_the_delay_evenly_and_reorder_skips_it() {
        let direction = Direction {
            delay_ns: 10_000,
            jitter_ns: 2_000,
            reorder_ppm: 100_000,
            duplicate_ppm: 200_000,
            ..Direction::default()
        };
        let fates = fates(direction, 50_000);
        let (mut at_once, mut twice, mut low, mut high) = (0, 0, u64::MAX, 0);
        for fate in &fates {
            let Fate::Send { after_ns, copies } = *fate else {
                panic!("nothing is lost");
            };
            if after_ns == 0 {
                at_once += 1;
            } else {
                low = low.min(after_ns);
                high = high.max(after_ns);
            }
            twice += usize::from(copies == 2);
        }
        assert_eq!((low, high), (8_000, 12_000));
        assert!((4_500..=5_500).contains(&at_once), "{at_once}");
        assert!((9_300..=10_700).contains(&twice), "{twice}");
    }

    #[test]
    fn corruption_flips_one_bit_after_the_ethernet_header() {
        let mut random = Random::new(3);
        let original: Vec<u8> = (0..100u8).collect();
        let mut frame = original.clone();
        frame[..VNET_HDR_LEN].fill(0);
        let before = frame.clone();
        assert!(corrupt(&mut frame, &mut random));
        let flipped: u32 = (before.iter().zip(&frame))
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(flipped, 1);
        assert_eq!(
            frame[..VNET_HDR_LEN + ETHERNET_LEN],
            before[..VNET_HDR_LEN + ETHERNET_LEN]
        );
        // A GSO burst is refused.
        frame[1] = 1;
        assert!(!corrupt(&mut frame, &mut random));
    }

    #[test]
    fn a_checksum_still_to_do_is_done_before_the_flip() {
        // Checksum from data byte 20 on, stored at 20 + 6, seeded with a pseudo-header sum.
        let mut frame = [0u8; VNET_HDR_LEN + 41];
        frame[0] = NEEDS_CSUM;
        frame[6..8].copy_from_slice(&20u16.to_le_bytes());
        frame[8..10].copy_from_slice(&6u16.to_le_bytes());
        for (i, byte) in frame[VNET_HDR_LEN + 20..].iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(37);
        }
        frame[VNET_HDR_LEN + 26..VNET_HDR_LEN + 28].copy_from_slice(&0x1234u16.to_be_bytes());
        let (header, data) = frame.split_at_mut(VNET_HDR_LEN);
        let pseudo = 0x1234;
        let mut check = data.to_vec();
        check[26..28].fill(0);
        assert!(complete_checksum(header, data));
        assert_eq!(header[0] & NEEDS_CSUM, 0);
        // The stored checksum plus the data (and the pseudo-header) sums to all ones.
        let stored = u16::from_be_bytes([data[26], data[27]]);
        assert_eq!(
            fold(ones_sum(&check[20..]) + pseudo + u64::from(stored)),
            0xffff
        );
    }

    #[test]
    fn below_stays_below() {
        let mut random = Random::new(7);
        assert!((0..10_000).all(|_| random.below(3) < 3));
        assert_eq!(random.below(1), 0);
    }
}
