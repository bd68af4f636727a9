//! `posbon app` in a real browser: Debian's headless Chromium driven by playwright-core
//! (`tests/browser/app.mjs`), in Tajik, Russian and English, at a phone's width and a
//! laptop's. Each run unlocks, adds a source, attaches and downloads a file, searches, looks
//! at the switch, adds a contact, sets a plan, checks a forged alert as a lawyer, locks,
//! adds a note without unlocking and presses Back. Strangers in the same browser are
//! refused: a page of another origin whose form posts to the app, a name that resolves to
//! this computer (DNS rebinding), the browser without its session. Then its browser profile
//! (cache, history, session, autofill) is searched for what the journalist typed.

mod common;

use common::app::App;
use common::browser::{self, holding};
use common::*;

struct Expected {
    lang: &'static str,
    contact_saved: &'static str,
    verdict: &'static str,
    captured: &'static str,
    wrong: &'static str,
    empty: &'static str,
    not_enrolled: &'static str,
    locked: &'static str,
    size: &'static str,
    history: &'static str,
    phones: &'static str,
}

const LANGUAGES: [Expected; 3] = [
    Expected {
        lang: "tg",
        contact_saved: "Dilnoza: нигоҳ дошта шуд ва ба ҳамаи нозирон фиристода шуд.",
        verdict: "ҲАҚИҚӢ НЕСТ:",
        captured: "Ба анбор мӯҳр зада шуд.",
        wrong: "Ибораи махфӣ нодуруст аст. Ҳеҷ чиз тағйир наёфт.",
        empty: "Сабт нест.",
        not_enrolled: "Ин анбор ҳанӯз ба ягон нозир пайваст нашудааст.",
        locked: "Анбор қулф шуд.",
        size: "3,1 МБ",
        history: "Чӣ шуд",
        phones: "Тасдиқи ҳузур аз телефон",
    },
    Expected {
        lang: "ru",
        contact_saved: "Dilnoza: сохранено и отправлено всем наблюдателям.",
        verdict: "НЕ ПОДЛИННОЕ:",
        captured: "Запечатано в хранилище.",
        wrong: "Неверная парольная фраза. Ничего не изменилось.",
        empty: "Записей нет.",
        not_enrolled: "Это хранилище ещё не подключено ни к одному наблюдателю.",
        locked: "Хранилище заперто.",
        size: "3,1 МБ",
        history: "Что произошло",
        phones: "Отметка с телефона",
    },
    Expected {
        lang: "en",
        contact_saved: "Dilnoza is saved and sent to every watcher.",
        verdict: "NOT GENUINE:",
        captured: "Sealed into the vault.",
        wrong: "Wrong passphrase. Nothing was changed.",
        empty: "No records.",
        not_enrolled: "This vault is not enrolled with any watcher yet.",
        locked: "The vault is locked.",
        size: "3.1 MB",
        history: "What happened",
        phones: "Checking in from your phone",
    },
];

#[test]
fn a_journalist_uses_the_app_in_a_real_browser_in_every_language_at_phone_and_laptop_widths() {
    let profiles = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    let mut scenarios = Vec::new();
    for expected in &LANGUAGES {
        for width in [360, 1280] {
            let vault = TestVault::new();
            let mut app = App::start(&vault, &["--lang", expected.lang], &[]);
            let marker = format!("MARKER{}{}{}", expected.lang, width, std::process::id());
            let profile = profiles.path().join(format!("{}-{width}", expected.lang));
            scenarios.push(serde_json::json!({
                "url": app.launch,
                "lang": expected.lang,
                "width": width,
                "profile": profile,
                "marker": marker,
                "passphrase": PASSPHRASE,
            }));
            app.cookie = None;
            runs.push((expected, width, vault, app, marker, profile));
        }
    }
    let seen = browser::run("app.mjs", scenarios);
    for ((expected, width, vault, app, marker, profile), got) in runs.iter().zip(&seen) {
        let at = format!("{} at {width} px: {got:#}", expected.lang);
        assert!(got.get("failure").is_none(), "{at}");
        assert!(
            !got["url_after_launch"].as_str().unwrap().contains("token"),
            "{at}"
        );
        assert_eq!(got["html_lang"], expected.lang, "{at}");
        assert_eq!(got["wrong"], expected.wrong, "{at}");
        assert_eq!(got["empty"], expected.empty, "{at}");
        assert_eq!(got["title"], format!("Source {marker}"), "{at}");
        assert!(
            got["body"].as_str().unwrap().contains("Second line."),
            "{at}"
        );
        assert_eq!(got["file_listed"], "scan.pdf", "{at}");
        assert_eq!(got["file_size"], expected.size, "{at}");
        assert_eq!(got["download_same"], true, "{at}");
        assert_eq!(got["download_name"], "scan.pdf", "{at}");
        assert_eq!(got["found"], 1, "{at}");
        assert!(
            !got["search_url"]
                .as_str()
                .unwrap()
                .contains(marker.as_str()),
            "{at}"
        );
        assert!(
            got["switch_error"]
                .as_str()
                .unwrap()
                .starts_with(expected.not_enrolled),
            "{at}"
        );
        assert!(
            got["locked"].as_str().unwrap().starts_with(expected.locked),
            "{at}"
        );
        assert_eq!(got["contact_saved"], expected.contact_saved, "{at}");
        assert_eq!(
            got["plan_error"], got["switch_error"],
            "a plan set while not enrolled: {at}"
        );
        assert!(
            got["verdict"]
                .as_str()
                .unwrap()
                .starts_with(expected.verdict),
            "{at}"
        );
        assert!(
            got["captured"]
                .as_str()
                .unwrap()
                .starts_with(expected.captured),
            "{at}"
        );
        assert_eq!(got["back_shows_marker"], false, "Back after Lock: {at}");
        // Strangers in the same browser: a cross-site form post, a rebound name, no session.
        assert_eq!(got["cross_site_status"], 403, "a cross-site post: {at}");
        let instructions = got["instructions_after_attack"].as_str().unwrap_or("?");
        assert!(
            !instructions.contains("EVIL"),
            "the post changed nothing: {at}"
        );
        let rebound = got["rebound_status"].as_u64().unwrap_or(0);
        assert!(rebound == 401 || rebound == 403, "a rebound name: {at}");
        assert_eq!(got["rebound_shows_marker"], false, "{at}");
        assert_eq!(got["no_session_status"], 401, "no session: {at}");
        assert_eq!(got["no_session_shows_form"], false, "no session: {at}");
        assert_eq!(got["history_title"], expected.history, "{at}");
        assert_eq!(got["phones_title"], expected.phones, "{at}");
        for page in [
            "unlock_fits",
            "edit_fits",
            "record_fits",
            "contacts_fit",
            "lawyer_fits",
            "history_fits",
            "phones_fits",
            "seal_fits",
            "keys_fits",
            "backup_fits",
        ] {
            assert_eq!(got[page], true, "{page}: no sideways scrolling: {at}");
        }
        // What the journalist typed is in the vault (encrypted) and nowhere in the browser:
        // not its cache, history, session or autofill; nor is the passphrase.
        for needle in [marker.as_str(), PASSPHRASE, "not the passphrase"] {
            let found = holding(profile, needle);
            assert!(
                found.is_empty(),
                "{needle} in the browser profile: {found:?} ({at})"
            );
        }
        let listed = vault.ok(&["list"], "");
        assert!(listed.contains(marker.as_str()), "{listed}");
        assert!(
            listed.contains(&format!("Checkpoint {marker}")),
            "the capture: {listed}"
        );
        let _ = app;
    }
}
