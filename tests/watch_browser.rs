//! The phone page in a real browser: Debian's headless Chromium, driven by playwright-core
//! (`tests/browser/`, installed by `.ci/run` with `npm ci`). One link for two watchers (the
//! second reached cross-origin, through CORS): enrols, checks in with the PIN and with the
//! duress PIN, and checks what the page showed, what it kept (keys it cannot read back, in
//! IndexedDB, one pair per watcher), and what each watcher recorded; sets a phone up from the
//! spare link with a watcher that does not answer; adds a watcher enrolled with later to the
//! page; then with the second watcher stopped, that the page names it as not answering.

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
    let other = Daemon::start(&v.path("other"));
    for d in [&daemon, &other] {
        let code = invite(&d.data, "Nilufar");
        v.ok(&["enrol", &d.url, &code], "");
    }
    v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
    let printed = v.ok(&["watch", "enrol-phone"], "");
    let link = printed.lines().next().unwrap().to_string();
    let host = |d: &Daemon| d.url.trim_start_matches("http://").to_string();
    let (a, b) = (host(&daemon), host(&other));
    // An address where no watcher answers.
    let dead = format!("http://127.0.0.1:{}", common::receivers::free_port());
    let c = dead.trim_start_matches("http://").to_string();

    // A third watcher, enrolled with after the phone was set up: its link adds it.
    let later = Daemon::start(&v.path("later"));
    let code = invite(&later.data, "Nilufar");
    v.ok(&["enrol", &later.url, &code], "");
    let add = v.ok(&["watch", "enrol-phone", "--watcher", &later.url], "");
    let add = add.lines().next().unwrap().to_string();
    let c3 = host(&later);

    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = Command::new("node")
        .arg(browser_dir.join("phone.mjs"))
        .arg(&link)
        .arg(shots)
        .arg(other.child.id().to_string())
        .arg(printed.lines().nth(1).expect("a spare link"))
        .arg(&dead)
        .arg(&add)
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
    let watchers = |base: &str| {
        serde_json::json!([
            {"key_extractable": false, "key_type": "ECDSA P-256", "pin_key_extractable": false,
             "url": daemon.url},
            {"key_extractable": false, "key_type": "ECDSA P-256", "pin_key_extractable": false,
             "url": base},
        ])
    };
    assert_eq!(
        seen["stored"],
        serde_json::json!({"watchers": watchers(&other.url), "local_storage": "posbon-counter"}),
        "the phone keeps a key pair and a PIN key per watcher that cannot be read back, and no secret"
    );
    assert_eq!(
        seen["enrolled"],
        "This phone is set up. Check in with your PIN."
    );
    assert_eq!(
        seen["names_before"],
        format!("This link sets up the phone with these watchers: {a}, {b}")
    );
    assert_eq!(seen["names"], format!("Your watchers: {a}, {b}"));
    assert_eq!(
        seen["enrolled_lines"],
        serde_json::json!([format!("{a}: set up"), format!("{b}: set up")])
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
    let each = serde_json::json!([format!("{a}: checked in"), format!("{b}: checked in")]);
    assert_eq!(seen["real_lines"], each, "one button reached both, named");
    assert_eq!(seen["duress_lines"], each);
    assert_eq!(seen["real_page"], seen["duress_page"]);
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

    // The spare link with a watcher that does not answer: set up with the two that do.
    assert_eq!(
        seen["partial_names"],
        format!("This link sets up the phone with these watchers: {b}, {a}, {c}")
    );
    assert_eq!(
        seen["partial"],
        format!(
            "This phone is set up with {b} and {a}, but not with {c}. Press “Set up” again, with the same PINs."
        )
    );
    assert_eq!(
        seen["partial_lines"],
        serde_json::json!([
            format!("{b}: set up"),
            format!("{a}: set up"),
            format!("{c}: did not answer")
        ])
    );
    assert_eq!(
        seen["partial_fragment"],
        format!(
            "#{}={}",
            dead.replace(':', "%3A").replace('/', "%2F"),
            "ab".repeat(24)
        ),
        "only the token not used is kept, to try again"
    );
    assert_eq!(
        seen["partial_forms_shown"],
        serde_json::json!([true, true]),
        "set up again for the one missing, or check in with the two"
    );
    assert_eq!(
        seen["partial_names_after"],
        format!("This link sets up the phone with these watchers: {c}")
    );

    // The later watcher, added to the page: kept beside the two, checked in with all three.
    assert_eq!(
        seen["add_names"],
        format!("This link sets up the phone with these watchers: {c3}")
    );
    assert_eq!(
        seen["added"],
        "This phone is set up. Check in with your PIN."
    );
    assert_eq!(
        seen["added_names"],
        format!("Your watchers: {a}, {b}, {c3}")
    );
    assert!(
        seen["three"]
            .as_str()
            .unwrap()
            .starts_with("Checked in. Next deadline:")
    );
    assert_eq!(
        seen["three_lines"],
        serde_json::json!([
            format!("{a}: checked in"),
            format!("{b}: checked in"),
            format!("{c3}: checked in")
        ])
    );

    // The second watcher stopped: said plainly, by name, and not as success.
    assert_eq!(
        seen["one_down"],
        format!(
            "Watcher {b} did not answer — your check-in reached {a} and {c3}. Try again soon, or check in from your laptop."
        )
    );
    assert_eq!(
        seen["one_down_lines"],
        serde_json::json!([
            format!("{a}: checked in"),
            format!("{b}: did not answer"),
            format!("{c3}: checked in")
        ])
    );
    assert_eq!(seen["one_down_class"], "err");
    assert!(
        seen["one_down_tajik"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "Нозир {b} ҷавоб надод — тасдиқи ҳузури шумо ба {a} ва {c3} расид."
            )),
        "{seen}"
    );

    assert_eq!(seen["old_record_names"], format!("Your watchers: {a}"));
    assert!(
        seen["old_record"]
            .as_str()
            .unwrap()
            .starts_with("Checked in. Next deadline:"),
        "a phone set up from a one-watcher link before still checks in: {seen}"
    );

    let later_data = later.data.clone();
    assert!(later.stop());
    assert_eq!(action_labels(&actions(&later_data)), vec!["phone-enrolled"]);
    let other_data = other.data.clone();
    drop(other);
    let data = daemon.data.clone();
    assert!(daemon.stop());
    for data in [&data, &other_data] {
        assert_eq!(
            action_labels(&actions(data)),
            vec!["phone-enrolled", "duress", "phone-enrolled"],
            "each watcher told tier 0 of each phone (the link's, the spare's), and recorded the duress check-in"
        );
    }
}
