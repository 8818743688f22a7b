//! The subnets of every segment, both families, and the checks of the addresses written in the
//! text (`a@10.0.1.7`, `a@fd00::7`).
//!
//! A segment's subnet is, in this order: the one its `subnet`/`subnet6` gives; the one around
//! the first explicit address on it (a /24, a /64); or the next automatic one that overlaps
//! none of those. The addresses themselves are given out by the planner.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use crate::cidr6::mirror;
use crate::error::Diagnostic;
use crate::network::Segment;
use crate::realms::{Pool, Realms};
use crate::syntax::Spanned;
use crate::{Ipv4Cidr, Ipv6Cidr};

/// What the text says about one segment.
#[derive(Debug)]
pub(super) struct DraftSegment {
    pub(super) subnet: Option<Spanned<Ipv4Cidr>>,
    pub(super) subnet6: Option<Spanned<Ipv6Cidr>>,
    /// The explicit addresses of the ends on this segment, in order.
    pub(super) addrs4: Vec<Spanned<Ipv4Addr>>,
    pub(super) addrs6: Vec<Spanned<Ipv6Addr>>,
    pub(super) first_link: Range<usize>,
    pub(super) switch: Option<usize>,
    pub(super) interfaces: u32,
}

/// A subnet the text fixes: given as an attribute, or implied by an address.
struct Claim<C> {
    subnet: C,
    span: Range<usize>,
    /// The address that implies it, if it was not given.
    address: Option<String>,
}

/// Which address families the text turns off, each as where it says so (`[ipv6=off]`,
/// `[ipv4=off]`). At most one of them is set.
pub(super) struct Families {
    pub(super) ipv6_off: Option<Range<usize>>,
    pub(super) ipv4_off: Option<Range<usize>>,
}

/// Gives every segment its subnets, reporting every problem with them and with the explicit
/// addresses.
///
/// With `[ipv4=off]` a segment still gets an IPv4 subnet, of the size its interfaces need, but
/// only as the numbering its IPv6 addresses mirror (hosts `::1`, `::2`, ..., routers `::254`,
/// ...): it is never planned as an address.
pub(super) fn segments(
    drafts: &[DraftSegment],
    switches: &[String],
    switch_spans: &[Range<usize>],
    families: Families,
    realms: &Realms,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Segment> {
    let Families { ipv6_off, ipv4_off } = families;
    if ipv4_off.is_some() {
        refuse_ipv4(drafts, diagnostics);
    }
    let claims4: Vec<Option<Claim<Ipv4Cidr>>> = drafts
        .iter()
        .map(|d| match (&d.subnet, d.addrs4.first()) {
            _ if ipv4_off.is_some() => None,
            (Some(subnet), _) => Some(Claim {
                subnet: subnet.value,
                span: subnet.span.clone(),
                address: None,
            }),
            (None, Some(addr)) => Some(Claim {
                subnet: Ipv4Cidr::new(addr.value, 24)?.network(),
                span: addr.span.clone(),
                address: Some(addr.value.to_string()),
            }),
            (None, None) => None,
        })
        .collect();
    let related = |a: usize, b: usize| realms.related(a, b);
    check_overlaps(
        &claims4,
        "subnet",
        |a, b| a.overlaps(b),
        related,
        diagnostics,
    );
    let claims6: Vec<Option<Claim<Ipv6Cidr>>> = match &ipv6_off {
        Some(_) => {
            refuse_ipv6(drafts, diagnostics);
            Vec::new()
        }
        None => drafts
            .iter()
            .map(|d| match (&d.subnet6, d.addrs6.first()) {
                (Some(subnet), _) => Some(Claim {
                    subnet: subnet.value,
                    span: subnet.span.clone(),
                    address: None,
                }),
                (None, Some(addr)) => Some(Claim {
                    subnet: Ipv6Cidr::new(addr.value, 64)?.network(),
                    span: addr.span.clone(),
                    address: Some(addr.value.to_string()),
                }),
                (None, None) => None,
            })
            .collect(),
    };
    check_overlaps(
        &claims6,
        "subnet6",
        |a, b| a.overlaps(b),
        |_, _| true,
        diagnostics,
    );
    let taken4: Vec<Ipv4Cidr> = claims4.iter().flatten().map(|c| c.subnet).collect();
    let taken6: Vec<Ipv6Cidr> = claims6.iter().flatten().map(|c| c.subnet).collect();
    let mut next6 = 1;
    // Without NATs, one walk through `10.0.1.0/24` onwards for the whole topology.
    let mut flat = pool_subnets(Pool::Flat);
    // With NATs, the subnets given so far, per segment: a realm's automatic subnets avoid those
    // of its own realm and of the realms it is inside or that are inside it.
    let mut assigned: Vec<Option<Ipv4Cidr>> = claims4
        .iter()
        .map(|c| c.as_ref().map(|c| c.subnet))
        .collect();
    let six = if realms.has_nat() {
        DOCUMENTATION6
    } else {
        ULA6
    };
    let mut segments = Vec::with_capacity(drafts.len());
    for (n, draft) in drafts.iter().enumerate() {
        let pool = realms.pool_of(n);
        let subnet = match &claims4[n] {
            _ if ipv4_off.is_some() => numbering(draft.interfaces),
            Some(claim) => claim.subnet,
            None => {
                let auto = match pool {
                    Pool::Flat => flat.find(|c| !taken4.iter().any(|t| t.overlaps(c))),
                    pool => pool_subnets(pool).find(|candidate| {
                        !(assigned.iter().enumerate()).any(|(k, a)| {
                            a.is_some_and(|a| a.overlaps(candidate) && realms.related(k, n))
                        })
                    }),
                };
                match auto {
                    Some(subnet) => subnet,
                    None => {
                        let message = format!(
                            "no automatic subnet is left in {} beside the explicit ones; give \
                             this segment a `[subnet=...]`",
                            pool_name(pool)
                        );
                        diagnostics.push(Diagnostic::new(draft.first_link.clone(), message));
                        return Vec::new();
                    }
                }
            }
        };
        assigned[n] = Some(subnet);
        if ipv4_off.is_none() {
            diagnostics.extend(check_room(draft, switches, switch_spans, subnet));
            check_addrs4(subnet, &draft.addrs4, diagnostics);
        }
        let subnet6 = if ipv6_off.is_some() {
            None
        } else {
            let subnet6 = match &claims6[n] {
                Some(claim) => claim.subnet,
                None => match auto_subnet6(&mut next6, &taken6, six.0) {
                    Some(subnet6) => subnet6,
                    None => {
                        let message = format!(
                            "no automatic IPv6 subnet is left in {} beside the explicit ones; \
                             give this segment a `[subnet6=...]`",
                            six.1
                        );
                        diagnostics.push(Diagnostic::new(draft.first_link.clone(), message));
                        return Vec::new();
                    }
                },
            };
            diagnostics.extend(check_room6(draft, subnet6));
            check_addrs6(subnet6, &draft.addrs6, diagnostics);
            Some(subnet6)
        };
        segments.push(Segment {
            subnet,
            explicit: draft.subnet.is_some(),
            subnet6,
            explicit6: draft.subnet6.is_some(),
        });
    }
    segments
}

/// Reports every subnet the text fixes that overlaps an earlier one, on a segment whose subnet
/// must differ (`related`: of the same realm, or one inside the other).
fn check_overlaps<C: Copy + PartialEq + fmt::Display>(
    claims: &[Option<Claim<C>>],
    what: &str,
    overlaps: impl Fn(&C, &C) -> bool,
    related: impl Fn(usize, usize) -> bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let claims: Vec<(usize, &Claim<C>)> = (claims.iter().enumerate())
        .filter_map(|(segment, claim)| Some((segment, claim.as_ref()?)))
        .collect();
    for (i, &(segment, claim)) in claims.iter().enumerate() {
        let Some((_, other)) = claims[..i]
            .iter()
            .find(|(s, o)| related(*s, segment) && overlaps(&o.subnet, &claim.subnet))
        else {
            continue;
        };
        let (mine, theirs) = (claim.subnet, other.subnet);
        let message = match &claim.address {
            None if theirs == mine => format!(
                "{what} `{mine}` is already the subnet of another segment; every segment needs \
                 a subnet of its own"
            ),
            None => format!(
                "{what} `{mine}` overlaps `{theirs}`, the subnet of another segment; every \
                 segment needs a subnet of its own"
            ),
            Some(address) => {
                let clash = if theirs == mine {
                    "already the subnet of another segment".to_owned()
                } else {
                    format!("which overlaps `{theirs}`, the subnet of another segment")
                };
                format!(
                    "address `{address}` puts its segment in `{mine}`, {clash}; give this \
                     segment a {what} of its own"
                )
            }
        };
        diagnostics.push(Diagnostic::new(claim.span.clone(), message));
    }
}

/// With `[ipv6=off]`, an IPv6 subnet or address in the text is a contradiction.
fn refuse_ipv6(drafts: &[DraftSegment], diagnostics: &mut Vec<Diagnostic>) {
    for draft in drafts {
        if let Some(subnet) = &draft.subnet6 {
            let message = format!(
                "`subnet6={}` is given, but this topology has `[ipv6=off]`; remove one of them",
                subnet.value
            );
            diagnostics.push(Diagnostic::new(subnet.span.clone(), message));
        }
        for addr in &draft.addrs6 {
            let message = format!(
                "an IPv6 address, `{}`, is given, but this topology has `[ipv6=off]`; remove one of \
                 them",
                addr.value
            );
            diagnostics.push(Diagnostic::new(addr.span.clone(), message));
        }
    }
}

/// With `[ipv4=off]`, an IPv4 subnet or address in the text is a contradiction: each is
/// reported with the IPv6 setting that would be valid instead.
fn refuse_ipv4(drafts: &[DraftSegment], diagnostics: &mut Vec<Diagnostic>) {
    for draft in drafts {
        if let Some(subnet) = &draft.subnet {
            let message = format!(
                "`subnet={}` is an IPv4 subnet, and this topology has `[ipv4=off]`; give the \
                 segment an IPv6 subnet instead, as in `subnet6=fd00:0:0:100::/64`, or remove \
                 `[ipv4=off]`",
                subnet.value
            );
            diagnostics.push(Diagnostic::new(subnet.span.clone(), message));
        }
        for addr in &draft.addrs4 {
            let message = format!(
                "`{}` is an IPv4 address, and this topology has `[ipv4=off]`; write an IPv6 \
                 address instead, as in `@fd00:0:0:1::{}`, or remove `[ipv4=off]`",
                addr.value,
                addr.value.octets()[3]
            );
            diagnostics.push(Diagnostic::new(addr.span.clone(), message));
        }
    }
}

/// With `[ipv4=off]`, the numbering of a segment of `interfaces` interfaces: a /24, or as
/// large as they need, never planned as addresses.
fn numbering(interfaces: u32) -> Ipv4Cidr {
    let len = Ipv4Cidr::prefix_len_for(interfaces).unwrap_or(0).min(24);
    Ipv4Cidr::new(Ipv4Addr::UNSPECIFIED, len).expect("a prefix length of at most 24 is valid")
}

/// The explicit IPv4 addresses of a segment: inside its subnet, usable, each once.
fn check_addrs4(subnet: Ipv4Cidr, addrs: &[Spanned<Ipv4Addr>], diagnostics: &mut Vec<Diagnostic>) {
    let choose = match (subnet.nth_host(0), subnet.nth_last_host(0)) {
        (Some(first), Some(last)) => format!("choose one from `{first}` to `{last}`"),
        _ => "and it has no usable address".to_owned(),
    };
    for (i, addr) in addrs.iter().enumerate() {
        let a = addr.value;
        let problem = if !subnet.contains(a) {
            format!("address `{a}` is outside `{subnet}`, the subnet of its segment; {choose}")
        } else if a == subnet.network().addr() {
            format!("address `{a}` is the network address of `{subnet}`; {choose}")
        } else if a == subnet.broadcast() && subnet.prefix_len() <= 30 {
            format!("address `{a}` is the broadcast address of `{subnet}`; {choose}")
        } else if addrs[..i].iter().any(|b| b.value == a) {
            format!(
                "address `{a}` is used twice on this segment; every interface needs an address \
                 of its own"
            )
        } else {
            continue;
        };
        diagnostics.push(Diagnostic::new(addr.span.clone(), problem));
    }
}

/// The explicit IPv6 addresses of a segment: inside its subnet, not all-zero host bits, each
/// once.
fn check_addrs6(subnet: Ipv6Cidr, addrs: &[Spanned<Ipv6Addr>], diagnostics: &mut Vec<Diagnostic>) {
    let example = subnet
        .host(1)
        .map_or(String::new(), |a| format!(", such as `{a}`"));
    for (i, addr) in addrs.iter().enumerate() {
        let a = addr.value;
        let problem = if !subnet.contains(a) {
            format!(
                "address `{a}` is outside `{subnet}`, the IPv6 subnet of its segment; choose \
                 one inside it{example}"
            )
        } else if subnet.host_part(a) == 0 {
            format!(
                "address `{a}` is the subnet-router anycast address of `{subnet}` (its host bits \
                 are all zero); choose another{example}"
            )
        } else if addrs[..i].iter().any(|b| b.value == a) {
            format!(
                "address `{a}` is used twice on this segment; every interface needs an address \
                 of its own"
            )
        } else {
            continue;
        };
        diagnostics.push(Diagnostic::new(addr.span.clone(), problem));
    }
}

/// Whether `subnet` has an address for every interface of `draft`.
fn check_room(
    draft: &DraftSegment,
    switches: &[String],
    switch_spans: &[Range<usize>],
    subnet: Ipv4Cidr,
) -> Option<Diagnostic> {
    let (needed, usable) = (draft.interfaces, subnet.usable_hosts());
    if needed <= usable {
        return None;
    }
    let larger = Ipv4Cidr::prefix_len_for(needed).unwrap_or(0);
    let span = match (&draft.subnet, draft.addrs4.first()) {
        (Some(given), _) => given.span.clone(),
        // A /24 around an address, too small for a switch.
        (None, Some(addr)) => addr.span.clone(),
        // An automatic /24 is too small only for a switch with more than 254 links.
        (None, None) => {
            let switch = draft.switch?;
            let message = format!(
                "switch `{}` needs {needed} addresses, more than the {usable} of an automatic \
                 /24; give it a larger subnet, as in `[subnet=10.0.0.0/{larger}]`",
                switches[switch]
            );
            return Some(Diagnostic::new(switch_spans[switch].clone(), message));
        }
    };
    let has = match usable {
        0 => "no usable address".to_owned(),
        usable => format!("{usable} usable"),
    };
    let message = format!(
        "subnet `{subnet}` is too small: its segment needs {needed} addresses and a /{} has \
         {has}; use a /{larger} or larger",
        subnet.prefix_len()
    );
    Some(Diagnostic::new(span, message))
}

/// Whether the IPv6 `subnet` has an address for every interface of `draft`.
fn check_room6(draft: &DraftSegment, subnet: Ipv6Cidr) -> Option<Diagnostic> {
    let (needed, usable) = (draft.interfaces, subnet.usable_hosts());
    if needed <= usable {
        return None;
    }
    let bits = 32 - needed.leading_zeros();
    let span = match (&draft.subnet6, draft.addrs6.first()) {
        (Some(given), _) => given.span.clone(),
        (None, Some(addr)) => addr.span.clone(),
        (None, None) => draft.first_link.clone(),
    };
    let message = format!(
        "subnet6 `{subnet}` is too small: its segment needs {needed} addresses and a /{} has \
         {usable} usable; use a /{} or larger",
        subnet.prefix_len(),
        128 - bits
    );
    Some(Diagnostic::new(span, message))
}

/// The automatic IPv6 subnets without NAT: `fd00:0:0:<n>::/64`.
const ULA6: (u128, &str) = (0xfd00 << 112, "fd00::/48");

/// The automatic IPv6 subnets of a topology with NATs, where IPv6 is not translated and every
/// node's address looks global: `2001:db8:0:<n>::/64`, in the documentation range.
const DOCUMENTATION6: (u128, &str) = (0x2001_0db8 << 96, "2001:db8::/48");

/// The next automatic /64, `<prefix>:<n>::/64` (`fd00:0:0:<n>::/64`) with `n` from 1 to 9999
/// in decimal digits, that overlaps no subnet the text fixes.
fn auto_subnet6(next: &mut u64, taken: &[Ipv6Cidr], prefix: u128) -> Option<Ipv6Cidr> {
    while *next <= 9999 {
        let n = mirror(*next)?;
        *next += 1;
        let addr = Ipv6Addr::from(prefix | (n << 64));
        let subnet = Ipv6Cidr::new(addr, 64)?;
        if !taken.iter().any(|t| t.overlaps(&subnet)) {
            return Some(subnet);
        }
    }
    None
}

/// The automatic /24s of a realm's pool, in order (see [`Pool`]): without NATs `10.0.1.0/24`,
/// `10.0.2.0/24`, ... `10.255.255.0/24`; with NATs, the public side
/// takes the three documentation networks (`192.0.2.0/24`, `198.51.100.0/24`,
/// `203.0.113.0/24`), then the benchmarking range `198.18.0.0/15`, none of which code that
/// asks "is this address private" takes for private; a home's inside `192.168.1.0/24` to
/// `192.168.255.0/24`, then `172.16.0.0/12`; a carrier's inside `100.64.1.0/24` onwards,
/// in `100.64.0.0/10` (RFC 6598).
fn pool_subnets(pool: Pool) -> Box<dyn Iterator<Item = Ipv4Cidr>> {
    let slash24 = |a: u32| Ipv4Cidr::new(Ipv4Addr::from(a), 24);
    let range = |base: [u8; 4], from: u32, count: u32| {
        let base = u32::from(Ipv4Addr::from(base));
        (from..count).filter_map(move |k| slash24(base + (k << 8)))
    };
    match pool {
        Pool::Flat => Box::new(range([10, 0, 0, 0], 1, 1 << 16)),
        Pool::Public => Box::new(
            [[192, 0, 2, 0], [198, 51, 100, 0], [203, 0, 113, 0]]
                .into_iter()
                .filter_map(move |a| slash24(u32::from(Ipv4Addr::from(a))))
                .chain(range([198, 18, 0, 0], 0, 512)),
        ),
        Pool::Home => {
            Box::new(range([192, 168, 0, 0], 1, 256).chain(range([172, 16, 0, 0], 0, 1 << 12)))
        }
        Pool::Carrier => Box::new(range([100, 64, 0, 0], 1, 1 << 14)),
    }
}

/// Where a pool's automatic subnets come from, for messages.
fn pool_name(pool: Pool) -> &'static str {
    match pool {
        Pool::Flat => "10.0.0.0/8",
        Pool::Public => "the documentation ranges and 198.18.0.0/15",
        Pool::Home => "192.168.0.0/16 and 172.16.0.0/12",
        Pool::Carrier => "100.64.0.0/10",
    }
}
