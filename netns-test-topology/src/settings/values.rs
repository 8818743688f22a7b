//! The value of each link setting: how it is read (units, ranges, the error for each mistake)
//! and how it is written back in the shortest exact form.

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
