//! What the relay does to one frame going one way: the settings of a direction, read from a
//! link's [`LinkSettings`], and the random draws that decide each frame's fate.
//!
//! Pure: no sockets, no clock. The relay loop asks [`Direction::fate`] what to do with a frame
//! and does it.

use crate::topology::LinkSettings;

/// One in a million: probabilities are in millionths, as the topology writes them.
const MILLION: u64 = 1_000_000;

/// The impairment of one direction of a relayed link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Direction {
    /// Added to every frame, in nanoseconds.
    pub(crate) delay_ns: u64,
    /// The share of frames dropped, in millionths.
    pub(crate) loss_ppm: u32,
}

impl Direction {
    /// The directions `[a to b, b to a]` of a link with `settings`. Both directions get the same
    /// values: a setting applies to what each end sends, as netem on each end would.
    pub(crate) fn of(settings: &LinkSettings) -> [Direction; 2] {
        let one = Direction {
            delay_ns: settings.delay_us.unwrap_or(0) * 1000,
            loss_ppm: settings.loss_ppm.unwrap_or(0),
        };
        [one, one]
    }

    /// What happens to the next frame: dropped, or sent after a delay.
    pub(crate) fn fate(&self, random: &mut Random) -> Fate {
        if self.loss_ppm > 0 && random.below(MILLION) < u64::from(self.loss_ppm) {
            return Fate::Drop;
        }
        Fate::Send {
            after_ns: self.delay_ns,
        }
    }
}

/// What the relay does with one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    Drop,
    /// Sent this long after it arrived.
    Send {
        after_ns: u64,
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

    #[test]
    fn settings_become_both_directions() {
        let settings = LinkSettings {
            delay_us: Some(20_000),
            loss_ppm: Some(100_000),
            ..LinkSettings::default()
        };
        let [ab, ba] = Direction::of(&settings);
        assert_eq!(ab.delay_ns, 20_000_000);
        assert_eq!(ab.loss_ppm, 100_000);
        assert_eq!(ab, ba);
        assert_eq!(
            Direction::of(&LinkSettings::default())[0],
            Direction::default()
        );
    }

    #[test]
    fn loss_drops_about_the_share_asked_for() {
        let direction = Direction {
            delay_ns: 5,
            loss_ppm: 100_000,
        };
        let mut random = Random::new(1);
        let dropped = (0..100_000)
            .filter(|_| direction.fate(&mut random) == Fate::Drop)
            .count();
        // 10% of 100000, within about five standard deviations (95).
        assert!((9_500..=10_500).contains(&dropped), "{dropped}");
        assert_eq!(
            Direction {
                delay_ns: 5,
                loss_ppm: 0
            }
            .fate(&mut random),
            Fate::Send { after_ns: 5 }
        );
    }

    #[test]
    fn below_stays_below() {
        let mut random = Random::new(7);
        assert!((0..10_000).all(|_| random.below(3) < 3));
        assert_eq!(random.below(1), 0);
    }
}
