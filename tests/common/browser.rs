//! Drives Debian's headless Chromium through playwright-core (`tests/browser/*.mjs`), and
//! searches a browser profile afterwards for what must not be in it.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::stderr;

/// Runs `tests/browser/SCRIPT` on `scenarios` (one JSON value each), with screenshots in
/// the test's temporary directory; what the script saw, one value per scenario.
pub fn run(script: &str, scenarios: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "the browser tests need Chromium and playwright-core: ./test.sh --install"
    );
    let count = scenarios.len();
    let out = Command::new("node")
        .arg(browser_dir.join(script))
        .arg(serde_json::Value::Array(scenarios).to_string())
        .arg(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("node runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let seen: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen.len(), count);
    seen
}

/// The files below `profile` that hold `needle`, as UTF-8 or as UTF-16 (little-endian, as
/// Chromium keeps some strings). Text it keeps compressed (some caches) is not searched.
pub fn holding(profile: &Path, needle: &str) -> Vec<PathBuf> {
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let within = |bytes: &[u8], wanted: &[u8]| bytes.windows(wanted.len()).any(|w| w == wanted);
    super::files_under(profile)
        .into_iter()
        .filter(|file| {
            std::fs::read(file)
                .map(|bytes| within(&bytes, needle.as_bytes()) || within(&bytes, &utf16))
                .unwrap_or(false)
        })
        .collect()
}
