//! [`Net::set_name`] and [`Net::remove_name`]: names of the test's own besides the nodes', such
//! as `api.example.com`, for code that connects by a host name (TLS's server name, HTTP's
//! `Host`) or that must follow a name from one server to another.
//!
//! A name leads to a node exactly as that node's own name does: through `/etc/hosts` when the
//! node is public (the file is written anew in place), through the test's DNS responder for
//! every node (`dns/names.rs` decides the addresses each asker gets, behind NATs too). The
//! reverse name of an address stays the node's own name.

use super::net::Net;
use crate::kernel::mounts;
use crate::{Error, Result};

/// What is wrong with `name` as a host name (RFC 1123: dot-separated labels of letters, digits
/// and `-`, neither first nor last, 1 to 63 bytes each, 253 in all), if anything; a final dot
/// is allowed. Reverse names and names that read as IPv4 addresses are refused.
pub(crate) fn check(name: &str) -> std::result::Result<(), String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err(format!(
            "a name is 1 to 253 bytes long, and this one is {}",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "each part between dots is 1 to 63 bytes long, and `{label}` is {}",
                label.len()
            ));
        }
        if let Some(bad) = label
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
        {
            return Err(format!(
                "a name has letters, digits, `-` and dots only, and `{label}` has `{bad}`"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "a part may not start or end with `-`, as `{label}` does"
            ));
        }
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    if last.chars().all(|c| c.is_ascii_digit()) {
        return Err("its last part is a number, so it reads as an address".to_owned());
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".in-addr.arpa") || lower.ends_with(".ip6.arpa") {
        return Err("a reverse name is the node's own, and cannot be given".to_owned());
    }
    Ok(())
}

impl Net {
    /// Makes `name` (a host name such as `api.example.com`) resolve to node `node` from now on,
    /// in every node and in `host`, as that node's own name does: through `/etc/hosts` and
    /// over the test's DNS, with the address each asker reaches it at (behind a NAT too). A
    /// name already set moves to `node`, so a test can move a service from one server to
    /// another and watch its client follow. Names are not case-sensitive; the reverse name of
    /// an address stays the node's own.
    ///
    /// The next lookup sees a move: the C library's resolver does not cache, and the test's
    /// DNS answers with a TTL of 0, so a resolver that caches (Go's, hickory's) asks again.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] if `name` is not a host name, or is the name of a node or of
    /// `localhost`; an I/O error if `/etc/hosts` cannot be written anew.
    ///
    /// # Panics
    ///
    /// If the topology has no node `node` (the message names the closest one, as
    /// [`Net::node`] does).
    #[track_caller]
    pub fn set_name(&self, name: &str, node: &str) -> Result<()> {
        let node = self.node(node).index();
        let invalid = |problem: String| Error::InvalidName {
            name: name.to_owned(),
            problem,
        };
        check(name).map_err(invalid)?;
        let name = name.strip_suffix('.').unwrap_or(name);
        let mut names = self.names().write().unwrap_or_else(|e| e.into_inner());
        if names.is_given(name) {
            return Err(invalid(
                "it is already the name of a node (or of localhost), which cannot be moved"
                    .to_owned(),
            ));
        }
        names.set_alias(name, node);
        mounts::rewrite_hosts(&names.hosts_file())
    }

    /// Makes a name given by [`Net::set_name`] resolve nowhere from now on (lookups get
    /// NXDOMAIN, as for any other name the test does not know).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] if no such name was set; an I/O error if `/etc/hosts` cannot be
    /// written anew.
    pub fn remove_name(&self, name: &str) -> Result<()> {
        let given = name.strip_suffix('.').unwrap_or(name);
        let mut names = self.names().write().unwrap_or_else(|e| e.into_inner());
        if !names.remove_alias(given) {
            return Err(Error::InvalidName {
                name: name.to_owned(),
                problem: "no such name was set (`Net::set_name` sets one)".to_owned(),
            });
        }
        mounts::rewrite_hosts(&names.hosts_file())
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn host_names_pass_and_what_is_wrong_is_said() {
        for good in [
            "api.example.com",
            "db",
            "API.Example.COM.",
            "a-b.c1",
            "x.y.z.w.example",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        let wrong = |name: &str| check(name).unwrap_err();
        assert!(wrong("").contains("1 to 253"));
        assert!(wrong(&"a".repeat(254)).contains("1 to 253"));
        assert!(wrong("a..b").contains("`` is 0"));
        assert!(wrong(&format!("{}.com", "a".repeat(64))).contains("1 to 63"));
        assert!(wrong("api_v2.example.com").contains("`api_v2` has `_`"));
        assert!(wrong("-api.example.com").contains("start or end with `-`"));
        assert!(wrong("10.0.0.1").contains("reads as an address"));
        assert!(wrong("2.0.0.10.in-addr.arpa").contains("reverse name"));
    }
}
