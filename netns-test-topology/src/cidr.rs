//! IPv4 prefixes: an address with a prefix length, as in `10.0.1.0/24` or `10.0.1.1/24`.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::str::FromStr;

use crate::error::Diagnostic;

/// An IPv4 address with a prefix length.
///
/// The same type names a network (`10.0.1.0/24`, host bits clear) and an interface address
/// (`10.0.1.1/24`): [`network`](Self::network) turns the second into the first. Values order by
/// address, then prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// `addr/prefix_len`, or `None` when the prefix length is above 32. Host bits may be set.
    pub const fn new(addr: Ipv4Addr, prefix_len: u8) -> Option<Self> {
        if prefix_len > 32 {
            None
        } else {
            Some(Self { addr, prefix_len })
        }
    }

    /// The address, host bits included.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The prefix length, 0 to 32.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// The netmask: `255.255.255.0` for a /24.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask())
    }

    /// The network this address is in: the same prefix with the host bits cleared.
    pub fn network(&self) -> Ipv4Cidr {
        self.with_addr(Ipv4Addr::from(u32::from(self.addr) & self.mask()))
    }

    /// Whether the host bits are clear, so that this names a network.
    pub fn is_network(&self) -> bool {
        self.network().addr == self.addr
    }

    /// The last address of the network, with every host bit set.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }

    /// The same prefix length around another address.
    pub fn with_addr(&self, addr: Ipv4Addr) -> Ipv4Cidr {
        Self {
            addr,
            prefix_len: self.prefix_len,
        }
    }

    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.addr) & self.mask()
    }

    /// Whether the two networks share at least one address (one then contains the other).
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// How many addresses an interface may take: all but the network and broadcast addresses.
    ///
    /// A /31 or /32 counts as 0: point-to-point /31 addressing (RFC 3021) is not used here.
    pub fn usable_hosts(&self) -> u32 {
        if self.prefix_len > 30 {
            0
        } else {
            // At most 2^32 - 2, for a /0: always fits.
            u32::try_from((1u64 << (32 - self.prefix_len)) - 2).unwrap_or(u32::MAX)
        }
    }

    /// The `n`th usable address counting up from the network: `n = 0` is `.1` in a /24.
    pub fn nth_host(&self, n: u32) -> Option<Ipv4Addr> {
        (n < self.usable_hosts()).then(|| Ipv4Addr::from(u32::from(self.network().addr) + 1 + n))
    }

    /// The `n`th usable address counting down from the broadcast: `n = 0` is `.254` in a /24.
    pub fn nth_last_host(&self, n: u32) -> Option<Ipv4Addr> {
        (n < self.usable_hosts()).then(|| Ipv4Addr::from(u32::from(self.broadcast()) - 1 - n))
    }

    /// The longest prefix length whose networks hold `hosts` usable addresses, if any does.
    pub fn prefix_len_for(hosts: u32) -> Option<u8> {
        (0..=30u8)
            .rev()
            .find(|&len| (1u64 << (32 - len)) - 2 >= u64::from(hosts))
    }

    /// Reads the subnet written at `span` of a topology text: a network, host bits clear.
    pub(super) fn parse_subnet(value: &str, span: Range<usize>) -> Result<Self, Diagnostic> {
        let slash = value.find('/').unwrap_or(value.len());
        let (span, message) = match value.parse::<Ipv4Cidr>() {
            Ok(subnet) if subnet.is_network() => return Ok(subnet),
            Ok(subnet) => (
                span,
                format!(
                    "subnet `{value}` has host bits set; did you mean `{}`?",
                    subnet.network()
                ),
            ),
            Err(ParseCidrError::MissingPrefixLen) if value.parse::<Ipv4Addr>().is_ok() => (
                span,
                format!("subnet `{value}` has no prefix length; write it as `{value}/24`"),
            ),
            Err(ParseCidrError::MissingPrefixLen) => (
                span,
                format!("`{value}` is not a subnet; write one as `10.0.100.0/24`"),
            ),
            Err(ParseCidrError::Address) => (
                span.start..span.start + slash,
                format!(
                    "`{}` in subnet `{value}` is not an IPv4 address; \
                     write a subnet as `10.0.100.0/24`",
                    &value[..slash]
                ),
            ),
            Err(ParseCidrError::PrefixLen) => (
                span.start + slash..span.end,
                format!(
                    "`{}` in subnet `{value}` is not a prefix length; use `/0` to `/32`, \
                     as in `10.0.100.0/24`",
                    &value[slash..]
                ),
            ),
        };
        Err(Diagnostic::new(span, message))
    }

    fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = ParseCidrError;

    /// Parses `a.b.c.d/len`. The prefix length is required and is 0 to 32 in plain decimal.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, len) = s.split_once('/').ok_or(ParseCidrError::MissingPrefixLen)?;
        let addr = addr.parse().map_err(|_| ParseCidrError::Address)?;
        let digits = !len.is_empty() && len.len() <= 2 && len.bytes().all(|b| b.is_ascii_digit());
        let len = if digits { len.parse().ok() } else { None };
        len.and_then(|len| Self::new(addr, len))
            .ok_or(ParseCidrError::PrefixLen)
    }
}

/// Why a string is not an [`Ipv4Cidr`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseCidrError {
    /// There is no `/` and prefix length.
    MissingPrefixLen,
    /// The part before the `/` is not a dotted-quad IPv4 address.
    Address,
    /// The part after the `/` is not a number from 0 to 32.
    PrefixLen,
}

impl fmt::Display for ParseCidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingPrefixLen => "missing `/` and prefix length, as in `10.0.1.0/24`",
            Self::Address => "invalid IPv4 address before the `/`",
            Self::PrefixLen => "invalid prefix length after the `/`: expected 0 to 32",
        })
    }
}

impl std::error::Error for ParseCidrError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::support::assert_errors;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_displays() {
        assert_eq!(cidr("10.0.1.1/24").to_string(), "10.0.1.1/24");
        assert_eq!(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(cidr("10.0.1.1/24").addr(), Ipv4Addr::new(10, 0, 1, 1));
        assert_eq!(cidr("10.0.1.1/24").prefix_len(), 24);
        assert_eq!(cidr("255.255.255.255/32").prefix_len(), 32);
    }

    #[test]
    fn rejects_malformed_text() {
        use ParseCidrError::*;
        let cases = [
            ("10.0.0.0", MissingPrefixLen),
            ("", MissingPrefixLen),
            ("10.0.0/24", Address),
            ("10.0.0.256/24", Address),
            ("010.0.0.0/24", Address),
            ("/24", Address),
            ("10.0.0.0/", PrefixLen),
            ("10.0.0.0/33", PrefixLen),
            ("10.0.0.0/+8", PrefixLen),
            ("10.0.0.0/024", PrefixLen),
            ("10.0.0.0/24/8", PrefixLen),
            ("10.0.0.0/ 24", PrefixLen),
        ];
        for (text, error) in cases {
            assert_eq!(text.parse::<Ipv4Cidr>(), Err(error), "{text:?}");
        }
        assert_eq!(
            PrefixLen.to_string(),
            "invalid prefix length after the `/`: expected 0 to 32"
        );
    }

    #[test]
    fn new_checks_the_prefix_len() {
        assert!(Ipv4Cidr::new(Ipv4Addr::LOCALHOST, 32).is_some());
        assert_eq!(Ipv4Cidr::new(Ipv4Addr::LOCALHOST, 33), None);
    }

    #[test]
    fn network_netmask_and_broadcast() {
        let c = cidr("10.0.1.77/24");
        assert_eq!(c.network(), cidr("10.0.1.0/24"));
        assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(c.broadcast(), Ipv4Addr::new(10, 0, 1, 255));
        assert!(!c.is_network());
        assert!(c.network().is_network());
        assert_eq!(cidr("10.1.2.3/0").network(), cidr("0.0.0.0/0"));
        assert_eq!(cidr("10.1.2.3/0").broadcast(), Ipv4Addr::BROADCAST);
        assert_eq!(cidr("10.1.2.3/32").network(), cidr("10.1.2.3/32"));
        assert_eq!(cidr("10.1.2.3/32").netmask(), Ipv4Addr::BROADCAST);
    }

    #[test]
    fn contains_and_overlaps() {
        let net = cidr("10.0.0.0/16");
        assert!(net.contains(Ipv4Addr::new(10, 0, 200, 1)));
        assert!(!net.contains(Ipv4Addr::new(10, 1, 0, 0)));
        assert!(net.overlaps(&cidr("10.0.1.0/24")));
        assert!(cidr("10.0.1.0/24").overlaps(&net));
        assert!(!cidr("10.0.1.0/24").overlaps(&cidr("10.0.2.0/24")));
        assert!(cidr("0.0.0.0/0").overlaps(&cidr("192.168.1.0/24")));
    }

    #[test]
    fn hosts_count_from_both_ends() {
        let net = cidr("10.0.1.0/24");
        assert_eq!(net.usable_hosts(), 254);
        assert_eq!(net.nth_host(0), Some(Ipv4Addr::new(10, 0, 1, 1)));
        assert_eq!(net.nth_host(253), Some(Ipv4Addr::new(10, 0, 1, 254)));
        assert_eq!(net.nth_host(254), None);
        assert_eq!(net.nth_last_host(0), Some(Ipv4Addr::new(10, 0, 1, 254)));
        assert_eq!(net.nth_last_host(1), Some(Ipv4Addr::new(10, 0, 1, 253)));
        assert_eq!(net.nth_last_host(254), None);
        assert_eq!(cidr("10.0.0.4/30").usable_hosts(), 2);
        assert_eq!(cidr("10.0.0.4/31").usable_hosts(), 0);
        assert_eq!(cidr("10.0.0.4/32").nth_host(0), None);
        assert_eq!(cidr("0.0.0.0/0").usable_hosts(), u32::MAX - 1);
    }

    #[test]
    fn prefix_len_for_a_host_count() {
        assert_eq!(Ipv4Cidr::prefix_len_for(1), Some(30));
        assert_eq!(Ipv4Cidr::prefix_len_for(2), Some(30));
        assert_eq!(Ipv4Cidr::prefix_len_for(3), Some(29));
        assert_eq!(Ipv4Cidr::prefix_len_for(254), Some(24));
        assert_eq!(Ipv4Cidr::prefix_len_for(255), Some(23));
        assert_eq!(Ipv4Cidr::prefix_len_for(u32::MAX), None);
    }

    #[test]
    fn malformed_subnets() {
        assert_errors(
            "a -- b [subnet=«10.0.0.5/24»]",
            &["subnet `10.0.0.5/24` has host bits set; did you mean `10.0.0.0/24`?"],
        );
        assert_errors(
            "a -- b [subnet=«10.0.300.0»/24]",
            &[
                "`10.0.300.0` in subnet `10.0.300.0/24` is not an IPv4 address; write a subnet as \
               `10.0.100.0/24`",
            ],
        );
        assert_errors(
            "a -- b [subnet=10.0.0.0«/33»]",
            &[
                "`/33` in subnet `10.0.0.0/33` is not a prefix length; use `/0` to `/32`, as in \
               `10.0.100.0/24`",
            ],
        );
        assert_errors(
            "a -- b [subnet=«10.0.0.0»]",
            &["subnet `10.0.0.0` has no prefix length; write it as `10.0.0.0/24`"],
        );
        assert_errors(
            "a -- b [subnet=«lan»]",
            &["`lan` is not a subnet; write one as `10.0.100.0/24`"],
        );
    }

    #[test]
    fn two_subnets_for_one_switch() {
        assert_errors(
            "switch lan; a -- lan [subnet=10.0.0.0/24]; b -- lan [subnet=«10.0.1.0/24»]",
            &[
                "switch `lan` already has subnet `10.0.0.0/24`; a switch is one segment with one \
               subnet, so `10.0.1.0/24` cannot be its subnet too",
            ],
        );
        assert_errors(
            "a -- b -- c [subnet=«10.0.0.0/24»]",
            &[
                "`subnet=10.0.0.0/24` applies to every link of this chain, which spans 2 \
               segments, and each segment needs a subnet of its own; write one statement per link",
            ],
        );
    }

    #[test]
    fn overlapping_subnets() {
        assert_errors(
            "a -- b [subnet=10.0.0.0/16]; c -- d [subnet=«10.0.1.0/24»]; \
             e -- f [subnet=«10.0.0.0/16»]",
            &[
                "subnet `10.0.1.0/24` overlaps `10.0.0.0/16`, the subnet of another segment; \
                 every segment needs a subnet of its own",
                "subnet `10.0.0.0/16` is already the subnet of another segment; every segment \
                 needs a subnet of its own",
            ],
        );
    }

    #[test]
    fn subnets_too_small() {
        assert_errors(
            "a -- b [subnet=«10.0.0.0/31»]",
            &[
                "subnet `10.0.0.0/31` is too small: its segment needs 2 addresses and a /31 has \
               no usable address; use a /30 or larger",
            ],
        );
        assert_errors(
            "switch lan; {a b c} -- lan [subnet=«10.0.0.0/30»]",
            &[
                "subnet `10.0.0.0/30` is too small: its segment needs 3 addresses and a /30 has 2 \
               usable; use a /29 or larger",
            ],
        );
        let text: String = (0..255).map(|n| format!("n{n} -- lan\n")).collect();
        assert_errors(
            &format!("switch «lan»\n{text}"),
            &[
                "switch `lan` needs 255 addresses, more than the 254 of an automatic /24; give it \
               a larger subnet, as in `[subnet=10.0.0.0/23]`",
            ],
        );
        assert_errors(
            "a -- b [subnet=0.0.0.0/0]; «c -- d»",
            &[
                "no automatic subnet is left in 10.0.0.0/8 beside the explicit ones; give this \
               segment a `[subnet=...]`",
            ],
        );
    }
}
