//! `cargo xtask topo`: draws a topology with Graphviz.
//!
//! ```text
//! cargo xtask topo "client -- gateway -- server" [-o picture.svg]
//! cargo xtask topo --file net.topo [-o picture.svg]
//! cargo xtask topo --dot "client -- gateway -- server"     # the DOT text only
//! cargo xtask topo --text "client -- gateway -- server"    # the text picture of reports
//! cargo xtask topo --walkthroughs                          # docs/walkthrough-N.svg
//! ```
//!
//! The text is parsed by the runtime's own parser (`netns_test::topology`), so a topology this
//! draws is one a test can use, and a bad one gets the same messages as in a test. With `dot`
//! installed (Debian's `graphviz`), the SVG is written to the `-o` file (`topology.svg` by
//! default); without it, the DOT text is printed, to be drawn elsewhere.
//!
//! `--walkthroughs` reads the first `topology = "..."` of each walkthrough suite in
//! `examples/walkthroughs/` and writes its picture to `docs/walkthrough-N.svg`, so the README's
//! pictures are always drawn from the tests themselves.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use netns_test::topology::Topology;

/// The walkthrough suites, in the order of their numbers.
const WALKTHROUGHS: [&str; 4] = ["veth_pair", "bridge", "router", "host_namespace"];

pub(crate) fn run_topo(args: &[String]) -> Result<()> {
    let mut output = None;
    let mut text = None;
    let mut dot_only = false;
    let mut text_only = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--walkthroughs" => return walkthroughs(),
            "--dot" => dot_only = true,
            "--text" => text_only = true,
            "-o" | "--output" => {
                output = Some(PathBuf::from(
                    args.next().context("`-o` needs a file name")?,
                ));
            }
            "-f" | "--file" => {
                let path = args.next().context("`--file` needs a file name")?;
                text =
                    Some(fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?);
            }
            flag if flag.starts_with('-') && flag != "-" => bail!("unknown flag `{flag}`\n{USAGE}"),
            topology => text = Some(topology.to_owned()),
        }
    }
    let Some(text) = text else {
        bail!("no topology given\n{USAGE}");
    };
    let topology = parse(&text)?;
    if text_only {
        print!("{}", topology.picture());
        return Ok(());
    }
    let dot = topology.to_dot();
    if dot_only {
        print!("{dot}");
        return Ok(());
    }
    let output = output.unwrap_or_else(|| PathBuf::from("topology.svg"));
    match svg(&dot) {
        Ok(svg) => {
            fs::write(&output, svg)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("wrote {}", output.display());
        }
        Err(why) => {
            eprintln!("{why:#}; here is the DOT text instead (install graphviz to draw it):");
            print!("{dot}");
        }
    }
    Ok(())
}

const USAGE: &str = "usage: cargo xtask topo \"<topology>\" [-o file.svg] | --file <path> \
                     [-o file.svg] | --dot \"<topology>\" | --text \"<topology>\" | --walkthroughs";

fn parse(text: &str) -> Result<Topology> {
    Topology::parse(text).map_err(|error| anyhow::anyhow!("invalid topology:\n{error}"))
}

/// The SVG `dot` draws from `dot`, or why it could not.
fn svg(dot: &str) -> Result<Vec<u8>> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run `dot`")?;
    let mut stdin = child.stdin.take().context("no stdin for `dot`")?;
    stdin.write_all(dot.as_bytes())?;
    drop(stdin);
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("`dot -Tsvg` failed: {}", out.status);
    }
    Ok(out.stdout)
}

/// The workspace: found at run time (cargo and cargo-nextest, which may have moved the
/// sources, both say where), or where it was at build time.
fn workspace_root() -> PathBuf {
    let xtask = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    xtask.join("..")
}

fn walkthroughs() -> Result<()> {
    let root = workspace_root();
    fs::create_dir_all(root.join("docs"))?;
    for (n, suite) in WALKTHROUGHS.iter().enumerate() {
        let source_path = root
            .join("examples/walkthroughs")
            .join(format!("{suite}.rs"));
        let source = fs::read_to_string(&source_path)
            .with_context(|| format!("cannot read {}", source_path.display()))?;
        let text = first_topology(&source)
            .with_context(|| format!("no `topology = \"...\"` in {}", source_path.display()))?;
        let svg = svg(&parse(text)?.to_dot()).context("`--walkthroughs` needs graphviz")?;
        let output = root.join("docs").join(format!("walkthrough-{}.svg", n + 1));
        fs::write(&output, svg)?;
        eprintln!("wrote docs/walkthrough-{}.svg: {text}", n + 1);
    }
    Ok(())
}

/// The string of the first `topology = "..."` in a Rust source (walkthroughs use plain strings).
fn first_topology(source: &str) -> Option<&str> {
    let start = source.find("topology = \"")? + "topology = \"".len();
    let length = source[start..].find('"')?;
    Some(&source[start..start + length])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_topology_of_a_suite() {
        let source = "//! x\n#[netns_test(\n    topology = \"a -- b\"\n)]\nfn t() {}\n\
                      #[netns_test(topology = \"c -- d\")]";
        assert_eq!(first_topology(source), Some("a -- b"));
        assert_eq!(first_topology("fn main() {}"), None);
    }

    /// The pictures in `docs/` are regenerated, not kept by hand: each must show every
    /// interface its walkthrough's plan has now (run `cargo xtask topo --walkthroughs` if not).
    #[test]
    fn the_walkthrough_pictures_are_current() {
        let root = workspace_root();
        for (n, suite) in WALKTHROUGHS.iter().enumerate() {
            let source = root.join(format!("examples/walkthroughs/{suite}.rs"));
            let source = fs::read_to_string(source).unwrap();
            let topology = Topology::parse(first_topology(&source).unwrap()).unwrap();
            let svg = fs::read_to_string(root.join(format!("docs/walkthrough-{}.svg", n + 1)))
                .expect("the picture exists: run `cargo xtask topo --walkthroughs`");
            for node in &topology.plan().nodes {
                for interface in &node.interfaces {
                    let ipv4 = interface.ipv4.expect("the walkthroughs have IPv4");
                    let row = format!(">{} {}<", interface.name, ipv4.addr());
                    assert!(
                        svg.contains(&row),
                        "docs/walkthrough-{}.svg lacks {row} of {}: run \
                         `cargo xtask topo --walkthroughs`",
                        n + 1,
                        node.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_walkthrough_has_a_topology_that_parses() {
        let root = workspace_root().join("examples/walkthroughs");
        for suite in WALKTHROUGHS {
            let source = fs::read_to_string(root.join(format!("{suite}.rs"))).unwrap();
            let text = first_topology(&source).unwrap();
            assert!(Topology::parse(text).is_ok(), "{suite}: {text}");
        }
    }
}
