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
    assert_eq!(seen, ["client:eth0"]);
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
    // Each segment once, as it left the client.
    assert_eq!(
        covered,
        [("client:eth0".to_string(), expected)],
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
    assert_eq!(interfaces_carrying(&capture, &marker), ["client:eth0"]);

    let other = Base::new();
    let run = fixture(
        &["--exact", "passes"],
        Some(&other),
        &marker,
        &[("NETNS_TEST_CAPTURE", "always,both-ends")],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    let capture = other.test_dir("passes").join("capture.pcapng");
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
            "NETNS_TEST_CAPTURE must be `off`, `on-failure`, `always`, `both-ends` or \
             `always,both-ends`, not `sometimes`"
        ),
        "{}",
        run.stdout
    );
}

/// The ICMP frames of a capture as tshark reads them: `(interface, icmp type)`, in file order.
fn icmp_frames(capture: &std::path::Path) -> Vec<(String, u8)> {
    let output = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-Y", "icmp"])
        .args([
            "-T",
            "fields",
            "-e",
            "frame.interface_name",
            "-e",
            "icmp.type",
        ])
        .output()
        .expect("run tshark");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let (interface, kind) = line.split_once('\t').expect("two fields");
            (interface.to_string(), kind.parse().expect("an icmp type"))
        })
        .collect()
}

/// Runs fixture test `test`, which must end with `code`, and returns where its capture is.
fn capture_of(base: &Base, test: &str, code: i32) -> (std::path::PathBuf, String) {
    let run = fixture(&["--exact", test], Some(base), "x", &[]);
    assert_eq!(run.output.status.code(), Some(code), "{}", run.stdout);
    (base.test_dir(test).join("capture.pcapng"), run.stdout)
}

/// Checks that `capture` holds the frames of one ping, each once: the request as it left the
/// client, the reply as it left the server, and no other frame twice (but for the multicast
/// listener reports of IPv6, which the kernel sends twice on purpose; a test that runs for a
/// second has them).
fn assert_one_ping_each_frame_once(capture: &std::path::Path) {
    assert_eq!(
        icmp_frames(capture),
        [
            ("client:eth0".to_string(), 8),
            ("server:eth0".to_string(), 0)
        ]
    );
    let output = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-Y", "!(icmpv6.type == 143)"])
        .args([
            "-T",
            "fields",
            "-e",
            "frame.interface_name",
            "-e",
            "frame.md5_hash",
        ])
        .args(["-o", "frame.generate_md5_hash:TRUE"])
        .output()
        .expect("run tshark");
    assert!(
        output.status.success(),
        "tshark reads the file to its end: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let hashes: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split('\t').nth(1).unwrap_or_default().to_string())
        .collect();
    let unique: std::collections::BTreeSet<&String> = hashes.iter().collect();
    assert_eq!(unique.len(), hashes.len(), "a frame twice: {hashes:?}");
}

#[test]
fn a_capture_of_one_ping_holds_each_frame_once() {
    let base = Base::new();
    let (capture, _) = capture_of(&base, "pings_once_with_capture_always", 0);
    assert_one_ping_each_frame_once(&capture);
}

#[test]
fn both_ends_keeps_each_frame_as_it_left_and_as_it_arrived() {
    let base = Base::new();
    let (capture, _) = capture_of(&base, "pings_once_with_capture_at_both_ends", 0);
    assert_eq!(
        icmp_frames(&capture),
        [
            ("client:eth0".to_string(), 8),
            ("server:eth0".to_string(), 8),
            ("server:eth0".to_string(), 0),
            ("client:eth0".to_string(), 0),
        ]
    );
}

/// A test that crashes right after its traffic keeps it: the crash waits for the last frames.
#[test]
fn a_test_that_aborts_or_crashes_keeps_its_capture() {
    for (test, signal) in [
        ("pings_then_aborts", "killed by signal 6 (SIGABRT)"),
        ("pings_then_segfaults", "killed by signal 11 (SIGSEGV)"),
    ] {
        let base = Base::new();
        let (capture, output) = capture_of(&base, test, 101);
        // It still dies as it would have without the capture, and says where the capture is.
        assert!(output.contains(signal), "{output}");
        let said = format!(
            "netns-test: the packet capture so far: {}",
            capture.display()
        );
        assert!(output.contains(&said), "{output}");
        assert_one_ping_each_frame_once(&capture);
    }
}

/// A test past its time limit keeps its capture, whether it reports its own timeout or is too
/// stuck to and is killed.
#[test]
fn a_test_that_times_out_or_is_killed_keeps_its_capture() {
    for (test, said) in [
        ("pings_then_hangs", "ran past its time limit of 1s"),
        ("pings_then_stops_until_killed", "timed out after 1s"),
    ] {
        let base = Base::new();
        let (capture, output) = capture_of(&base, test, 101);
        assert!(output.contains(said), "{output}");
        assert_one_ping_each_frame_once(&capture);
    }
}

/// A test with capture whose artifact folder cannot be made fails at once, saying where and
/// why, rather than run without its capture. (The test's scratch directory is made in that
/// folder first, so it is what reports the folder.)
#[test]
fn a_capture_without_a_place_for_its_file_says_so() {
    let base = Base::new();
    let file = base.0.join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let under_a_file = file.join("base");
    let run = fixture(
        &["--exact", "passes_with_capture_always"],
        None,
        "x",
        &[("NETNS_TEST_ARTIFACTS", under_a_file.to_str().unwrap())],
    );
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let expected = format!(
        "netns-test: cannot make the test's scratch directory in {}/artifacts_fixture/\
         passes_with_capture_always: Not a directory (os error 20); set \
         NETNS_TEST_ARTIFACTS=<dir> to a folder this user can write",
        under_a_file.display()
    );
    assert!(run.stdout.contains(&expected), "{}", run.stdout);
    assert!(!file.join("base").exists());
}
