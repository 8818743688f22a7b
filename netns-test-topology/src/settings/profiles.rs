//! `profile=`: the settings of common access networks at once, with where each number comes
//! from.

use super::{Directed, LinkSettings};

/// The access networks `profile=` knows: name, what it models, and where the numbers come from.
///
/// Each profile reads the left end of `a -- b` as the user's device: the first value of a pair
/// is its uplink (what the device sends). A profile sets a rate only where its source gives
/// one; settings written after the profile override it.
pub const PROFILES: [(&str, &str, &str); 3] = [
    (
        "lte",
        "rate=50mbit/100mbit, delay=45ms, jitter=15ms/5ms, loss=0.2%: a 4G/LTE mobile link",
        "Loadero's network conditions, row \"4G\" (bandwidth 100 Mbit/s incoming / 50 Mbit/s \
         outgoing, latency 45 ms, jitter 5 ms incoming / 15 ms outgoing, packet loss 0.2%). The \
         table does not say whether its latency is one way; the profile takes it one way, a \
         round trip of 90 ms",
    ),
    (
        "satellite",
        "delay=279ms: a geostationary satellite hop",
        "RFC 2488 section 2: 279.0 ms of propagation for one ground-satellite-ground hop from the \
         edge of the satellite's view (239.6 ms directly below it), a round trip of at least 558 ms; \
         no rate, loss or jitter given",
    ),
    (
        "wifi",
        "delay=10ms, jitter=10ms: the wireless hop of a busy Wi-Fi network",
        "Sui et al., \"WiFi can be the weakest link of round trip network latency in the \
         wild\" (IEEE INFOCOM 2016), 47 campus access points over two months: more than half of the TCP packets took over 20 ms across the Wi-Fi hop, and 10% over 100 ms. \
         The profile takes 20 ms as the hop's round trip, 10 ms each way, and spreads it as wide \
         as a uniform jitter can without going below zero (0 to 20 ms each way); the long tail \
         (10% above 100 ms) is not modelled, and the study gives no rate or loss",
    ),
];

/// Sets what profile `name` says (see [`PROFILES`]) in `settings`; settings written after it
/// in the same list override it.
pub fn apply_profile(name: &str, settings: &mut LinkSettings) -> Result<(), String> {
    match name {
        "lte" => {
            settings.rate = Some(Directed {
                ab: 50_000_000,
                ba: 100_000_000,
            });
            settings.delay_us = Some(Directed::both(45_000));
            settings.jitter_us = Some(Directed {
                ab: 15_000,
                ba: 5_000,
            });
            settings.loss_ppm = Some(Directed::both(2_000));
        }
        "satellite" => settings.delay_us = Some(Directed::both(279_000)),
        "wifi" => {
            settings.delay_us = Some(Directed::both(10_000));
            settings.jitter_us = Some(Directed::both(10_000));
        }
        _ => {
            let names: Vec<String> = PROFILES.iter().map(|(n, ..)| format!("`{n}`")).collect();
            return Err(format!(
                "`{name}` is not a profile: the profiles are {}",
                names.join(", ")
            ));
        }
    }
    Ok(())
}
