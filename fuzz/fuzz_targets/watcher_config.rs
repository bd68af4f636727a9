//! The watcher's TOML config, as an operator (or a typo) writes it: refused with a message,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = posbon::watch::config::check(text);
    }
});
