//! The link decoder must be total: any bytes give a scenario or an error, never a panic, and a
//! scenario that decodes also builds and runs briefly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(s) = dsplay::scenario::link::decode(text) {
        if let Ok(mut sim) = dsplay::labs::build(&s) {
            sim.run_until(dsplay::sim::Instant(200_000));
        }
    }
});
