//! NAT routers: what `nat NAME [...]` declares, in the terms of RFC 4787 (NAT behavioural
//! requirements for UDP), with the presets people name.
//!
//! The types here are pure data, planned by [`Plan`](crate::Plan) (its `nats`); the runtime
//! turns each [`NatPlan`] into nf_tables rules in the router's namespace.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};
use std::time::Duration;

/// How a NAT chooses the outside address and port of a flow (RFC 4787 section 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// One outside port per inside address and port, whatever the destination (EIM): what
    /// hole punching needs.
    EndpointIndependent,
    /// One outside port per inside address and port and remote address (ADM).
    AddressDependent,
    /// One outside port per inside address and port and remote address and port (APDM): a new
    /// port for every destination, the "symmetric" NAT.
    AddressAndPortDependent,
}

/// Which packets from outside a NAT lets in through a mapping (RFC 4787 section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Filtering {
    /// Any remote address and port may send to the mapping (EIF).
    EndpointIndependent,
    /// Only a remote address the inside endpoint has sent to, from any port (ADF).
    AddressDependent,
    /// Only a remote address and port the inside endpoint has sent to (APDF).
    AddressAndPortDependent,
}

/// The NAT kinds people name, each a mapping and a filtering behaviour with defaults for the
/// rest (see [`Preset::behaviour`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `full-cone`: endpoint-independent mapping and filtering.
    FullCone,
    /// `restricted-cone`: endpoint-independent mapping, address-dependent filtering.
    RestrictedCone,
    /// `port-restricted`: endpoint-independent mapping, address-and-port-dependent filtering:
    /// the usual home router, and the default of `nat`.
    PortRestricted,
    /// `symmetric`: address-and-port-dependent mapping and filtering.
    Symmetric,
    /// `cgnat`: a carrier-grade NAT, the ISP's side of a shared address (RFC 6888):
    /// endpoint-independent mapping and filtering, hairpinning on, its inside numbered from
    /// `100.64.0.0/10` (RFC 6598), and no IPv6 firewall.
    Cgnat,
}

/// A NAT's behaviour, whole: what a preset gives before the text overrides any of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Behaviour {
    pub mapping: Mapping,
    pub filtering: Filtering,
    /// Whether an inside node reaches another inside node through the NAT's outside address
    /// and a mapping (RFC 4787 section 6).
    pub hairpin: bool,
    /// Whether IPv6 from outside is let in only on flows that started inside (the stateful
    /// firewall of a home router, RFC 6092). IPv6 is never translated.
    pub firewall6: bool,
}

/// The UDP mapping timeout of every preset: two minutes, the least RFC 4787 REQ-5 allows, and
/// conntrack's own default for a UDP flow that has seen replies.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The idle timeout of an established TCP connection of every preset: 2 hours 4 minutes, the
/// least RFC 5382 REQ-5 allows (conntrack's own default is 5 days).
pub const DEFAULT_TCP_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60 + 4 * 60);

/// The longest UDP mapping timeout, and the longest TCP idle timeout: a day.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether `timeout` can be a NAT's UDP mapping timeout or TCP idle timeout: whole seconds (as
/// conntrack counts them), from 1 s to a day ([`MAX_TIMEOUT`]). The problem otherwise, as a
/// sentence fragment.
pub fn check_timeout(timeout: Duration) -> Result<(), String> {
    if timeout.subsec_nanos() != 0 || timeout.is_zero() {
        return Err(format!(
            "a NAT timeout of {timeout:?} is not a whole number of seconds, and a NAT's \
             timeouts are whole seconds (as conntrack counts them); give 1 s or more"
        ));
    }
    if timeout > MAX_TIMEOUT {
        return Err(format!(
            "a NAT timeout of {timeout:?} is longer than a day, the longest a NAT keeps an idle \
             flow here"
        ));
    }
    Ok(())
}

impl Preset {
    /// Every preset, in the order documentation lists them.
    pub const ALL: [Preset; 5] = [
        Preset::FullCone,
        Preset::RestrictedCone,
        Preset::PortRestricted,
        Preset::Symmetric,
        Preset::Cgnat,
    ];

    /// The name written in `type=`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::FullCone => "full-cone",
            Preset::RestrictedCone => "restricted-cone",
            Preset::PortRestricted => "port-restricted",
            Preset::Symmetric => "symmetric",
            Preset::Cgnat => "cgnat",
        }
    }

    /// The preset named `name` in `type=`.
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What the preset is. Home presets (all but `cgnat`) do not hairpin, as many home routers
    /// do not, and keep the IPv6 firewall of a home router; `cgnat` hairpins (RFC 4787 REQ-9,
    /// which RFC 6888 REQ-1 carries over to carrier-grade NATs) and leaves IPv6 alone.
    pub fn behaviour(self) -> Behaviour {
        use Filtering as F;
        use Mapping as M;
        let (mapping, filtering) = match self {
            Preset::FullCone => (M::EndpointIndependent, F::EndpointIndependent),
            Preset::RestrictedCone => (M::EndpointIndependent, F::AddressDependent),
            Preset::PortRestricted => (M::EndpointIndependent, F::AddressAndPortDependent),
            Preset::Symmetric => (M::AddressAndPortDependent, F::AddressAndPortDependent),
            Preset::Cgnat => (M::EndpointIndependent, F::EndpointIndependent),
        };
        let home = self != Preset::Cgnat;
        Behaviour {
            mapping,
            filtering,
            hairpin: !home,
            firewall6: home,
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Mapping {
    /// The name written in `mapping=`.
    pub fn name(self) -> &'static str {
        match self {
            Mapping::EndpointIndependent => "endpoint-independent",
            Mapping::AddressDependent => "address-dependent",
            Mapping::AddressAndPortDependent => "address-and-port-dependent",
        }
    }
}

impl Filtering {
    /// The name written in `filtering=`.
    pub fn name(self) -> &'static str {
        match self {
            Filtering::EndpointIndependent => "endpoint-independent",
            Filtering::AddressDependent => "address-dependent",
            Filtering::AddressAndPortDependent => "address-and-port-dependent",
        }
    }
}

/// A transport protocol a port forward carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// `forward=tcp:8080:server:80`: a port on the NAT's outside address that reaches a node
/// inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortForward {
    pub protocol: Protocol,
    /// The port on the outside address.
    pub outside_port: u16,
    /// The node it reaches (index into [`Plan::nodes`](crate::Plan)).
    pub node: usize,
    /// That node's address: the one on its interface nearest the NAT.
    pub address: Ipv4Addr,
    /// The port there.
    pub port: u16,
}

/// `pinhole=tcp:server:80`: a port of a node inside that the NAT's IPv6 firewall lets anyone
/// reach, at the node's own (global, untranslated) IPv6 address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pinhole {
    pub protocol: Protocol,
    /// The node it reaches (index into [`Plan::nodes`](crate::Plan)).
    pub node: usize,
    /// That node's IPv6 addresses: one per interface.
    pub addresses: Vec<Ipv6Addr>,
    /// The port there.
    pub port: u16,
}

/// One flow a NAT translates, as conntrack has it: which inside endpoint goes out as which
/// outside one, to whom (`Nat::mappings` of the runtime).
///
/// Both kinds are listed: flows an inside node started (source-translated) and flows let in
/// from outside (destination-translated: a port forward, or a full-cone NAT's open mapping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NatMapping {
    /// `tcp` or `udp`.
    pub protocol: Protocol,
    /// The inside node's address and port.
    pub inside: SocketAddrV4,
    /// The NAT's outside address and the port the flow has there.
    pub outside: SocketAddrV4,
    /// The endpoint outside.
    pub remote: SocketAddrV4,
}

impl fmt::Display for NatMapping {
    /// `udp 192.168.1.2:4000 -> 203.0.113.2:4000 -> 198.51.100.7:3478`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {} -> {}",
            self.protocol.name(),
            self.inside,
            self.outside,
            self.remote
        )
    }
}

/// One router declared `nat`: everything its rules need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatPlan {
    /// The router (index into [`Plan::nodes`](crate::Plan)).
    pub node: usize,
    /// The preset the NAT starts from: the one `type=` names, `port-restricted` without it (for
    /// reports). `None` only in a plan made by hand from a [`Behaviour`].
    pub preset: Option<Preset>,
    /// What the NAT does, the preset's with the text's overrides.
    pub behaviour: Behaviour,
    /// The UDP mapping timeout (`timeout=`).
    pub timeout: Duration,
    /// How long an established TCP connection lives idle (`tcp-timeout=`).
    pub tcp_timeout: Duration,
    /// The router's interface towards the outside (`eth1`).
    pub outside: String,
    /// The router's IPv4 address there: the address every inside flow leaves with.
    pub outside_ipv4: Ipv4Addr,
    /// The router's other interfaces, all inside.
    pub inside: Vec<String>,
    /// The port forwards, in the order written.
    pub forwards: Vec<PortForward>,
    /// The holes in the IPv6 firewall, in the order written.
    pub pinholes: Vec<Pinhole>,
}

impl NatPlan {
    /// The behaviour in a few words, for pictures and reports: `port-restricted` for a preset
    /// as it is, else the mapping and filtering (`EIM, APDF, hairpin`).
    pub fn describe(&self) -> String {
        if let Some(preset) = self.preset
            && preset.behaviour() == self.behaviour
        {
            return preset.name().to_owned();
        }
        let b = self.behaviour;
        let short = |name: &str| -> String {
            name.split('-')
                .filter(|w| *w != "and")
                .map(|w| w[..1].to_ascii_uppercase())
                .collect()
        };
        let mut words = vec![
            format!("{}M", short(b.mapping.name())),
            format!("{}F", short(b.filtering.name())),
        ];
        if b.hairpin {
            words.push("hairpin".to_owned());
        }
        words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_the_rfc_4787_behaviours_their_names_mean() {
        use Filtering as F;
        use Mapping as M;
        let rules: Vec<(&str, M, F, bool, bool)> = Preset::ALL
            .iter()
            .map(|p| {
                let b = p.behaviour();
                (p.name(), b.mapping, b.filtering, b.hairpin, b.firewall6)
            })
            .collect();
        assert_eq!(
            rules,
            [
                (
                    "full-cone",
                    M::EndpointIndependent,
                    F::EndpointIndependent,
                    false,
                    true
                ),
                (
                    "restricted-cone",
                    M::EndpointIndependent,
                    F::AddressDependent,
                    false,
                    true
                ),
                (
                    "port-restricted",
                    M::EndpointIndependent,
                    F::AddressAndPortDependent,
                    false,
                    true
                ),
                (
                    "symmetric",
                    M::AddressAndPortDependent,
                    F::AddressAndPortDependent,
                    false,
                    true
                ),
                (
                    "cgnat",
                    M::EndpointIndependent,
                    F::EndpointIndependent,
                    true,
                    false
                ),
            ]
        );
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.name()), Some(preset));
        }
    }

    #[test]
    fn a_changed_preset_is_described_by_its_behaviour() {
        let mut nat = NatPlan {
            node: 0,
            preset: Some(Preset::PortRestricted),
            behaviour: Preset::PortRestricted.behaviour(),
            timeout: DEFAULT_TIMEOUT,
            tcp_timeout: DEFAULT_TCP_TIMEOUT,
            outside: "eth1".into(),
            outside_ipv4: Ipv4Addr::new(203, 0, 113, 2),
            inside: vec!["eth0".into()],
            forwards: Vec::new(),
            pinholes: Vec::new(),
        };
        assert_eq!(nat.describe(), "port-restricted");
        nat.behaviour.hairpin = true;
        assert_eq!(nat.describe(), "EIM, APDF, hairpin");
        nat.behaviour.mapping = Mapping::AddressDependent;
        nat.behaviour.hairpin = false;
        assert_eq!(nat.describe(), "ADM, APDF");
    }
}
