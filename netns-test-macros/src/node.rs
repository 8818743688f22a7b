//! Checks `node = "..."` against the topology at compile time, so that a misspelled node is an
//! error on the literal that suggests the closest name and lists the nodes there are, not a panic
//! when the test runs.

use syn::LitStr;

use netns_test_topology::{HOST, Topology, unknown_node};

/// Checks that `node` names a node of the topology `text` (already known to be valid), or
/// `host`.
pub(crate) fn check(node: &LitStr, text: &str) -> syn::Result<()> {
    let name = node.value();
    let Ok(topology) = Topology::parse(text) else {
        // The topology's own errors are reported already.
        return Ok(());
    };
    let mut names: Vec<&str> = topology.node_names().collect();
    if name == HOST || names.contains(&name.as_str()) {
        return Ok(());
    }
    if !names.contains(&HOST) {
        names.push(HOST);
    }
    let message = if topology.switch_names().any(|switch| switch == name) {
        let listed = names
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("`{name}` is a switch, and a body runs in a node: one of {listed}")
    } else {
        unknown_node(&name, &names)
    };
    Err(syn::Error::new(node.span(), message))
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;
    use syn::LitStr;

    use super::check;

    fn message(node: &str, text: &str) -> Option<String> {
        check(&LitStr::new(node, Span::call_site()), text)
            .err()
            .map(|error| error.to_string())
    }

    #[test]
    fn nodes_and_host_are_accepted() {
        assert_eq!(message("client", "client -- server"), None);
        assert_eq!(message("host", "client -- server"), None);
        assert_eq!(message("host", "host -- server"), None);
    }

    #[test]
    fn an_unknown_node_lists_the_nodes() {
        assert_eq!(
            message("database", "client -- gateway -- server").as_deref(),
            Some(
                "the topology has no node `database`; its nodes are `client`, `gateway`, \
                 `server`, `host`"
            )
        );
        assert_eq!(
            message("sever", "client -- gateway -- server").as_deref(),
            Some(
                "the topology has no node `sever`: did you mean `server`? its nodes are \
                 `client`, `gateway`, `server`, `host`"
            )
        );
        assert_eq!(
            message("lan", "switch lan; {a b} -- lan").as_deref(),
            Some("`lan` is a switch, and a body runs in a node: one of `a`, `b`, `host`")
        );
    }
}
