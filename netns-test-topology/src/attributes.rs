//! Attributes, the `[key=value, ...]` after a chain or on a line of their own: the table of
//! known keys with how to read each value. The parser reads the list's tokens and hands each
//! entry to [`read`].

use crate::error::Diagnostic;
use crate::settings;
use crate::suggest::did_you_mean;
use crate::syntax::{Attributes, Spanned};
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
            a.ipv6 = Some(family("ipv6", v)?);
            Ok(())
        },
    },
    AttributeKind {
        key: "ipv4",
        example: "[ipv4=off]",
        set: |a, v| {
            a.ipv4 = Some(family("ipv4", v)?);
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

/// Reads the value of `ipv6=` or `ipv4=` (`key`): `on` or `off`.
fn family(key: &str, value: Spanned<&str>) -> Result<Spanned<bool>, Diagnostic> {
    let on = match value.value {
        "on" => true,
        "off" => false,
        other => {
            let message = format!("`{key}` is `on` or `off`, not `{other}`: write `[{key}=off]`");
            return Err(Diagnostic::new(value.span, message));
        }
    };
    Ok(Spanned {
        value: on,
        span: value.span,
    })
}
/// Reads one attribute of a list into `attributes`: its `key`, whether an `=` followed it, and
/// the value after that, if any. `keys` holds the keys the list had before this one.
pub(crate) fn read<'t>(
    key: Spanned<&'t str>,
    equals: bool,
    value: Option<Spanned<&'t str>>,
    attributes: &mut Attributes,
    keys: &mut Vec<&'t str>,
) -> Result<(), Diagnostic> {
    let Some(kind) = ATTRIBUTES.iter().find(|a| a.key == key.value) else {
        let valid: Vec<&str> = ATTRIBUTES.iter().map(|a| a.key).collect();
        let hint = did_you_mean(key.value, &valid)
            .map_or(";".to_owned(), |key| format!(": did you mean `{key}`?"));
        let message = format!(
            "unknown attribute `{}`{hint} valid attributes: `{}`",
            key.value,
            valid.join("`, `")
        );
        return Err(Diagnostic::new(key.span, message));
    };
    let message = match value {
        _ if keys.contains(&key.value) => {
            format!("attribute `{}` is given twice; give it once", key.value)
        }
        Some(value) if equals => {
            keys.push(key.value);
            return (kind.set)(attributes, value);
        }
        Some(value) => format!(
            "missing `=` between `{}` and `{}`, as in `{}`",
            key.value, value.value, kind.example
        ),
        None => format!(
            "attribute `{}` needs a value, as in `{}`",
            key.value, kind.example
        ),
    };
    Err(Diagnostic::new(key.span, message))
}
