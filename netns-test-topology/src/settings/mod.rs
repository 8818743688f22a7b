//! Link settings: `mtu=`, `rate=`, and the impairments `delay=`, `jitter=`, `loss=`, `burst=`,
//! `duplicate=`, `reorder=`, `corrupt=`, their units, and their canonical text.
//!
//! Each value is read here, at parse time (so a bad one is a compile error on the topology
//! string), into an integer in the unit the kernel wants, and printed back in the shortest exact
//! form. The runtime reads the values of `Link::set_rate` and friends with the same functions, so that a setting means the same thing in a topology and at run time.
//!
//! | attribute | value | unit | range |
//! |---|---|---|---|
//! | `mtu` | `1280` | bytes | 68 to 65535 |
//! | `rate` | `10mbit`, `1.5mbit`, `512kbit` | `bit`, `kbit`, `mbit`, `gbit` (powers of 1000) per second | 1kbit to 32gbit |
//! | `delay` | `50ms`, `1.5ms`, `200us`, `1s`, `0ms` | `us`, `ms`, `s`, `m` (the grammar of every duration) | 0 to 60s |
//! | `loss` | `1%`, `0.5%` | percent, up to four decimals | 0.0001% to 100% |
//! | `jitter` | `5ms` | a duration | 0 to 60s |
//! | `burst` | `4` | packets lost in a row, on average (with `loss`) | 1 to 1000 |
//! | `duplicate`, `reorder`, `corrupt` | `1%` | percent, up to four decimals | 0% to 100% |
//!
//! `rate` and each impairment take one value for both directions or two, `ab/ba`:
//! `delay=50ms/5ms` delays what the left end of `a -- b` sends by 50 ms and what `b` sends by
//! 5 ms, and `rate=10mbit/1mbit` lets `a` send 10 Mbit/s and `b` 1 Mbit/s.
//!
//! Byte rates (`bps`, `kbps`, `mbps`, `gbps`) are refused: `tc` reads `mbps` as *megabytes* per
//! second, which is a classic way to get a link eight times faster than meant.
//!
//! The values and their grammar are in `values.rs`, the access-network profiles in
//! `profiles.rs`; this file holds what a link carries, [`LinkSettings`], and the rules between
//! its settings.

use std::fmt;

mod profiles;
mod values;

pub use profiles::{PROFILES, apply_profile};
pub use values::{
    Delay, Loss, MAX_MTU, MIN_IPV6_MTU, MIN_MTU, Rate, parse_burst, parse_corrupt, parse_delay,
    parse_duplicate, parse_jitter, parse_loss, parse_mtu, parse_rate, parse_reorder,
};

/// A value for each direction of a link: `ab` for what the left end of `a -- b` sends (towards
/// `b`), `ba` for what `b` sends. Written `20ms` (both the same) or `20ms/5ms` (`ab/ba`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Directed<T> {
    /// What the left end sends.
    pub ab: T,
    /// What the right end sends.
    pub ba: T,
}

impl<T: Copy> Directed<T> {
    /// The same value both ways.
    pub fn both(value: T) -> Directed<T> {
        Directed {
            ab: value,
            ba: value,
        }
    }

    /// The value for what end `b` of the link sends if `from_b`, else for what `a` sends.
    pub fn from(&self, from_b: bool) -> T {
        if from_b { self.ba } else { self.ab }
    }
}

/// `20ms`, or `20ms/5ms` when the directions differ, with `show` writing one value.
fn write_directed<T: Copy + PartialEq>(
    f: &mut fmt::Formatter<'_>,
    value: Directed<T>,
    show: impl Fn(T) -> String,
) -> fmt::Result {
    if value.ab == value.ba {
        f.write_str(&show(value.ab))
    } else {
        write!(f, "{}/{}", show(value.ab), show(value.ba))
    }
}

/// Reads `x` or `x/y` with `parse`: the same value both ways, or one per direction.
pub fn parse_directed<T: Copy>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Directed<T>, String> {
    match text.split_once('/') {
        None => parse(text).map(Directed::both),
        Some((ab, ba)) if ba.contains('/') || ab.is_empty() || ba.is_empty() => Err(format!(
            "`{text}` is not one value or two: write `x` for both directions or `x/y`, `x` for \
             what the left end sends and `y` for what the right end sends"
        )),
        Some((ab, ba)) => Ok(Directed {
            ab: parse(ab)?,
            ba: parse(ba)?,
        }),
    }
}

/// The settings of one link. `None` leaves the kernel's default. `rate` and the impairments
/// (`delay`, `jitter`, `loss`, `burst`, `duplicate`, `reorder`, `corrupt`) have a value per
/// direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LinkSettings {
    /// `mtu=`: the MTU of both ends, in bytes.
    pub mtu: Option<u32>,
    /// `rate=`: the most each end sends, in bits per second (a token bucket on each end), per
    /// direction.
    pub rate: Option<Directed<u64>>,
    /// `delay=`: added to every packet, in microseconds.
    pub delay_us: Option<Directed<u64>>,
    /// `jitter=`: the delay varies uniformly within this much either side of `delay`, in
    /// microseconds (never below zero).
    pub jitter_us: Option<Directed<u64>>,
    /// `loss=`: the share of packets dropped, in millionths.
    pub loss_ppm: Option<Directed<u32>>,
    /// `burst=`: with `loss=`, losses come in bursts of this many packets on average (a
    /// Gilbert-Elliott model), rather than one by one.
    pub burst: Option<Directed<u32>>,
    /// `duplicate=`: the share of packets sent twice, in millionths.
    pub duplicate_ppm: Option<Directed<u32>>,
    /// `reorder=`: the share of packets sent at once, ahead of the delayed ones, in millionths.
    pub reorder_ppm: Option<Directed<u32>>,
    /// `corrupt=`: the share of packets with one bit flipped, in millionths.
    pub corrupt_ppm: Option<Directed<u32>>,
}

impl LinkSettings {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == LinkSettings::default()
    }

    /// `key=value` for each setting, in the order of the language (`mtu`, `rate`, `delay`,
    /// `jitter`, `loss`, `burst`, `duplicate`, `reorder`, `corrupt`), as the topology text would write them.
    pub fn entries(&self) -> Vec<String> {
        struct Show<T>(Directed<T>, fn(T) -> String);
        impl<T: Copy + PartialEq> fmt::Display for Show<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_directed(f, self.0, self.1)
            }
        }
        let mut entries = Vec::new();
        if let Some(mtu) = self.mtu {
            entries.push(format!("mtu={mtu}"));
        }
        if let Some(value) = self.rate {
            entries.push(format!(
                "rate={}",
                Show(value, |bits| Rate(bits).to_string())
            ));
        }
        let delay = |us: u64| Delay(us).to_string();
        let share = |ppm: u32| Loss(ppm).to_string();
        if let Some(value) = self.delay_us {
            entries.push(format!("delay={}", Show(value, delay)));
        }
        if let Some(value) = self.jitter_us {
            entries.push(format!("jitter={}", Show(value, delay)));
        }
        if let Some(value) = self.loss_ppm {
            entries.push(format!("loss={}", Show(value, share)));
        }
        if let Some(value) = self.burst {
            entries.push(format!("burst={}", Show(value, |n: u32| n.to_string())));
        }
        if let Some(value) = self.duplicate_ppm {
            entries.push(format!("duplicate={}", Show(value, share)));
        }
        if let Some(value) = self.reorder_ppm {
            entries.push(format!("reorder={}", Show(value, share)));
        }
        if let Some(value) = self.corrupt_ppm {
            entries.push(format!("corrupt={}", Show(value, share)));
        }
        entries
    }

    /// Whether any impairment (`delay`, `jitter`, `loss`, `duplicate`, `reorder`) is set.
    pub fn impairs(&self) -> bool {
        self.delay_us.is_some()
            || self.jitter_us.is_some()
            || self.loss_ppm.is_some()
            || self.duplicate_ppm.is_some()
            || self.reorder_ppm.is_some()
            || self.corrupt_ppm.is_some()
    }
}

/// Checks the settings of one attribute list together: `jitter` and `reorder` need a `delay`
/// to act on, `burst` a `loss`.
pub fn check_together(settings: &LinkSettings) -> Result<(), String> {
    let needs = [
        (
            settings.jitter_us.is_some(),
            settings.delay_us.is_some(),
            "jitter",
            "varies the delay",
            "delay=20ms, jitter=5ms",
        ),
        (
            settings.reorder_ppm.is_some(),
            settings.delay_us.is_some(),
            "reorder",
            "lets packets skip the delay",
            "delay=20ms, reorder=25%",
        ),
        (
            settings.burst.is_some(),
            settings.loss_ppm.is_some(),
            "burst",
            "groups the losses",
            "loss=2%, burst=4",
        ),
    ];
    for (given, with, key, what, example) in needs {
        if given && !with {
            let other = example.split('=').next().unwrap_or_default();
            return Err(format!(
                "`{key}=` {what}, and this list has no `{other}=`: write both, as in `[{example}]`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
