//! The settings' grammar and ranges, value by value.

use super::*;

#[test]
fn mtus_are_bytes_within_the_veth_range() {
    assert_eq!(parse_mtu("1280"), Ok(1280));
    assert_eq!(parse_mtu("68"), Ok(68));
    assert_eq!(parse_mtu("65535"), Ok(65535));
    assert_eq!(
        parse_mtu("70000").unwrap_err(),
        "`mtu=70000` is out of range: an MTU is 68 to 65535 bytes"
    );
    assert!(parse_mtu("67").unwrap_err().contains("68 to 65535"));
    assert!(parse_mtu("1.5").unwrap_err().contains("not an MTU"));
    assert!(parse_mtu("big").unwrap_err().contains("not an MTU"));
}

#[test]
fn rates_are_bits_per_second_in_powers_of_1000() {
    assert_eq!(parse_rate("10mbit"), Ok(10_000_000));
    assert_eq!(parse_rate("1.5mbit"), Ok(1_500_000));
    assert_eq!(parse_rate("512kbit"), Ok(512_000));
    assert_eq!(parse_rate("1Gbit"), Ok(1_000_000_000));
    assert_eq!(parse_rate("1000bit"), Ok(1_000));
    assert_eq!(
        parse_rate("10mbps").unwrap_err(),
        "`10mbps` is ambiguous: `tc` reads `mbps` as bytes per second; write `10mbit` for \
         bits per second"
    );
    assert!(parse_rate("1000").unwrap_err().contains("needs a unit"));
    assert!(parse_rate("10mb").unwrap_err().contains("not a rate"));
    assert!(
        parse_rate("999bit")
            .unwrap_err()
            .contains("1kbit to 32gbit")
    );
    assert!(parse_rate("33gbit").unwrap_err().contains("out of range"));
    assert!(parse_rate("1.5bit").unwrap_err().contains("out of range"));
    assert!(parse_rate(".5mbit").unwrap_err().contains("not a rate"));
}

#[test]
fn delays_are_whole_microseconds() {
    assert_eq!(parse_delay("50ms"), Ok(50_000));
    assert_eq!(parse_delay("1.5ms"), Ok(1_500));
    assert_eq!(parse_delay("200us"), Ok(200));
    assert_eq!(parse_delay("1s"), Ok(1_000_000));
    assert_eq!(parse_delay("0.5m"), Ok(30_000_000));
    assert!(parse_delay("50").unwrap_err().contains("needs a unit"));
    assert_eq!(parse_delay("0ms"), Ok(0));
    assert!(parse_delay("61s").unwrap_err().contains("0 to 60s"));
    assert!(parse_delay("61s").unwrap_err().contains("out of range"));
    assert!(
        parse_delay("1.5us")
            .unwrap_err()
            .contains("whole number of microseconds")
    );
    assert!(
        parse_delay("5min")
            .unwrap_err()
            .contains("unknown unit `min`")
    );
}

#[test]
fn losses_are_percentages() {
    assert_eq!(parse_loss("1%"), Ok(10_000));
    assert_eq!(parse_loss("0.5%"), Ok(5_000));
    assert_eq!(parse_loss("100%"), Ok(1_000_000));
    assert!(parse_loss("1").unwrap_err().contains("percentage"));
    assert!(parse_loss("0%").unwrap_err().contains("out of range"));
    assert!(parse_loss("101%").unwrap_err().contains("out of range"));
    assert!(
        parse_loss("0.00001%")
            .unwrap_err()
            .contains("four decimals")
    );
}

#[test]
fn directions_are_one_value_or_two() {
    assert_eq!(
        parse_directed("20ms", parse_delay),
        Ok(Directed::both(20_000))
    );
    assert_eq!(
        parse_directed("20ms/5ms", parse_delay),
        Ok(Directed {
            ab: 20_000,
            ba: 5_000
        })
    );
    assert!(
        parse_directed("20ms/", parse_delay)
            .unwrap_err()
            .contains("not one value or two")
    );
    assert!(
        parse_directed("1ms/2ms/3ms", parse_delay)
            .unwrap_err()
            .contains("`x/y`")
    );
    assert!(
        parse_directed("1%/5", parse_loss)
            .unwrap_err()
            .contains("percentage")
    );
    assert_eq!(Directed { ab: 1, ba: 2 }.from(true), 2);
}

#[test]
fn shares_jitters_and_bursts_have_their_units() {
    assert_eq!(parse_duplicate("1%"), Ok(10_000));
    assert_eq!(parse_reorder("0%"), Ok(0));
    assert!(parse_reorder("101%").unwrap_err().contains("0% to 100%"));
    assert!(parse_duplicate("1").unwrap_err().contains("`duplicate=1%`"));
    assert_eq!(parse_jitter("5ms"), Ok(5_000));
    assert!(parse_jitter("5").unwrap_err().contains("needs a unit"));
    assert_eq!(parse_burst("4"), Ok(4));
    assert!(parse_burst("0").unwrap_err().contains("1 to 1000"));
    assert!(parse_burst("4ms").unwrap_err().contains("not a burst"));
}

#[test]
fn profiles_set_their_documented_values() {
    let mut settings = LinkSettings::default();
    apply_profile("lte", &mut settings).unwrap();
    assert_eq!(
        settings.entries(),
        [
            "rate=50mbit/100mbit",
            "delay=45ms",
            "jitter=15ms/5ms",
            "loss=0.2%"
        ]
    );
    let mut settings = LinkSettings::default();
    apply_profile("wifi", &mut settings).unwrap();
    assert_eq!(settings.entries(), ["delay=10ms", "jitter=10ms"]);
    let mut settings = LinkSettings::default();
    apply_profile("satellite", &mut settings).unwrap();
    assert_eq!(settings.entries(), ["delay=279ms"]);
    assert_eq!(
        apply_profile("dialup", &mut settings).unwrap_err(),
        "`dialup` is not a profile: the profiles are `lte`, `satellite`, `wifi`"
    );
    for (name, meaning, _) in PROFILES {
        let mut settings = LinkSettings::default();
        apply_profile(name, &mut settings).unwrap();
        assert!(
            meaning.starts_with(&settings.entries().join(", ")),
            "{name}"
        );
    }
}

#[test]
fn values_print_as_they_parse() {
    assert_eq!(Rate(10_000_000).to_string(), "10mbit");
    assert_eq!(Rate(1_500_000).to_string(), "1.5mbit");
    assert_eq!(Rate(1_234_567).to_string(), "1234.567kbit");
    assert_eq!(Rate(1_001).to_string(), "1.001kbit");
    assert_eq!(Delay(50_000).to_string(), "50ms");
    assert_eq!(Delay(1_500).to_string(), "1.5ms");
    assert_eq!(Delay(999).to_string(), "999us");
    assert_eq!(Delay(0).to_string(), "0ms");
    assert_eq!(Loss(5_000).to_string(), "0.5%");
    assert_eq!(Loss(1_000_000).to_string(), "100%");
    for rate in ["10mbit", "1.5mbit", "1234.567kbit", "32gbit", "1kbit"] {
        assert_eq!(Rate(parse_rate(rate).unwrap()).to_string(), rate);
    }
    for delay in ["50ms", "1.5ms", "999us", "60s", "1.234s"] {
        assert_eq!(Delay(parse_delay(delay).unwrap()).to_string(), delay);
    }
    let all = LinkSettings {
        mtu: Some(1280),
        rate: Some(Directed {
            ab: 10_000_000,
            ba: 1_000_000,
        }),
        delay_us: Some(Directed::both(10_000)),
        jitter_us: Some(Directed { ab: 1_000, ba: 0 }),
        loss_ppm: Some(Directed::both(10_000)),
        burst: Some(Directed::both(4)),
        duplicate_ppm: Some(Directed { ab: 0, ba: 5_000 }),
        reorder_ppm: Some(Directed::both(250_000)),
        corrupt_ppm: Some(Directed::both(1_000)),
    };
    assert_eq!(
        all.entries(),
        [
            "mtu=1280",
            "rate=10mbit/1mbit",
            "delay=10ms",
            "jitter=1ms/0ms",
            "loss=1%",
            "burst=4",
            "duplicate=0%/0.5%",
            "reorder=25%",
            "corrupt=0.1%"
        ]
    );
    assert!(all.impairs());
    assert!(LinkSettings::default().is_empty());
}
