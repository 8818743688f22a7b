//! Attributes, the `[key=value, ...]` after a chain or on a line of their own: the table of
//! known keys with how to read each value. The parser reads the list's tokens and hands each
//! entry to [`read`].

use std::time::Duration;

use crate::error::Diagnostic;
use crate::nat::{Filtering, Mapping, Preset, Protocol};
use crate::settings;
use crate::suggest::did_you_mean;
use crate::syntax::{Attributes, Forward, NatAttributes, Pinhole, Spanned};
use crate::{Ipv4Cidr, Ipv6Cidr};

/// One known attribute: its key and how to read its value into [`Attributes`].
struct AttributeKind {
    key: &'static str,
    example: &'static str,
    set: fn(&mut Attributes, Spanned<&str>) -> Result<(), Diagnostic>,
}

/// Every attribute a chain may carry.
const ATTRIBUTES: [AttributeKind; 14] = [
    AttributeKind {
        key: "subnet",
        example: "subnet=10.0.100.0/24",
        set: set_subnet,
    },
    AttributeKind {
        key: "subnet6",
        example: "subnet6=fd00:0:0:100::/64",
        set: set_subnet6,
    },
    AttributeKind {
        key: "ipv6",
        example: "[ipv6=off]",
        set: |a, v| {
            a.ipv6 = Some(on_off("ipv6", v, "[ipv6=off]")?);
            Ok(())
        },
    },
    AttributeKind {
        key: "ipv4",
        example: "[ipv4=off]",
        set: |a, v| {
            a.ipv4 = Some(on_off("ipv4", v, "[ipv4=off]")?);
            Ok(())
        },
    },
    AttributeKind {
        key: "mtu",
        example: "mtu=1280",
        set: |a, v| {
            a.mtu_span = Some(v.span.clone());
            a.link.mtu = Some(setting(v, settings::parse_mtu)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "rate",
        example: "rate=10mbit",
        set: |a, v| {
            a.link.rate = Some(directed(v, settings::parse_rate)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "delay",
        example: "delay=50ms",
        set: |a, v| {
            a.link.delay_us = Some(directed(v, settings::parse_delay)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "loss",
        example: "loss=1%",
        set: |a, v| {
            a.link.loss_ppm = Some(directed(v, settings::parse_loss)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "jitter",
        example: "jitter=5ms",
        set: |a, v| {
            a.link.jitter_us = Some(directed(v, settings::parse_jitter)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "burst",
        example: "burst=4",
        set: |a, v| {
            a.link.burst = Some(directed(v, settings::parse_burst)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "duplicate",
        example: "duplicate=1%",
        set: |a, v| {
            a.link.duplicate_ppm = Some(directed(v, settings::parse_duplicate)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "reorder",
        example: "reorder=25%",
        set: |a, v| {
            a.link.reorder_ppm = Some(directed(v, settings::parse_reorder)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "corrupt",
        example: "corrupt=0.1%",
        set: |a, v| {
            a.link.corrupt_ppm = Some(directed(v, settings::parse_corrupt)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "profile",
        example: "profile=lte",
        set: |a, v| {
            settings::apply_profile(v.value, &mut a.link)
                .map_err(|message| Diagnostic::new(v.span, message))
        },
    },
];

/// Reads an impairment's value, one or one per direction (`20ms/5ms`), with `parse`.
fn directed<T: Copy>(
    value: Spanned<&str>,
    parse: fn(&str) -> Result<T, String>,
) -> Result<settings::Directed<T>, Diagnostic> {
    settings::parse_directed(value.value, parse)
        .map_err(|message| Diagnostic::new(value.span, message))
}

/// Reads a link setting's value with `parse`, reporting a problem on the value.
fn setting<T>(value: Spanned<&str>, parse: fn(&str) -> Result<T, String>) -> Result<T, Diagnostic> {
    parse(value.value).map_err(|message| Diagnostic::new(value.span, message))
}

fn set_subnet(attributes: &mut Attributes, value: Spanned<&str>) -> Result<(), Diagnostic> {
    let subnet = Ipv4Cidr::parse_subnet(value.value, value.span.clone())?;
    attributes.subnet = Some(Spanned {
        value: subnet,
        span: value.span,
    });
    Ok(())
}

fn set_subnet6(attributes: &mut Attributes, value: Spanned<&str>) -> Result<(), Diagnostic> {
    let subnet = Ipv6Cidr::parse_subnet(value.value, value.span.clone())?;
    attributes.subnet6 = Some(Spanned {
        value: subnet,
        span: value.span,
    });
    Ok(())
}

/// Reads `on` or `off` for `key`; a wrong value is answered with `example`, a valid entry
/// (`[ipv6=off]`, `hairpin=on`).
fn on_off(key: &str, value: Spanned<&str>, example: &str) -> Result<Spanned<bool>, Diagnostic> {
    let on = match value.value {
        "on" => true,
        "off" => false,
        other => {
            let message = format!("`{key}` is `on` or `off`, not `{other}`: write `{example}`");
            return Err(Diagnostic::new(value.span, message));
        }
    };
    Ok(Spanned {
        value: on,
        span: value.span,
    })
}

/// Reads one attribute of a chain's list (or of options) into `attributes`: its `key`, whether
/// an `=` followed it, and the value after that, if any. `keys` holds the keys the list had
/// before this one.
pub(crate) fn read<'t>(
    key: Spanned<&'t str>,
    equals: bool,
    value: Option<Spanned<&'t str>>,
    attributes: &mut Attributes,
    keys: &mut Vec<&'t str>,
) -> Result<(), Diagnostic> {
    let kind = find(&ATTRIBUTES, &key, |k| k.key, "attributes")?;
    let value = entry(&key, equals, value, kind.example, keys, false)?;
    (kind.set)(attributes, value)
}

/// Reads one attribute of a `nat` statement's list, as [`read`] does for a chain's.
pub(crate) fn read_nat<'t>(
    key: Spanned<&'t str>,
    equals: bool,
    value: Option<Spanned<&'t str>>,
    attributes: &mut NatAttributes,
    keys: &mut Vec<&'t str>,
) -> Result<(), Diagnostic> {
    let kind = find(&NAT_ATTRIBUTES, &key, |k| k.key, "attributes of `nat`")?;
    let repeatable = matches!(kind.key, "forward" | "pinhole");
    let value = entry(&key, equals, value, kind.example, keys, repeatable)?;
    (kind.set)(attributes, value)
}

/// The entry of `table` for `key`, or an error listing the valid keys.
fn find<'k, K>(
    table: &'k [K],
    key: &Spanned<&str>,
    key_of: impl Fn(&K) -> &'static str,
    what: &str,
) -> Result<&'k K, Diagnostic> {
    if let Some(kind) = table.iter().find(|k| key_of(k) == key.value) {
        return Ok(kind);
    }
    let valid: Vec<&str> = table.iter().map(key_of).collect();
    let hint = did_you_mean(key.value, &valid)
        .map_or(";".to_owned(), |key| format!(": did you mean `{key}`?"));
    let message = format!(
        "unknown attribute `{}`{hint} valid {what}: `{}`",
        key.value,
        valid.join("`, `")
    );
    Err(Diagnostic::new(key.span.clone(), message))
}

/// The value of one `key=value`, once the key is known: given once (unless `repeatable`), with
/// its `=`.
fn entry<'t>(
    key: &Spanned<&'t str>,
    equals: bool,
    value: Option<Spanned<&'t str>>,
    example: &str,
    keys: &mut Vec<&'t str>,
    repeatable: bool,
) -> Result<Spanned<&'t str>, Diagnostic> {
    let message = match value {
        _ if !repeatable && keys.contains(&key.value) => {
            format!("attribute `{}` is given twice; give it once", key.value)
        }
        Some(value) if equals => {
            keys.push(key.value);
            return Ok(value);
        }
        Some(value) => format!(
            "missing `=` between `{}` and `{}`, as in `{}`",
            key.value, value.value, example
        ),
        None => format!(
            "attribute `{}` needs a value, as in `{}`",
            key.value, example
        ),
    };
    Err(Diagnostic::new(key.span.clone(), message))
}

/// One attribute of a `nat` statement.
struct NatAttributeKind {
    key: &'static str,
    example: &'static str,
    set: fn(&mut NatAttributes, Spanned<&str>) -> Result<(), Diagnostic>,
}

/// Every attribute a `nat` statement may carry.
const NAT_ATTRIBUTES: [NatAttributeKind; 10] = [
    NatAttributeKind {
        key: "outside",
        example: "outside=isp",
        set: |a, v| {
            a.outside = Some(Spanned {
                value: v.value.to_owned(),
                span: v.span,
            });
            Ok(())
        },
    },
    NatAttributeKind {
        key: "type",
        example: "type=port-restricted",
        set: |a, v| {
            a.preset = Some(named(v, "type", &Preset::ALL.map(|p| (p.name(), p)))?);
            Ok(())
        },
    },
    NatAttributeKind {
        key: "mapping",
        example: "mapping=endpoint-independent",
        set: |a, v| {
            a.mapping = Some(named(v, "mapping", &MAPPINGS.map(|m| (m.name(), m)))?);
            Ok(())
        },
    },
    NatAttributeKind {
        key: "filtering",
        example: "filtering=address-dependent",
        set: |a, v| {
            a.filtering = Some(named(v, "filtering", &FILTERINGS.map(|f| (f.name(), f)))?);
            Ok(())
        },
    },
    NatAttributeKind {
        key: "hairpin",
        example: "hairpin=on",
        set: |a, v| {
            a.hairpin = Some(on_off("hairpin", v, "hairpin=on")?);
            Ok(())
        },
    },
    NatAttributeKind {
        key: "firewall6",
        example: "firewall6=off",
        set: |a, v| {
            a.firewall6 = Some(on_off("firewall6", v, "firewall6=on")?);
            Ok(())
        },
    },
    NatAttributeKind {
        key: "timeout",
        example: "timeout=30s",
        set: |a, v| {
            a.timeout = Some(nat_timeout("timeout", v)?);
            Ok(())
        },
    },
    NatAttributeKind {
        key: "tcp-timeout",
        example: "tcp-timeout=30s",
        set: |a, v| {
            a.tcp_timeout = Some(nat_timeout("tcp-timeout", v)?);
            Ok(())
        },
    },
    NatAttributeKind {
        key: "forward",
        example: "forward=tcp:8080:server:80",
        set: |a, v| {
            let forward = parse_forward(v.value).map_err(|m| Diagnostic::new(v.span.clone(), m))?;
            a.forwards.push(Spanned {
                value: forward,
                span: v.span,
            });
            Ok(())
        },
    },
    NatAttributeKind {
        key: "pinhole",
        example: "pinhole=tcp:server:80",
        set: |a, v| {
            let pinhole = parse_pinhole(v.value).map_err(|m| Diagnostic::new(v.span.clone(), m))?;
            a.pinholes.push(Spanned {
                value: pinhole,
                span: v.span,
            });
            Ok(())
        },
    },
];

const MAPPINGS: [Mapping; 3] = [
    Mapping::EndpointIndependent,
    Mapping::AddressDependent,
    Mapping::AddressAndPortDependent,
];

const FILTERINGS: [Filtering; 3] = [
    Filtering::EndpointIndependent,
    Filtering::AddressDependent,
    Filtering::AddressAndPortDependent,
];

/// Reads `timeout=` or `tcp-timeout=` (`key`): a duration in whole seconds (conntrack counts
/// seconds), from 1 s to a day.
fn nat_timeout(key: &str, value: Spanned<&str>) -> Result<Spanned<Duration>, Diagnostic> {
    let text = value.value;
    let problem = match crate::duration::parse_micros(text, "30s") {
        Err(problem) => problem,
        Ok(micros) => {
            let timeout = Duration::from_micros(micros);
            if timeout.subsec_nanos() != 0 || timeout.is_zero() {
                format!(
                    "`{key}={text}` is not a whole number of seconds, and a NAT's timeouts are \
                     whole seconds (as conntrack counts them); write `{key}=1s` or more, as in \
                     `{key}=30s`"
                )
            } else if timeout > crate::nat::MAX_TIMEOUT {
                format!(
                    "`{key}={text}` is longer than a day, the longest a NAT keeps an idle flow \
                     here; write `{key}=1440m` or less, as in `{key}=5m`"
                )
            } else {
                return Ok(Spanned {
                    value: timeout,
                    span: value.span,
                });
            }
        }
    };
    Err(Diagnostic::new(value.span, problem))
}

/// Reads `forward=PROTOCOL:PORT:NODE[:PORT]`: `tcp:8080:server:80`, or `udp:5000:peer` for the
/// same port inside.
fn parse_forward(text: &str) -> Result<Forward, String> {
    let example = "as in `forward=tcp:8080:server:80` (the outside port, then the node and its \
                   port) or `forward=udp:5000:peer` (the same port)";
    let parts: Vec<&str> = text.split(':').collect();
    let (protocol, outside, node, inside) = match parts[..] {
        [protocol, outside, node] => (protocol, outside, node, outside),
        [protocol, outside, node, inside] => (protocol, outside, node, inside),
        _ => {
            return Err(format!(
                "`forward={text}` is not a port forward: write it {example}"
            ));
        }
    };
    let written = format!("forward={text}");
    let protocol = protocol_of(protocol, &written, "a port forward", example)?;
    let port = |word: &str| port_of(word, &written, example);
    let (outside_port, port) = (port(outside)?, port(inside)?);
    if node.is_empty() {
        return Err(format!(
            "`forward={text}` names no node: write it {example}"
        ));
    }
    Ok(Forward {
        protocol,
        outside_port,
        node: node.to_owned(),
        port,
    })
}

/// Reads `pinhole=PROTOCOL:NODE:PORT`: `tcp:server:80`.
fn parse_pinhole(text: &str) -> Result<Pinhole, String> {
    let example = "as in `pinhole=tcp:server:80` (the protocol, the node inside and its port)";
    let written = format!("pinhole={text}");
    let [protocol, node, port] = text.split(':').collect::<Vec<_>>()[..] else {
        return Err(format!("`{written}` is not a pinhole: write it {example}"));
    };
    let protocol = protocol_of(protocol, &written, "a pinhole", example)?;
    let port = port_of(port, &written, example)?;
    if node.is_empty() {
        return Err(format!("`{written}` names no node: write it {example}"));
    }
    Ok(Pinhole {
        protocol,
        node: node.to_owned(),
        port,
    })
}

/// The protocol `word` of `written` (a port forward or pinhole: `what`).
fn protocol_of(word: &str, written: &str, what: &str, example: &str) -> Result<Protocol, String> {
    match word {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        other => Err(format!(
            "`{other}` in `{written}` is not a protocol: {what} is `tcp` or `udp`, {example}"
        )),
    }
}

/// The port `word` of `written`: 1 to 65535.
fn port_of(word: &str, written: &str, example: &str) -> Result<u16, String> {
    match word.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!(
            "`{word}` in `{written}` is not a port: a port is a number from 1 to 65535, {example}"
        )),
    }
}

/// Reads a value from its `names`, or says which are valid (with the closest).
fn named<T: Copy>(
    value: Spanned<&str>,
    key: &str,
    names: &[(&'static str, T)],
) -> Result<Spanned<T>, Diagnostic> {
    if let Some(&(_, found)) = names.iter().find(|(name, _)| *name == value.value) {
        return Ok(Spanned {
            value: found,
            span: value.span,
        });
    }
    let valid: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
    let hint = did_you_mean(value.value, &valid)
        .map_or(";".to_owned(), |name| format!(": did you mean `{name}`?"));
    let message = format!(
        "unknown {key} `{}`{hint} `{key}=` is one of `{}`",
        value.value,
        valid.join("`, `")
    );
    Err(Diagnostic::new(value.span, message))
}
