//! Did you mean: the one suggestion for a misspelt word, used for topology attributes and
//! keywords, the attribute macro's keys, and node names at compile time and at run time.

/// The candidate that `word` is most likely a misspelling of, if one is close enough.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|&c| (edit_distance(&word, c), c))
        // A word that shares no letter with a one-letter name is no typo of it.
        .filter(|&(distance, c)| distance <= (c.len() / 3).max(1) && distance < c.chars().count())
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// What to say of `name`, which names none of `nodes`: that the topology has no such node, the
/// node it is most likely a misspelling of (by [`did_you_mean`]), and every node there is. The
/// attribute says it at compile time of `node = "..."`, and `Net::node` at run time, so the two
/// read alike.
///
/// ```
/// use netns_test_topology::unknown_node;
///
/// assert_eq!(
///     unknown_node("gatway", &["client", "gateway", "server"]),
///     "the topology has no node `gatway`: did you mean `gateway`? its nodes are `client`, \
///      `gateway`, `server`"
/// );
/// ```
pub fn unknown_node(name: &str, nodes: &[&str]) -> String {
    let listed = nodes
        .iter()
        .map(|node| format!("`{node}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match did_you_mean(name, nodes) {
        Some(node) => format!(
            "the topology has no node `{name}`: did you mean `{node}`? its nodes are {listed}"
        ),
        None => format!("the topology has no node `{name}`; its nodes are {listed}"),
    }
}

/// Levenshtein distance, counting an adjacent transposition as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows: the one before the previous is needed for transpositions.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                current[j] = current[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["subnet", "mtu"];
        assert_eq!(did_you_mean("subnt", &keys), Some("subnet"));
        assert_eq!(did_you_mean("sbunet", &keys), Some("subnet"));
        assert_eq!(did_you_mean("SUBNET", &keys), Some("subnet"));
        assert_eq!(did_you_mean("subnets", &keys), Some("subnet"));
        assert_eq!(did_you_mean("mut", &keys), Some("mtu"));
        assert_eq!(did_you_mean("prefix", &keys), None);
        assert_eq!(did_you_mean("su", &keys), None);
        assert_eq!(did_you_mean("c", &["a", "b"]), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn an_unknown_node_gets_the_closest_name_and_the_list() {
        let nodes = ["client", "gateway", "server", "host"];
        assert_eq!(
            unknown_node("sever", &nodes),
            "the topology has no node `sever`: did you mean `server`? its nodes are `client`, \
             `gateway`, `server`, `host`"
        );
        assert_eq!(
            unknown_node("Gateway", &nodes),
            "the topology has no node `Gateway`: did you mean `gateway`? its nodes are \
             `client`, `gateway`, `server`, `host`"
        );
        assert_eq!(
            unknown_node("database", &nodes),
            "the topology has no node `database`; its nodes are `client`, `gateway`, `server`, \
             `host`"
        );
    }
}
