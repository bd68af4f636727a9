//! What people type into `plan set`, the app's plan form and the watcher's TOML config:
//! durations, windows (with their days), steps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posbon::plan::{Action, PlanSpec, parse_duration, parse_window, split_windows};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_duration(text);
    // A window reads back as it is written (plans are described in the syntax they are set in).
    for typed in std::iter::once(text.to_string()).chain(split_windows(text)) {
        if let Ok(window) = parse_window(&typed) {
            assert_eq!(parse_window(&window.to_string()), Ok(window), "{typed:?}");
        }
    }
    let _ = Action::parse(text);
    let mut parts = text.split('|');
    let spec = PlanSpec {
        every: parts.next().map(str::to_string),
        window: Vec::new(),
        tz: None,
        grace: parts.next().unwrap_or("0s").to_string(),
        remind_before: parts
            .next()
            .map(|r| vec![r.to_string()])
            .unwrap_or_default(),
        steps: parts.map(str::to_string).collect(),
        release_on_duress: false,
    };
    let _ = spec.build();
});
