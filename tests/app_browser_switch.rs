//! The switch in `posbon app`, in a real browser against a real watcher on loopback: Debian's
//! headless Chromium driven by playwright-core (`tests/browser/app_switch.mjs`), in Tajik,
//! Russian and English, at a phone's width and a laptop's. Each run enrols with the watcher
//! (the operator's one-time code, the fingerprint shown), checks in, sets the plan,
//! seals a record for a lawyer after its review, sets a phone up from the app's link on the
//! watcher's own phone page (which checks in) and removes it, makes a recovery key, downloads
//! a backup, deletes the record and restores it. Then what each step claims is checked where
//! it lands: the watcher, the Go `age` with the lawyer's key, the command line, and the
//! browser profile, which must hold nothing that was typed.

mod common;

use common::app::App;
use common::browser::{self, holding};
use common::watcher::{Daemon, invite};
use common::*;

struct Expected {
    lang: &'static str,
    /// "Enrolled with URL. Its fingerprint is FINGERPRINT", as `enrolled` words it.
    enrolled: fn(&str, &str) -> String,
    checked_in: &'static str,
    plan_set: &'static str,
    sealed: &'static str,
    draft: &'static str,
    phone_title: &'static str,
    phone_enrolled: &'static str,
    phone_checked_in: &'static str,
    phone_removed: &'static str,
    deleted: &'static str,
    restored: &'static str,
}

const LANGUAGES: [Expected; 3] = [
    Expected {
        lang: "tg",
        enrolled: |url, fp| format!("Ба {url} пайваст шуд. Нишонаи калиди он: {fp}."),
        draft: "Лоиҳа",
        checked_in: "Ҳамаи нозирон тасдиқи ҳузурро қабул карданд.",
        plan_set: "Нақша муқаррар шуд:",
        sealed: "1 сабт мӯҳр зада шуд ва ба ҳамаи нозирон фиристода шуд.",
        phone_title: "posbon: тасдиқи ҳузур",
        phone_enrolled: "Телефон танзим шуд. Бо PIN-и худ ҳузурро тасдиқ кунед.",
        phone_checked_in: "Ҳузур тасдиқ шуд. Мӯҳлати навбатӣ:",
        phone_removed: "Телефон хориҷ шуд.",
        deleted: "Сабт нест карда шуд.",
        restored: "Нусхаи эҳтиётӣ барқарор шуд:",
    },
    Expected {
        lang: "ru",
        enrolled: |url, fp| format!("Подключено к {url}. Отпечаток его ключа: {fp}."),
        draft: "Черновик",
        checked_in: "Отметка принята всеми наблюдателями.",
        plan_set: "План задан:",
        sealed: "Запечатана 1 запись и отправлена всем наблюдателям.",
        phone_title: "posbon: отметка",
        phone_enrolled: "Телефон настроен. Отмечайтесь своим ПИН-кодом.",
        phone_checked_in: "Отметка принята. Следующий срок:",
        phone_removed: "Телефон удалён.",
        deleted: "Запись удалена.",
        restored: "Резервная копия восстановлена:",
    },
    Expected {
        lang: "en",
        enrolled: |url, fp| format!("Enrolled with {url}. Its fingerprint is {fp}:"),
        draft: "Draft",
        checked_in: "Checked in with every watcher.",
        plan_set: "Plan set:",
        sealed: "Sealed one record and sent it to every watcher.",
        phone_title: "posbon check-in",
        phone_enrolled: "This phone is set up. Check in with your PIN.",
        phone_checked_in: "Checked in. Next deadline:",
        phone_removed: "The phone was removed.",
        deleted: "The record was deleted.",
        restored: "The backup is restored:",
    },
];

/// One journalist: a vault, its own watcher and a one-time code to enrol with it in the
/// app, a lawyer with an age key, a record to seal, and the app.
struct Run {
    expected: &'static Expected,
    width: u32,
    vault: TestVault,
    daemon: Daemon,
    code: String,
    lawyer_key: std::path::PathBuf,
    record: String,
    app: App,
}

const PIN: &str = "482917";
const DURESS_PIN: &str = "730265";
const BACKUP_PASSPHRASE: &str = "brisk otter lantern quietly 9431";

fn journalist(expected: &'static Expected, width: u32) -> Run {
    let vault = TestVault::new();
    let daemon = Daemon::start(&vault.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    let (lawyer_key, recipient) = age_key(vault.temp.path(), "lawyer");
    vault.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "ru",
            "--role",
            "lawyer",
            "--tier",
            "2",
            "--email",
            "dilnoza@example.org",
            "--age-recipient",
            &recipient,
        ],
        "",
    );
    let record = format!(
        "Statement MARKER{}{width}x{}",
        expected.lang,
        std::process::id()
    );
    vault.add_draft(&record, &format!("the body of {record}"));
    let mut app = App::start(&vault, &["--lang", expected.lang], &[]);
    app.cookie = None;
    Run {
        expected,
        width,
        vault,
        daemon,
        code,
        lawyer_key,
        record,
        app,
    }
}

fn starts(got: &serde_json::Value, field: &str, prefix: &str, at: &str) {
    let text = got[field].as_str().unwrap_or_default();
    assert!(
        text.starts_with(prefix),
        "{field}: {text:?} ≠ {prefix:?}… ({at})"
    );
}

#[test]
fn a_journalist_runs_the_switch_from_the_app_in_a_real_browser_against_a_real_watcher() {
    let profiles = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    let mut scenarios = Vec::new();
    for expected in &LANGUAGES {
        for width in [360, 1280] {
            let run = journalist(expected, width);
            let at = format!("{}-{width}", expected.lang);
            scenarios.push(serde_json::json!({
                "url": run.app.launch,
                "lang": expected.lang,
                "width": width,
                "profile": profiles.path().join(&at),
                "passphrase": PASSPHRASE,
                "watcher": run.daemon.url,
                "code": run.code,
                "record": run.record,
                "bundle_name": format!("case {at}"),
                "pin": PIN,
                "duress_pin": DURESS_PIN,
                "backup_passphrase": BACKUP_PASSPHRASE,
                "backup_path": profiles.path().join(format!("{at}.backup")),
            }));
            runs.push(run);
        }
    }
    let seen = browser::run("app_switch.mjs", scenarios);
    for (run, got) in runs.iter().zip(&seen) {
        let expected = run.expected;
        let name = format!("{}-{}", expected.lang, run.width);
        let at = format!("{name}: {got:#}");
        assert!(got.get("failure").is_none(), "{at}");

        // A .onion watcher without Tor is refused, and its long address fits the page.
        starts(got, "onion_refused", "ERROR: ", &at);
        assert!(
            got["onion_refused"]
                .as_str()
                .unwrap_or_default()
                .contains(".onion"),
            "{at}"
        );
        assert_eq!(got["onion_fits"], true, "{at}");

        // Enrolled in the app, the fingerprint shown to compare with the operator's.
        let enrolled = (expected.enrolled)(&run.daemon.url, &run.daemon.fingerprint);
        starts(got, "enrolled", &enrolled, &at);
        assert_eq!(got["enrol_fits"], true, "{at}");

        // The check-in and the plan, in the reader's words, reached the watcher.
        assert_eq!(got["checked_in"], expected.checked_in, "{at}");
        starts(got, "plan_set", expected.plan_set, &at);
        let status = run.vault.ok(&["status"], "");
        assert!(status.contains("2d"), "the plan on the watcher: {status}");

        // Sealed only after the review, which named the record and the lawyer; the bundle is
        // on the watcher and opens with the lawyer's key in the Go age.
        assert!(
            got["review_items"]
                .as_str()
                .unwrap()
                .contains(run.record.as_str()),
            "{at}"
        );
        assert!(
            got["review_heading"].as_str().unwrap().contains("Dilnoza"),
            "{at}"
        );
        assert!(
            got["review_items"]
                .as_str()
                .unwrap()
                .starts_with(&format!("1. [{}] ", expected.draft)),
            "the kind in the reader's words: {at}"
        );
        assert_eq!(got["review_fits"], true, "{at}");
        assert_eq!(got["sealed"], expected.sealed, "{at}");
        assert!(
            got["sealed_list"]
                .as_str()
                .unwrap()
                .contains(&format!("case {name}")),
            "{at}"
        );
        let bundles = files_under(&run.daemon.data.join("bundles"));
        assert_eq!(bundles.len(), 1, "{bundles:?} ({at})");
        let opened = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&run.lawyer_key)
            .arg(&bundles[0])
            .output()
            .expect("age (apt-get install age)");
        assert!(opened.status.success(), "{}", stderr(&opened));
        let tar = String::from_utf8_lossy(&opened.stdout);
        assert!(tar.contains(&format!("the body of {}", run.record)), "{at}");
        assert!(tar.contains("title / заголовок / сарлавҳа: "), "{at}");

        // The phone: set up from the app's link on the watcher's page, in this language; its
        // check-in accepted; listed in the app and removed there, so the watcher forgets it.
        assert_eq!(got["link_has_qr"], true, "{at}");
        assert_eq!(got["phones_fit"], true, "{at}");
        assert_eq!(got["phone_title"], expected.phone_title, "{at}");
        assert_eq!(got["phone_enrolled"], expected.phone_enrolled, "{at}");
        starts(got, "phone_checked_in", expected.phone_checked_in, &at);
        assert_eq!(got["phones_listed"], 1, "{at}");
        assert_eq!(got["phone_removed"], expected.phone_removed, "{at}");
        assert_eq!(got["phones_left"], 0, "{at}");
        let phones = run.vault.ok(&["phone", "list"], "");
        assert!(
            phones.contains("no phone enrolled"),
            "removed on the watcher: {phones}"
        );

        // The record deleted, then restored from the backup downloaded before.
        assert_eq!(got["deleted"], expected.deleted, "{at}");
        assert_eq!(got["listed_after_delete"], 0, "{at}");
        starts(got, "restored", expected.restored, &at);
        assert_eq!(got["listed_after_restore"], 1, "{at}");
        let listed = run.vault.ok(&["list"], "");
        assert!(listed.contains(run.record.as_str()), "{listed}");

        // The recovery key shown once opens the vault from the command line.
        let recovery = got["recovery_key"].as_str().unwrap();
        let key_file = run.vault.secret_file("recovery", recovery);
        let mut with_key = run.vault.command();
        with_key
            .arg("--recovery-key-file")
            .arg(&key_file)
            .arg("list");
        let out = feed(with_key, b"");
        assert!(out.status.success(), "{} ({at})", stderr(&out));

        // Nothing typed is in the browser profile: not the record, the PINs, the
        // passphrases, the enrolment code or the recovery key.
        let profile = profiles.path().join(&name);
        for needle in [
            run.record.as_str(),
            run.code.as_str(),
            PIN,
            DURESS_PIN,
            PASSPHRASE,
            BACKUP_PASSPHRASE,
            recovery,
        ] {
            let found = holding(&profile, needle);
            assert!(
                found.is_empty(),
                "{needle} in the profile: {found:?} ({at})"
            );
        }
        let _ = &run.app;
    }
}
