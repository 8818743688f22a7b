//! Link settings: `mtu=`, `rate=`, `delay=` and `loss=`, their units, and their canonical text.
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
//!
//! Byte rates (`bps`, `kbps`, `mbps`, `gbps`) are refused: `tc` reads `mbps` as *megabytes* per
//! second, which is a classic way to get a link eight times faster than meant.

use std::fmt;

/// The smallest MTU: the IPv4 minimum, and the least a veth accepts.
pub const MIN_MTU: u32 = 68;
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

/// The settings of one link, applied to both of its ends. `None` leaves the kernel's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LinkSettings {
    /// `mtu=`: the MTU of both ends, in bytes.
    pub mtu: Option<u32>,
    /// `rate=`: the most each end sends, in bits per second (a token bucket on each end).
    pub rate: Option<u64>,
    /// `delay=`: added to every packet each end sends, in microseconds (netem).
    pub delay_us: Option<u64>,
    /// `loss=`: the share of packets each end drops, in millionths (netem).
    pub loss_ppm: Option<u32>,
}

impl LinkSettings {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == LinkSettings::default()
    }

    /// `key=value` for each setting, in the order of the language (`mtu`, `rate`, `delay`,
    /// `loss`), as the topology text would write them.
    pub fn entries(&self) -> Vec<String> {
        let mut entries = Vec::new();
        if let Some(mtu) = self.mtu {
            entries.push(format!("mtu={mtu}"));
        }
        if let Some(rate) = self.rate {
            entries.push(format!("rate={}", Rate(rate)));
        }
        if let Some(delay) = self.delay_us {
            entries.push(format!("delay={}", Delay(delay)));
        }
        if let Some(loss) = self.loss_ppm {
            entries.push(format!("loss={}", Loss(loss)));
        }
        entries
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
            rate: Some(1_000_000),
            delay_us: Some(10_000),
            loss_ppm: Some(10_000),
        };
        assert_eq!(
            all.entries(),
            ["mtu=1280", "rate=1mbit", "delay=10ms", "loss=1%"]
        );
        assert!(LinkSettings::default().is_empty());
    }
}
