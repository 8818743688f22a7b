//! IPv6 prefixes: an address with a prefix length, as in `fd00:0:0:1::/64` or `fd00:0:0:1::1/64`.

use std::fmt;
use std::net::Ipv6Addr;
use std::ops::Range;
use std::str::FromStr;

use crate::ParseCidrError;
use crate::error::Diagnostic;

/// An IPv6 address with a prefix length: the IPv6 twin of [`Ipv4Cidr`](super::Ipv4Cidr).
///
/// The same type names a network (`fd00:0:0:1::/64`, host bits clear) and an interface address
/// (`fd00:0:0:1::1/64`). Values order by address, then prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv6Cidr {
    addr: Ipv6Addr,
    prefix_len: u8,
}

impl Ipv6Cidr {
    /// `addr/prefix_len`, or `None` when the prefix length is above 128. Host bits may be set.
    pub const fn new(addr: Ipv6Addr, prefix_len: u8) -> Option<Self> {
        if prefix_len > 128 {
            None
        } else {
            Some(Self { addr, prefix_len })
        }
    }

    /// The address, host bits included.
    pub fn addr(&self) -> Ipv6Addr {
        self.addr
    }

    /// The prefix length, 0 to 128.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// The network this address is in: the same prefix with the host bits cleared.
    pub fn network(&self) -> Ipv6Cidr {
        self.with_addr(Ipv6Addr::from(u128::from(self.addr) & self.mask()))
    }

    /// Whether the host bits are clear, so that this names a network.
    pub fn is_network(&self) -> bool {
        self.network().addr == self.addr
    }

    /// The same prefix length around another address.
    pub fn with_addr(&self, addr: Ipv6Addr) -> Ipv6Cidr {
        Self {
            addr,
            prefix_len: self.prefix_len,
        }
    }

    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & self.mask() == u128::from(self.addr) & self.mask()
    }

    /// Whether the two networks share at least one address (one then contains the other).
    pub fn overlaps(&self, other: &Ipv6Cidr) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// The address whose host part is `n`, if `n` fits in the host bits. `n = 0` is the
    /// network's own address (the subnet-router anycast address), which no interface takes.
    pub fn host(&self, n: u128) -> Option<Ipv6Addr> {
        let fits = self.prefix_len == 0 || n >> (128 - u32::from(self.prefix_len)) == 0;
        fits.then(|| Ipv6Addr::from(u128::from(self.network().addr) | n))
    }

    /// The host part of `ip` in this network.
    pub fn host_part(&self, ip: Ipv6Addr) -> u128 {
        u128::from(ip) & !self.mask()
    }

    /// How many addresses an interface may take: all but the all-zeros one, capped at
    /// `u32::MAX` (far more than any topology has interfaces).
    pub fn usable_hosts(&self) -> u32 {
        let bits = 128 - u32::from(self.prefix_len);
        if bits >= 32 {
            u32::MAX
        } else {
            (1u32 << bits) - 1
        }
    }

    /// Reads the `subnet6` value written at `span` of a topology text: a network, host bits
    /// clear.
    pub(super) fn parse_subnet(value: &str, span: Range<usize>) -> Result<Self, Diagnostic> {
        let example = "write one as `fd00:0:0:100::/64`";
        let slash = value.find('/').unwrap_or(value.len());
        let (span, message) = match value.parse::<Ipv6Cidr>() {
            Ok(subnet) if subnet.is_network() => return Ok(subnet),
            Ok(subnet) => (
                span,
                format!(
                    "subnet6 `{value}` has host bits set; did you mean `{}`?",
                    subnet.network()
                ),
            ),
            Err(_) if value.parse::<super::Ipv4Cidr>().is_ok() => (
                span,
                format!(
                    "`{value}` is an IPv4 subnet, and `subnet6` takes an IPv6 one: write the \
                     IPv4 subnet as `subnet={value}`, or an IPv6 one as `subnet6=fd00:0:0:100::/64`"
                ),
            ),
            Err(ParseCidrError::MissingPrefixLen) if value.parse::<Ipv6Addr>().is_ok() => (
                span,
                format!("subnet6 `{value}` has no prefix length; write it as `{value}/64`"),
            ),
            Err(ParseCidrError::MissingPrefixLen) => {
                (span, format!("`{value}` is not an IPv6 subnet; {example}"))
            }
            Err(ParseCidrError::PrefixLen) => (
                span.start + slash..span.end,
                format!(
                    "`{}` in subnet6 `{value}` is not a prefix length; use `/0` to `/128`, \
                     as in `fd00:0:0:100::/64`",
                    &value[slash..]
                ),
            ),
            Err(_) => (
                span.start..span.start + slash,
                format!(
                    "`{}` in subnet6 `{value}` is not an IPv6 address; {example}",
                    &value[..slash]
                ),
            ),
        };
        Err(Diagnostic::new(span, message))
    }

    fn mask(&self) -> u128 {
        u128::MAX
            .checked_shl(128 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }
}

impl fmt::Display for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Ipv6Cidr {
    type Err = ParseCidrError;

    /// Parses `addr/len`. The prefix length is required and is 0 to 128 in plain decimal.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, len) = s.split_once('/').ok_or(ParseCidrError::MissingPrefixLen)?;
        let addr = addr.parse().map_err(|_| ParseCidrError::Address)?;
        let digits = !len.is_empty() && len.len() <= 3 && len.bytes().all(|b| b.is_ascii_digit());
        let digits = digits && !(len.len() > 1 && len.starts_with('0'));
        let len = if digits { len.parse().ok() } else { None };
        len.and_then(|len| Self::new(addr, len))
            .ok_or(ParseCidrError::PrefixLen)
    }
}

/// The IPv6 host part that reads like the IPv4 host number `n`: `254` gives `::254`, so that
/// `10.0.1.254` and `fd00:0:0:1::254` go together. `None` if `n` has more than 32 digits.
pub(super) fn mirror(n: u64) -> Option<u128> {
    u128::from_str_radix(&n.to_string(), 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::support::assert_errors;

    fn cidr(s: &str) -> Ipv6Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_displays_and_computes() {
        let c = cidr("fd00:0:0:1::7/64");
        assert_eq!(c.to_string(), "fd00:0:0:1::7/64");
        assert_eq!(c.network(), cidr("fd00:0:0:1::/64"));
        assert!(!c.is_network());
        assert!(c.contains("fd00:0:0:1:ffff::1".parse().unwrap()));
        assert!(!c.contains("fd00:0:0:2::1".parse().unwrap()));
        assert!(cidr("fd00::/16").overlaps(&c));
        assert!(!cidr("fd01::/16").overlaps(&c));
        assert_eq!(c.host(0x254), Some("fd00:0:0:1::254".parse().unwrap()));
        assert_eq!(cidr("fd00::/120").host(0x254), None);
        assert_eq!(cidr("fd00::/120").usable_hosts(), 255);
        assert_eq!(c.usable_hosts(), u32::MAX);
        assert_eq!(c.host_part(c.addr()), 7);
        assert_eq!(Ipv6Cidr::new(Ipv6Addr::LOCALHOST, 129), None);
        assert_eq!(mirror(254), Some(0x254));
        assert_eq!(mirror(1022), Some(0x1022));
    }

    #[test]
    fn rejects_malformed_text() {
        use ParseCidrError::*;
        for (text, error) in [
            ("fd00::", MissingPrefixLen),
            ("fd00::/129", PrefixLen),
            ("fd00::/064", PrefixLen),
            ("fd00::/", PrefixLen),
            ("fd00:::/64", Address),
            ("10.0.0.0/24", Address),
        ] {
            assert_eq!(text.parse::<Ipv6Cidr>(), Err(error), "{text:?}");
        }
    }

    #[test]
    fn malformed_ipv6_subnets() {
        assert_errors(
            "a -- b [subnet6=«fd00::1/64»]",
            &["subnet6 `fd00::1/64` has host bits set; did you mean `fd00::/64`?"],
        );
        assert_errors(
            "a -- b [subnet6=«10.0.0.0/24»]",
            &[
                "`10.0.0.0/24` is an IPv4 subnet, and `subnet6` takes an IPv6 one: write the IPv4 \
                 subnet as `subnet=10.0.0.0/24`, or an IPv6 one as `subnet6=fd00:0:0:100::/64`",
            ],
        );
        assert_errors(
            "a -- b [subnet6=«fd00::»]",
            &["subnet6 `fd00::` has no prefix length; write it as `fd00::/64`"],
        );
        assert_errors(
            "a -- b [subnet6=fd00::«/200»]",
            &[
                "`/200` in subnet6 `fd00::/200` is not a prefix length; use `/0` to `/128`, \
                 as in `fd00:0:0:100::/64`",
            ],
        );
        assert_errors(
            "a -- b [subnet6=«fd0g::»/64]",
            &[
                "`fd0g::` in subnet6 `fd0g::/64` is not an IPv6 address; write one as \
                 `fd00:0:0:100::/64`",
            ],
        );
    }
}
