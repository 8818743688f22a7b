//! [`Topology::to_dot`]: the network as a Graphviz graph, drawn from its plan.
//!
//! The drawing shows what the plan decided, not only what the text said: every node with its
//! role, every link with the interface and address at each end, and every segment's subnet.
//!
//! - A node is a rounded box with its name and one row per interface (`eth0 10.0.100.1`). A
//!   router (two links or more, so it forwards) is filled and says `router`; `host`, the test's
//!   own namespace, is dashed and says so.
//! - A switch is a grey box that carries its segment's subnet, since all of its links share it.
//! - A link is one edge, from the row of the interface at one end to the row at the other, and
//!   labelled with its subnet. (Labels at the ends of an edge, Graphviz's `taillabel` and
//!   `headlabel`, were tried first: Graphviz lays them over nodes and each other, while a row
//!   inside the node always reads.)
//!
//! The output is deterministic: the plan's order, fixed attribute order, no hash maps. This
//! module is compiled into the attribute macro as well, so it uses only `std`.

use std::fmt::Write as _;

use crate::Topology;
use crate::nat::NatPlan;
use crate::plan::{NodePlan, Place, Plan, VethEnd};

impl Topology {
    /// The network as a Graphviz graph (`dot -Tsvg` draws it).
    ///
    /// ```
    /// # use netns_test_topology::Topology;
    /// let topology = Topology::parse("client -- gateway -- server")?;
    /// let dot = topology.to_dot();
    /// assert!(dot.starts_with("graph topology {"));
    /// assert!(dot.contains("<td port=\"eth0\">eth0 10.0.1.1</td>"));
    /// assert!(dot.contains("\"client\":\"eth0\" -- \"gateway\":\"eth0\" [label=\"10.0.1.0/24\"];"));
    /// # Ok::<(), netns_test_topology::TopologyError>(())
    /// ```
    pub fn to_dot(&self) -> String {
        render(self.plan())
    }
}

fn render(plan: &Plan) -> String {
    let mut dot = String::from("graph topology {\n");
    dot.push_str("  graph [rankdir=LR, fontname=\"Helvetica\", nodesep=0.4, ranksep=1.1];\n");
    dot.push_str("  node [shape=plain, fontname=\"Helvetica\", fontsize=12];\n");
    dot.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (index, node) in plan.nodes.iter().enumerate() {
        let nat = plan.nats.iter().find(|nat| nat.node == index);
        let _ = writeln!(
            dot,
            "  {} [label=<{}>];",
            quote(&node.name),
            node_table(node, nat)
        );
    }
    for (index, bridge) in plan.bridges.iter().enumerate() {
        let subnet = plan
            .veths
            .iter()
            .find(|veth| veth.b.place == Place::Bridge(index))
            .and_then(|veth| end_interface(plan, &veth.a))
            .map(|(_, interface)| interface.shown_subnet())
            .unwrap_or_default();
        let label = format!("{}\\nswitch {subnet}", bridge.switch);
        let _ = writeln!(
            dot,
            "  {} [shape=box, style=filled, fillcolor=\"#e8e8e8\", label={}];",
            quote(&bridge.switch),
            quote(label.trim_end())
        );
    }
    for veth in &plan.veths {
        let Some((a_name, a)) = end_interface(plan, &veth.a) else {
            continue;
        };
        let tail = format!("{}:{}", quote(a_name), quote(&a.name));
        match &veth.b.place {
            Place::Bridge(bridge) => {
                let Some(bridge) = plan.bridges.get(*bridge) else {
                    continue;
                };
                let _ = writeln!(dot, "  {tail} -- {};", quote(&bridge.switch));
            }
            Place::Node(_) => {
                let Some((b_name, b)) = end_interface(plan, &veth.b) else {
                    continue;
                };
                let head = format!("{}:{}", quote(b_name), quote(&b.name));
                let subnet = quote(&a.shown_subnet());
                let _ = writeln!(dot, "  {tail} -- {head} [label={subnet}];");
            }
        }
    }
    dot.push_str("}\n");
    dot
}

/// A node as an HTML-like table: its name, then one row per interface, which is the port its
/// link's edge ends at. Routers are filled; `host` is dashed; a NAT says what kind it is, and
/// marks its outside interface.
fn node_table(node: &NodePlan, nat: Option<&NatPlan>) -> String {
    let mut style = String::from("rounded");
    if node.is_host {
        style.push_str(",dashed");
    }
    let fill = if node.forwarding {
        " bgcolor=\"#d6e6f5\""
    } else {
        ""
    };
    let mut title = format!("<b>{}</b>", html(&node.name));
    match (node.is_host, node.forwarding) {
        (true, true) => title.push_str("<br/><i>the test's namespace, router</i>"),
        (true, false) => title.push_str("<br/><i>the test's namespace</i>"),
        (false, true) => title.push_str("<br/><i>router</i>"),
        (false, false) => {}
    }
    if let Some(nat) = nat {
        title = format!(
            "<b>{}</b><br/><i>NAT: {}</i>",
            html(&node.name),
            html(&nat.describe())
        );
    }
    let mut table = format!(
        "<table border=\"1\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"3\" \
         style=\"{style}\"{fill}><tr><td>{title}</td></tr>"
    );
    for interface in &node.interfaces {
        let outside = match nat {
            Some(nat) if nat.outside == interface.name => " <i>(outside)</i>",
            _ => "",
        };
        let _ = write!(
            table,
            "<tr><td port=\"{0}\">{0} {1}{outside}</td></tr>",
            html(&interface.name),
            html(&interface.shown_addr())
        );
    }
    table.push_str("</table>");
    table
}

/// Text made safe inside an HTML-like label.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The node name and interface at a node end of a veth.
fn end_interface<'p>(plan: &'p Plan, end: &VethEnd) -> Option<(&'p str, &'p super::InterfacePlan)> {
    let Place::Node(node) = end.place else {
        return None;
    };
    let node = plan.nodes.get(node)?;
    Some((&node.name, node.interface(&end.ifname)?))
}

/// A DOT string literal. Names are plain ASCII already; this keeps any text safe. A `\n` in
/// the text (written as the two characters `\` `n`) is left for DOT to read as a line break.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'n') => quoted.push('\\'),
            '\\' | '"' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '\n' => quoted.push_str("\\n"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(text: &str) -> String {
        Topology::parse(text).unwrap().to_dot()
    }

    const HEADER: &str = "graph topology {
  graph [rankdir=LR, fontname=\"Helvetica\", nodesep=0.4, ranksep=1.1];
  node [shape=plain, fontname=\"Helvetica\", fontsize=12];
  edge [fontname=\"Helvetica\", fontsize=10];
";

    const TABLE: &str =
        "<table border=\"1\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"3\" style=\"rounded";

    #[test]
    fn router_between_two_hosts() {
        let text =
            "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]";
        let expected = format!(
            "{HEADER}  \"client\" [label=<{TABLE}\"><tr><td><b>client</b></td></tr>\
             <tr><td port=\"eth0\">eth0 10.0.100.1</td></tr></table>>];
  \"gateway\" [label=<{TABLE}\" bgcolor=\"#d6e6f5\"><tr><td><b>gateway</b><br/><i>router</i></td></tr>\
             <tr><td port=\"eth0\">eth0 10.0.100.254</td></tr>\
             <tr><td port=\"eth1\">eth1 192.168.100.254</td></tr></table>>];
  \"server\" [label=<{TABLE}\"><tr><td><b>server</b></td></tr>\
             <tr><td port=\"eth0\">eth0 192.168.100.1</td></tr></table>>];
  \"client\":\"eth0\" -- \"gateway\":\"eth0\" [label=\"10.0.100.0/24\"];
  \"gateway\":\"eth1\" -- \"server\":\"eth0\" [label=\"192.168.100.0/24\"];
}}
"
        );
        assert_eq!(dot(text), expected);
    }

    #[test]
    fn switch_carries_its_subnet() {
        let expected = format!(
            "{HEADER}  \"net0\" [label=<{TABLE}\"><tr><td><b>net0</b></td></tr>\
             <tr><td port=\"eth0\">eth0 10.0.1.1</td></tr></table>>];
  \"net1\" [label=<{TABLE}\"><tr><td><b>net1</b></td></tr>\
             <tr><td port=\"eth0\">eth0 10.0.1.2</td></tr></table>>];
  \"br0\" [shape=box, style=filled, fillcolor=\"#e8e8e8\", label=\"br0\\nswitch 10.0.1.0/24\"];
  \"net0\":\"eth0\" -- \"br0\";
  \"net1\":\"eth0\" -- \"br0\";
}}
"
        );
        assert_eq!(dot("switch br0; {net0 net1} -- br0"), expected);
    }

    #[test]
    fn host_namespace_and_lone_nodes() {
        let expected = format!(
            "{HEADER}  \"host\" [label=<{TABLE},dashed\"><tr><td><b>host</b><br/>\
             <i>the test's namespace</i></td></tr>\
             <tr><td port=\"eth0\">eth0 10.0.0.1</td></tr></table>>];
  \"nstest\" [label=<{TABLE}\"><tr><td><b>nstest</b></td></tr>\
             <tr><td port=\"eth0\">eth0 10.0.0.2</td></tr></table>>];
  \"lone\" [label=<{TABLE}\"><tr><td><b>lone</b></td></tr></table>>];
  \"host\":\"eth0\" -- \"nstest\":\"eth0\" [label=\"10.0.0.0/24\"];
}}
"
        );
        assert_eq!(dot("host -- nstest [subnet=10.0.0.0/24]; lone"), expected);
        assert!(dot("a -- host -- b").contains(
            "style=\"rounded,dashed\" bgcolor=\"#d6e6f5\"><tr><td><b>host</b><br/>\
             <i>the test's namespace, router</i>"
        ));
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(html("<a&\"b>"), "&lt;a&amp;&quot;b&gt;");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("a\\nb"), "\"a\\nb\"");
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn same_text_same_drawing() {
        for text in crate::tests::support::EXAMPLES {
            assert_eq!(dot(text), dot(text), "{text:?}");
            let edges = dot(text).matches(" -- ").count();
            let links = Topology::parse(text).unwrap().plan().veths.len();
            assert_eq!(edges, links, "{text:?}: one edge per link");
        }
    }
}
