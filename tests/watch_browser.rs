//! The phone page in a real browser: Debian's headless Chromium, driven by playwright-core
//! (`tests/browser/`, installed by `.ci/run` with `npm ci`). Enrols, checks in with the PIN and
//! with the duress PIN, and checks what the page showed, what it kept (keys it cannot read
//! back, in IndexedDB), and what the watcher recorded.

mod common;

use std::process::Command;

use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;

#[test]
fn a_journalist_enrols_a_phone_and_checks_in_from_a_real_browser() {
    let browser_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and playwright-core: apt-get install chromium; (cd tests/browser && npm ci)"
    );
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
    let link = v.ok(&["watch", "enrol-phone"], "").trim().to_string();

    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = Command::new("node")
        .arg(browser_dir.join("phone.mjs"))
        .arg(&link)
        .arg(shots)
        .output()
        .expect("node runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        seen["duress_typo"]
            .as_str()
            .unwrap()
            .starts_with("The PINs differ"),
        "{seen}"
    );
    assert_eq!(
        seen["stored"],
        serde_json::json!({
            "key_extractable": false,
            "key_type": "ECDSA P-256",
            "pin_key_extractable": false,
            "local_storage": "posbon-counter",
        }),
        "the phone keeps keys that cannot be read back, and no secret"
    );
    assert_eq!(
        seen["enrolled"],
        "This phone is set up. Check in with your PIN."
    );
    assert!(
        !seen["url_after_enrol"].as_str().unwrap().contains("enrol="),
        "the token leaves the address bar"
    );
    let real = seen["real"].as_str().unwrap();
    assert!(real.starts_with("Checked in. Next deadline:"), "{real}");
    let duress = seen["duress"].as_str().unwrap();
    let prefix = |text: &str| text.split(':').next().unwrap().to_string();
    assert_eq!(
        prefix(duress),
        prefix(real),
        "the duress PIN shows the same page"
    );
    assert_eq!(duress.len(), real.len(), "{duress} / {real}");
    assert!(
        seen["fast_clock"]
            .as_str()
            .unwrap()
            .starts_with("Checked in. Next deadline:"),
        "a phone clock ten minutes off is corrected from the watcher's answer: {seen}"
    );
    assert_eq!(seen["wrong"], "Wrong PIN.");
    assert_eq!(
        seen["locked"], "Too many attempts. Try again in 1 s.",
        "the page shows the wait the watcher sent"
    );
    assert_eq!(seen["tajik_button"], "Ҳузурро тасдиқ кардан");
    // Every deadline names the phone's offset from UTC; Tajik dates are written out, never
    // ICU's fallback "2026 M11 30 15:07".
    assert!(real.ends_with(')') && real.contains("(UTC"), "{real}");
    let used = seen["used_link_russian"].as_str().unwrap();
    assert!(
        used.starts_with("Ссылка для настройки неизвестна") && !used.contains("link"),
        "a used link is told in the page's language: {used}"
    );
    let tajik_date = seen["tajik_date"].as_str().unwrap();
    let tajik_months = [
        "январи",
        "феврали",
        "марти",
        "апрели",
        "майи",
        "июни",
        "июли",
        "августи",
        "сентябри",
        "октябри",
        "ноябри",
        "декабри",
    ];
    let words: Vec<&str> = tajik_date.split(' ').collect();
    assert!(
        !tajik_date.contains(" M1")
            && words.len() == 5
            && tajik_months.contains(&words[1])
            && words[2] == "2026,"
            && words[4].starts_with("(UTC")
            && words[4].ends_with(')'),
        "{tajik_date}"
    );
    assert_eq!(
        seen["tajik_message"], "Кӯшишҳо аз ҳад зиёданд. Пас аз 1 сония боз кӯшиш кунед.",
        "messages follow the language too, the wait with them"
    );

    let data = daemon.data.clone();
    assert!(daemon.stop());
    assert_eq!(
        action_labels(&actions(&data)),
        vec!["phone-enrolled", "duress"],
        "the watcher told tier 0 of the phone, and recorded the duress check-in"
    );
}
