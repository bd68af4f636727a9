//! The watcher's TOML config, as an operator (or a typo) writes it: refused with a message,
//! never a panic, and every problem found said in each language without one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posbon::lang::Lang;
use posbon::watch::config::{self, ConfigError};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(ConfigError::Problems(problems)) = config::check(text) {
            for problem in &problems {
                for lang in Lang::ALL {
                    let _ = config::words::said(lang, problem);
                }
            }
        }
    }
});
