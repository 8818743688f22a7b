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

use std::fmt;

/// The smallest MTU: the IPv4 minimum, and the least a veth accepts.
pub const MIN_MTU: u32 = 68;
/// The least MTU IPv6 allows (RFC 8200): below it, Linux takes IPv6 off the interface, so in
/// an IPv6-only network (`[ipv4=off]`) a link with a smaller MTU would carry nothing.
pub const MIN_IPV6_MTU: u32 = 1280;
/// The largest MTU a veth accepts.
pub const MAX_MTU: u32 = 65535;

/// The slowest rate: 1 kbit/s.
const MIN_RATE: u64 = 1_000;
/// The fastest rate: 32 Gbit/s, so that the rate in bytes per second fits the 32 bits of
/// `struct tc_ratespec`.
const MAX_RATE: u64 = 32_000_000_000;

/// The longest delay: 60 s, in microseconds.
const MAX_DELAY_US: u64 = 60_000_000;

/// A loss of 100%, in millionths.
const ALL_LOST: u32 = 1_000_000;

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

/// A rate in bits per second, shown as the topology text writes it (`10mbit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate(pub u64);

/// A delay in microseconds, shown as the topology text writes it (`50ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delay(pub u64);

/// A loss in millionths, shown as the topology text writes it (`0.5%`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loss(pub u32);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(
            f,
            self.0,
            &[
                (1_000_000_000, "gbit"),
                (1_000_000, "mbit"),
                (1_000, "kbit"),
            ],
            "bit",
        )
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0ms");
        }
        write_scaled(f, self.0, &[(1_000_000, "s"), (1_000, "ms")], "us")
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Millionths are ten-thousandths of a percent.
        write!(f, "{}%", decimal(u64::from(self.0), 4))
    }
}

/// `value` in the largest unit of `units` that shows it exactly with at most three decimals,
/// else in `base`.
fn write_scaled(
    f: &mut fmt::Formatter<'_>,
    value: u64,
    units: &[(u64, &str)],
    base: &str,
) -> fmt::Result {
    for &(size, unit) in units {
        if value >= size && (value * 1000).is_multiple_of(size) {
            return write!(f, "{}{unit}", decimal(value * 1000 / size, 3));
        }
    }
    write!(f, "{value}{base}")
}

/// `value / 10^places`, without trailing zeros: `decimal(1500, 3)` is `1.5`.
fn decimal(value: u64, places: u32) -> String {
    let scale = 10u64.pow(places);
    let (whole, fraction) = (value / scale, value % scale);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:0width$}", width = places as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Reads `text` as a decimal number times `10^places`: `scaled("1.25", 3)` is `1250`. `None` if
/// it is not a plain decimal, has more than `places` decimals, or is too large.
fn scaled(text: &str, places: u32) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > places as usize {
        return None;
    }
    if text.contains('.') && fraction.is_empty() {
        return None;
    }
    let mut value = whole.parse::<u64>().ok()?.checked_mul(10u64.pow(places))?;
    if !fraction.is_empty() {
        let padded = fraction.parse::<u64>().ok()? * 10u64.pow(places - fraction.len() as u32);
        value = value.checked_add(padded)?;
    }
    Some(value)
}

/// Splits `text` into its leading number (digits and `.`) and its unit.
fn number_and_unit(text: &str) -> (&str, &str) {
    let at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    text.split_at(at)
}

/// Reads an MTU in bytes: `1280`.
pub fn parse_mtu(text: &str) -> Result<u32, String> {
    let (number, unit) = number_and_unit(text);
    if number.is_empty() || number.contains('.') || !(unit.is_empty() || unit == "b") {
        return Err(format!(
            "`{text}` is not an MTU: write a number of bytes, as in `mtu=1280`"
        ));
    }
    match number.parse::<u64>() {
        Ok(mtu) if (u64::from(MIN_MTU)..=u64::from(MAX_MTU)).contains(&mtu) => Ok(mtu as u32),
        _ => Err(format!(
            "`mtu={text}` is out of range: an MTU is {MIN_MTU} to {MAX_MTU} bytes"
        )),
    }
}

/// Reads a rate in bits per second: `10mbit`, `1.5mbit`, `512kbit`.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let (number, unit) = number_and_unit(text);
    let units = "`bit`, `kbit`, `mbit` or `gbit` per second";
    let unit = unit.to_ascii_lowercase();
    let factor: u64 = match unit.as_str() {
        "bit" => 1,
        "kbit" => 1_000,
        "mbit" => 1_000_000,
        "gbit" => 1_000_000_000,
        "bps" | "kbps" | "mbps" | "gbps" => {
            let bits = format!("{number}{}it", &unit[..unit.len() - 2]);
            return Err(format!(
                "`{text}` is ambiguous: `tc` reads `{unit}` as bytes per second; write `{bits}` \
                 for bits per second"
            ));
        }
        "" => {
            return Err(format!(
                "`{text}` needs a unit: {units}, as in `rate=10mbit`"
            ));
        }
        _ => {
            return Err(format!(
                "`{text}` is not a rate: the unit is {units}, as in `rate=10mbit`"
            ));
        }
    };
    let Some(rate) = scaled(number, 3).and_then(|v| v.checked_mul(factor)) else {
        return Err(format!(
            "`{text}` is not a rate: write a number and a unit, as in `rate=10mbit` or `rate=1.5mbit`"
        ));
    };
    if !rate.is_multiple_of(1000) || !(MIN_RATE * 1000..=MAX_RATE * 1000).contains(&rate) {
        return Err(format!(
            "`rate={text}` is out of range: a rate is {} to {}",
            Rate(MIN_RATE),
            Rate(MAX_RATE)
        ));
    }
    Ok(rate / 1000)
}

/// Reads a delay in microseconds: `50ms`, `1.5ms`, `200us`, `1s`, in the grammar of every
/// duration (see [`duration`](crate::duration)). `0ms` is a delay too: no time added, but the
/// link is impaired from the start (on a kernel without netem, the relay carries it, so that a
/// delay set at run time can take effect).
pub fn parse_delay(text: &str) -> Result<u64, String> {
    let micros = crate::duration::parse_micros(text, "delay=50ms")?;
    if micros > MAX_DELAY_US {
        return Err(format!(
            "`delay={text}` is out of range: a delay is 0 to {} in whole microseconds",
            Delay(MAX_DELAY_US)
        ));
    }
    Ok(micros)
}

/// Reads a loss in millionths: `1%`, `0.5%`.
pub fn parse_loss(text: &str) -> Result<u32, String> {
    let Some(number) = text.strip_suffix('%') else {
        return Err(format!(
            "`{text}` is not a loss: write a percentage, as in `loss=1%` or `loss=0.5%`"
        ));
    };
    match scaled(number, 4) {
        Some(ppm) if (1..=u64::from(ALL_LOST)).contains(&ppm) => Ok(ppm as u32),
        Some(_) => Err(format!(
            "`loss={text}` is out of range: a loss is 0.0001% to 100%"
        )),
        None => Err(format!(
            "`{text}` is not a loss: write a percentage with at most four decimals, as in \
             `loss=0.5%`"
        )),
    }
}

/// Reads a share of packets in millionths, `0%` allowed: `1%`, `0.5%` (`duplicate=`,
/// `reorder=`), with `key` for the message.
fn parse_share(text: &str, key: &str) -> Result<u32, String> {
    let Some(number) = text.strip_suffix('%') else {
        return Err(format!(
            "`{text}` is not a share of packets: write a percentage, as in `{key}=1%`"
        ));
    };
    match scaled(number, 4) {
        Some(ppm) if ppm <= u64::from(ALL_LOST) => Ok(ppm as u32),
        Some(_) => Err(format!("`{key}={text}` is out of range: it is 0% to 100%")),
        None => Err(format!(
            "`{text}` is not a share of packets: write a percentage with at most four \
             decimals, as in `{key}=0.5%`"
        )),
    }
}

/// Reads a duplicated share: `1%`.
pub fn parse_duplicate(text: &str) -> Result<u32, String> {
    parse_share(text, "duplicate")
}

/// Reads a corrupted share: `0.1%`.
pub fn parse_corrupt(text: &str) -> Result<u32, String> {
    parse_share(text, "corrupt")
}

/// Reads a reordered share: `25%`.
pub fn parse_reorder(text: &str) -> Result<u32, String> {
    parse_share(text, "reorder")
}

/// Reads a jitter in microseconds, in the grammar of every duration: `5ms`.
pub fn parse_jitter(text: &str) -> Result<u64, String> {
    let micros = crate::duration::parse_micros(text, "jitter=5ms")?;
    if micros > MAX_DELAY_US {
        return Err(format!(
            "`jitter={text}` is out of range: a jitter is 0 to {}",
            Delay(MAX_DELAY_US)
        ));
    }
    Ok(micros)
}

/// The access networks `profile=` knows: name, what it models, and where the numbers come from.
///
/// Each profile reads the left end of `a -- b` as the user's device: the first value of a pair
/// is its uplink (what the device sends). A profile sets a rate only where its source gives
/// one; settings written after the profile override it.
pub const PROFILES: [(&str, &str, &str); 3] = [
    (
        "lte",
        "rate=50mbit/100mbit, delay=45ms, jitter=15ms/5ms, loss=0.2%: a 4G/LTE mobile link",
        "Loadero's network conditions, row \"4G\" (bandwidth 100 Mbit/s incoming / 50 Mbit/s \
         outgoing, latency 45 ms, jitter 5 ms incoming / 15 ms outgoing, packet loss 0.2%). The \
         table does not say whether its latency is one way; the profile takes it one way, a \
         round trip of 90 ms",
    ),
    (
        "satellite",
        "delay=279ms: a geostationary satellite hop",
        "RFC 2488 section 2: 279.0 ms of propagation for one ground-satellite-ground hop from the \
         edge of the satellite's view (239.6 ms directly below it), a round trip of at least 558 ms; \
         no rate, loss or jitter given",
    ),
    (
        "wifi",
        "delay=10ms, jitter=10ms: the wireless hop of a busy Wi-Fi network",
        "Sui et al., \"WiFi can be the weakest link of round trip network latency in the \
         wild\" (IEEE INFOCOM 2016), 47 campus access points over two months: more than half of the TCP packets took over 20 ms across the Wi-Fi hop, and 10% over 100 ms. \
         The profile takes 20 ms as the hop's round trip, 10 ms each way, and spreads it as wide \
         as a uniform jitter can without going below zero (0 to 20 ms each way); the long tail \
         (10% above 100 ms) is not modelled, and the study gives no rate or loss",
    ),
];

/// Sets what profile `name` says (see [`PROFILES`]) in `settings`; settings written after it
/// in the same list override it.
pub fn apply_profile(name: &str, settings: &mut LinkSettings) -> Result<(), String> {
    match name {
        "lte" => {
            settings.rate = Some(Directed {
                ab: 50_000_000,
                ba: 100_000_000,
            });
            settings.delay_us = Some(Directed::both(45_000));
            settings.jitter_us = Some(Directed {
                ab: 15_000,
                ba: 5_000,
            });
            settings.loss_ppm = Some(Directed::both(2_000));
        }
        "satellite" => settings.delay_us = Some(Directed::both(279_000)),
        "wifi" => {
            settings.delay_us = Some(Directed::both(10_000));
            settings.jitter_us = Some(Directed::both(10_000));
        }
        _ => {
            let names: Vec<String> = PROFILES.iter().map(|(n, ..)| format!("`{n}`")).collect();
            return Err(format!(
                "`{name}` is not a profile: the profiles are {}",
                names.join(", ")
            ));
        }
    }
    Ok(())
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

/// The longest mean loss burst, in packets.
const MAX_BURST: u32 = 1000;

/// Reads a mean loss burst in packets: `4` (1 to 1000).
pub fn parse_burst(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_BURST).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "`burst={text}` is out of range: a mean burst is 1 to {MAX_BURST} packets"
        )),
        Err(_) => Err(format!(
            "`{text}` is not a burst: write the mean number of packets lost in a row, as in \
             `loss=2%, burst=4`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtus_are_bytes_within_the_veth_range() {
        assert_eq!(parse_mtu("1280"), Ok(1280));
        assert_eq!(parse_mtu("68"), Ok(68));
        assert_eq!(parse_mtu("65535"), Ok(65535));
        assert_eq!(
            parse_mtu("70000").unwrap_err(),
            "`mtu=70000` is out of range: an MTU is 68 to 65535 bytes"
        );
        assert!(parse_mtu("67").unwrap_err().contains("68 to 65535"));
        assert!(parse_mtu("1.5").unwrap_err().contains("not an MTU"));
        assert!(parse_mtu("big").unwrap_err().contains("not an MTU"));
    }

    #[test]
    fn rates_are_bits_per_second_in_powers_of_1000() {
        assert_eq!(parse_rate("10mbit"), Ok(10_000_000));
        assert_eq!(parse_rate("1.5mbit"), Ok(1_500_000));
        assert_eq!(parse_rate("512kbit"), Ok(512_000));
        assert_eq!(parse_rate("1Gbit"), Ok(1_000_000_000));
        assert_eq!(parse_rate("1000bit"), Ok(1_000));
        assert_eq!(
            parse_rate("10mbps").unwrap_err(),
            "`10mbps` is ambiguous: `tc` reads `mbps` as bytes per second; write `10mbit` for \
             bits per second"
        );
        assert!(parse_rate("1000").unwrap_err().contains("needs a unit"));
        assert!(parse_rate("10mb").unwrap_err().contains("not a rate"));
        assert!(
            parse_rate("999bit")
                .unwrap_err()
                .contains("1kbit to 32gbit")
        );
        assert!(parse_rate("33gbit").unwrap_err().contains("out of range"));
        assert!(parse_rate("1.5bit").unwrap_err().contains("out of range"));
        assert!(parse_rate(".5mbit").unwrap_err().contains("not a rate"));
    }

    #[test]
    fn delays_are_whole_microseconds() {
        assert_eq!(parse_delay("50ms"), Ok(50_000));
        assert_eq!(parse_delay("1.5ms"), Ok(1_500));
        assert_eq!(parse_delay("200us"), Ok(200));
        assert_eq!(parse_delay("1s"), Ok(1_000_000));
        assert_eq!(parse_delay("0.5m"), Ok(30_000_000));
        assert!(parse_delay("50").unwrap_err().contains("needs a unit"));
        assert_eq!(parse_delay("0ms"), Ok(0));
        assert!(parse_delay("61s").unwrap_err().contains("0 to 60s"));
        assert!(parse_delay("61s").unwrap_err().contains("out of range"));
        assert!(
            parse_delay("1.5us")
                .unwrap_err()
                .contains("whole number of microseconds")
        );
        assert!(
            parse_delay("5min")
                .unwrap_err()
                .contains("unknown unit `min`")
        );
    }

    #[test]
    fn losses_are_percentages() {
        assert_eq!(parse_loss("1%"), Ok(10_000));
        assert_eq!(parse_loss("0.5%"), Ok(5_000));
        assert_eq!(parse_loss("100%"), Ok(1_000_000));
        assert!(parse_loss("1").unwrap_err().contains("percentage"));
        assert!(parse_loss("0%").unwrap_err().contains("out of range"));
        assert!(parse_loss("101%").unwrap_err().contains("out of range"));
        assert!(
            parse_loss("0.00001%")
                .unwrap_err()
                .contains("four decimals")
        );
    }

    #[test]
    fn directions_are_one_value_or_two() {
        assert_eq!(
            parse_directed("20ms", parse_delay),
            Ok(Directed::both(20_000))
        );
        assert_eq!(
            parse_directed("20ms/5ms", parse_delay),
            Ok(Directed {
                ab: 20_000,
                ba: 5_000
            })
        );
        assert!(
            parse_directed("20ms/", parse_delay)
                .unwrap_err()
                .contains("not one value or two")
        );
        assert!(
            parse_directed("1ms/2ms/3ms", parse_delay)
                .unwrap_err()
                .contains("`x/y`")
        );
        assert!(
            parse_directed("1%/5", parse_loss)
                .unwrap_err()
                .contains("percentage")
        );
        assert_eq!(Directed { ab: 1, ba: 2 }.from(true), 2);
    }

    #[test]
    fn shares_jitters_and_bursts_have_their_units() {
        assert_eq!(parse_duplicate("1%"), Ok(10_000));
        assert_eq!(parse_reorder("0%"), Ok(0));
        assert!(parse_reorder("101%").unwrap_err().contains("0% to 100%"));
        assert!(parse_duplicate("1").unwrap_err().contains("`duplicate=1%`"));
        assert_eq!(parse_jitter("5ms"), Ok(5_000));
        assert!(parse_jitter("5").unwrap_err().contains("needs a unit"));
        assert_eq!(parse_burst("4"), Ok(4));
        assert!(parse_burst("0").unwrap_err().contains("1 to 1000"));
        assert!(parse_burst("4ms").unwrap_err().contains("not a burst"));
    }

    #[test]
    fn profiles_set_their_documented_values() {
        let mut settings = LinkSettings::default();
        apply_profile("lte", &mut settings).unwrap();
        assert_eq!(
            settings.entries(),
            [
                "rate=50mbit/100mbit",
                "delay=45ms",
                "jitter=15ms/5ms",
                "loss=0.2%"
            ]
        );
        let mut settings = LinkSettings::default();
        apply_profile("wifi", &mut settings).unwrap();
        assert_eq!(settings.entries(), ["delay=10ms", "jitter=10ms"]);
        let mut settings = LinkSettings::default();
        apply_profile("satellite", &mut settings).unwrap();
        assert_eq!(settings.entries(), ["delay=279ms"]);
        assert_eq!(
            apply_profile("dialup", &mut settings).unwrap_err(),
            "`dialup` is not a profile: the profiles are `lte`, `satellite`, `wifi`"
        );
        for (name, meaning, _) in PROFILES {
            let mut settings = LinkSettings::default();
            apply_profile(name, &mut settings).unwrap();
            assert!(
                meaning.starts_with(&settings.entries().join(", ")),
                "{name}"
            );
        }
    }

    #[test]
    fn values_print_as_they_parse() {
        assert_eq!(Rate(10_000_000).to_string(), "10mbit");
        assert_eq!(Rate(1_500_000).to_string(), "1.5mbit");
        assert_eq!(Rate(1_234_567).to_string(), "1234.567kbit");
        assert_eq!(Rate(1_001).to_string(), "1.001kbit");
        assert_eq!(Delay(50_000).to_string(), "50ms");
        assert_eq!(Delay(1_500).to_string(), "1.5ms");
        assert_eq!(Delay(999).to_string(), "999us");
        assert_eq!(Delay(0).to_string(), "0ms");
        assert_eq!(Loss(5_000).to_string(), "0.5%");
        assert_eq!(Loss(1_000_000).to_string(), "100%");
        for rate in ["10mbit", "1.5mbit", "1234.567kbit", "32gbit", "1kbit"] {
            assert_eq!(Rate(parse_rate(rate).unwrap()).to_string(), rate);
        }
        for delay in ["50ms", "1.5ms", "999us", "60s", "1.234s"] {
            assert_eq!(Delay(parse_delay(delay).unwrap()).to_string(), delay);
        }
        let all = LinkSettings {
            mtu: Some(1280),
            rate: Some(Directed {
                ab: 10_000_000,
                ba: 1_000_000,
            }),
            delay_us: Some(Directed::both(10_000)),
            jitter_us: Some(Directed { ab: 1_000, ba: 0 }),
            loss_ppm: Some(Directed::both(10_000)),
            burst: Some(Directed::both(4)),
            duplicate_ppm: Some(Directed { ab: 0, ba: 5_000 }),
            reorder_ppm: Some(Directed::both(250_000)),
            corrupt_ppm: Some(Directed::both(1_000)),
        };
        assert_eq!(
            all.entries(),
            [
                "mtu=1280",
                "rate=10mbit/1mbit",
                "delay=10ms",
                "jitter=1ms/0ms",
                "loss=1%",
                "burst=4",
                "duplicate=0%/0.5%",
                "reorder=25%",
                "corrupt=0.1%"
            ]
        );
        assert!(all.impairs());
        assert!(LinkSettings::default().is_empty());
    }
}
