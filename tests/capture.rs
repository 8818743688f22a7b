//! Packet capture, seen from outside: the `artifacts_fixture` binary's tests with capture on,
//! and the `capture.pcapng` they leave read by tshark. (The capture a failure leaves beside the
//! state of its nodes is checked in `artifacts.rs`.)

use std::process::Command;

use netns_test_suites::support::artifacts_fixture::{interfaces_carrying, names_in, unique};

netns_test_suites::artifacts_fixture!();

#[test]
fn capture_always_keeps_the_file_of_a_passing_test() {
    let base = Base::new();
    let marker = unique("marker");
    let run = fixture(
        &["--exact", "passes_with_capture_always"],
        Some(&base),
        &marker,
        &[],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    let dir = base.test_dir("passes_with_capture_always");
    assert_eq!(names_in(&dir), ["capture.pcapng"]);
    let seen = interfaces_carrying(&dir.join("capture.pcapng"), &marker);
    assert_eq!(seen, ["client:eth0", "server:eth0"]);
}

/// A bulk transfer is captured whole: a packet socket's own receive buffer (at most about
/// 400 KiB for an unprivileged user) holds only a few of the 64 KiB frames veth hands over.
#[test]
fn a_bulk_transfer_is_captured_whole() {
    let base = Base::new();
    let run = fixture(
        &["--exact", "sends_1_mib_with_capture_always"],
        Some(&base),
        "x",
        &[],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    assert!(!run.stdout.contains("incomplete"), "{}", run.stdout);
    let capture = base
        .test_dir("sends_1_mib_with_capture_always")
        .join("capture.pcapng");
    // Which bytes of the stream each interface saw, from the relative sequence numbers
    // (retransmissions may repeat some).
    let output = Command::new("tshark")
        .arg("-r")
        .arg(&capture)
        .args(["-Y", "tcp.dstport == 9000 && tcp.len > 0"])
        .args(["-T", "fields", "-e", "frame.interface_name"])
        .args(["-e", "tcp.seq", "-e", "tcp.len"])
        .output()
        .expect("run tshark");
    let mut segments = std::collections::BTreeMap::<String, Vec<(u64, u64)>>::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<u64> = line
            .split('\t')
            .skip(1)
            .map(|f| f.parse().unwrap())
            .collect();
        let interface = line.split('\t').next().unwrap().to_string();
        segments
            .entry(interface)
            .or_default()
            .push((fields[0], fields[0] + fields[1]));
    }
    let expected = 1u64 << 20;
    let covered: Vec<(String, u64)> = segments
        .into_iter()
        .map(|(interface, mut ranges)| {
            ranges.sort();
            // Bytes from the first one (sequence number 1) up to the first gap.
            let mut end = 1;
            for (start, stop) in ranges {
                if start <= end {
                    end = end.max(stop);
                }
            }
            (interface, end - 1)
        })
        .collect();
    assert_eq!(
        covered,
        [
            ("client:eth0".to_string(), expected),
            ("server:eth0".to_string(), expected)
        ],
        "stream bytes captured without a gap, per interface"
    );
}

#[test]
fn the_environment_sets_the_capture_of_the_whole_run() {
    let base = Base::new();
    let marker = unique("marker");
    let run = fixture(
        &["--exact", "passes"],
        Some(&base),
        &marker,
        &[("NETNS_TEST_CAPTURE", "always")],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    let capture = base.test_dir("passes").join("capture.pcapng");
    assert_eq!(
        interfaces_carrying(&capture, &marker),
        ["client:eth0", "server:eth0"]
    );

    let run = fixture(
        &["--exact", "passes_with_capture_always"],
        Some(&base),
        &marker,
        &[("NETNS_TEST_CAPTURE", "off")],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    assert!(!base.test_dir("passes_with_capture_always").exists());

    let run = fixture(
        &["--exact", "passes"],
        Some(&base),
        &marker,
        &[("NETNS_TEST_CAPTURE", "sometimes")],
    );
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "NETNS_TEST_CAPTURE must be `off`, `on-failure` or `always`, not `sometimes`"
        ),
        "{}",
        run.stdout
    );
}
