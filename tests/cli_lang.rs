//! The command line in the reader's language: Tajik and Russian from `--lang` or the locale,
//! for the messages of the main commands (init, a wrong passphrase, no vault, a vault in
//! use, add and edit, check-in and status, enrolling and dropping a watcher); English as
//! before when nothing else is asked.

mod common;

use common::watcher::{Daemon, enrolled_with, invite};
use common::*;

fn in_lang(v: &TestVault, lang_env: &str, args: &[&str]) -> std::process::Output {
    let mut command = v.command();
    command
        .env("LANG", lang_env)
        .arg("--passphrase-file")
        .arg(&v.pass_file)
        .args(args);
    feed(command, b"")
}

/// A lawyer, Dilnoza (tier 2, with a key for sealed material), and a draft to seal for her;
/// returns the draft's id.
fn lawyer_and_draft(v: &TestVault) -> String {
    let (_, recipient) = age_key(v.temp.path(), "lawyer");
    v.add_lawyer(&recipient);
    v.add_draft("Statement", "text")
}

/// Asserts that `text` holds every one of `words` and none of `english`.
fn says(text: &str, words: &[&str], english: &[&str]) {
    for word in words {
        assert!(text.contains(word), "{word:?} missing in: {text}");
    }
    for word in english {
        assert!(!text.contains(word), "English {word:?} left in: {text}");
    }
}

#[test]
fn init_and_the_errors_every_command_can_meet_are_said_in_tajik_and_russian() {
    let v = TestVault::uninitialised();
    // No vault yet: in Russian from the locale, in Tajik from --lang (which wins).
    let none = in_lang(&v, "ru_RU.UTF-8", &["list"]);
    assert_eq!(code(&none), 5);
    assert!(stderr(&none).contains("нет хранилища"), "{}", stderr(&none));
    let none = in_lang(&v, "ru_RU.UTF-8", &["--lang", "tg", "list"]);
    assert!(stderr(&none).contains("анбор нест"), "{}", stderr(&none));

    let mut init = v.command();
    init.env("LANG", "tg_TJ.UTF-8")
        .args(["init", "--insecure-fast-kdf", "--passphrase-file"])
        .arg(&v.pass_file);
    let made = feed(init, b"");
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(stderr(&made).contains("анбор дар"), "{}", stderr(&made));

    let wrong = v.secret_file("wrong", "not the passphrase at all");
    let mut command = v.command();
    command
        .env("LANG", "tg_TJ.UTF-8")
        .arg("--passphrase-file")
        .arg(&wrong)
        .arg("list");
    let refused = feed(command, b"");
    assert_eq!(code(&refused), 3, "the same exit code in every language");
    assert_eq!(
        stderr(&refused).trim(),
        "posbon: ибораи махфӣ ё калиди барқарорсозӣ нодуруст аст (ҳеҷ чиз тағйир наёфт)"
    );
    let mut command = v.command();
    command
        .env("POSBON_LANG", "ru")
        .arg("--passphrase-file")
        .arg(&wrong)
        .arg("list");
    let refused = feed(command, b"");
    assert_eq!(
        stderr(&refused).trim(),
        "posbon: неверная парольная фраза или ключ восстановления (ничего не изменилось)"
    );

    // English as before when the locale is not one posbon writes.
    let english = in_lang(&v, "de_DE.UTF-8", &["show", "abcd"]);
    assert!(
        stderr(&english).contains("no record with id abcd"),
        "{}",
        stderr(&english)
    );
    let russian = in_lang(&v, "ru_RU.UTF-8", &["show", "abcd"]);
    assert!(
        stderr(&russian).contains("нет записи с id abcd"),
        "{}",
        stderr(&russian)
    );
    let bad = in_lang(&v, "C", &["--lang", "fr", "list"]);
    assert_eq!(code(&bad), 2, "{}", stderr(&bad));
}

/// Issue 15's words: the bundles sent at enrolment (in Tajik) and a watcher dropped with
/// `unenrol --local` (in Russian).
#[test]
fn enrolling_and_dropping_a_watcher_locally_answer_in_the_readers_language() {
    let v = TestVault::new();
    let _a = enrolled_with(&v, "a");
    let note = lawyer_and_draft(&v);
    v.ok(&["release", "add", &note, "--to", "Dilnoza", "--yes"], "");

    let b = Daemon::start(&v.path("b"));
    let enrolled = in_lang(
        &v,
        "tg_TJ.UTF-8",
        &["enrol", &b.url, &invite(&b.data, "Nilufar")],
    );
    assert!(enrolled.status.success(), "{}", stderr(&enrolled));
    assert!(
        stdout(&enrolled).contains("ҳамчун версияи 2 аз нав мӯҳр шуд ва дар ҳамаи нозирон"),
        "{}",
        stdout(&enrolled)
    );

    let url = b.url.clone();
    assert!(b.stop());
    let dropped = in_lang(&v, "ru_RU.UTF-8", &["unenrol", "--local", &url]);
    assert!(dropped.status.success(), "{}", stderr(&dropped));
    assert!(
        stdout(&dropped).contains(": забыт только здесь. Наблюдателю НЕ сообщили"),
        "{}",
        stdout(&dropped)
    );
    assert!(
        stderr(&dropped).contains(" сейчас не ответил: "),
        "{}",
        stderr(&dropped)
    );

    // Leaving a watcher that answers: it forgets the journalist, said in Tajik.
    let c = enrolled_with(&v, "c");
    let left = in_lang(&v, "tg_TJ.UTF-8", &["unenrol", &c.url]);
    assert!(left.status.success(), "{}", stderr(&left));
    says(
        &stdout(&left),
        &[&format!("{}: пайваст қатъ шуд; ин нозир дигар", c.url)],
        &["unenrolled", "no longer knows"],
    );
}

#[test]
fn records_check_in_and_status_answer_in_the_readers_language() {
    let v = TestVault::new();
    let id = v.add_draft("Tender", "text");
    let file = v.secret_file("scan.txt", "scan");
    let attached = in_lang(
        &v,
        "ru_RU.UTF-8",
        &["attach", &id, file.to_str().unwrap(), "--name", "scan.txt"],
    );
    assert!(
        stderr(&attached).contains("добавлен к записи"),
        "{}",
        stderr(&attached)
    );

    let not_enrolled = in_lang(&v, "tg_TJ.UTF-8", &["checkin"]);
    assert_eq!(code(&not_enrolled), 2);
    assert!(
        stderr(&not_enrolled).contains("ба ягон нозир пайваст нашудааст"),
        "{}",
        stderr(&not_enrolled)
    );

    let daemon = Daemon::start(&v.path("watcher"));
    let code_ = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code_], "");
    let set = in_lang(
        &v,
        "ru_RU.UTF-8",
        &["plan", "set", "--every", "1d", "--grace", "1h"],
    );
    assert!(
        stdout(&set).contains(": план задан; следующий срок "),
        "{}",
        stdout(&set)
    );
    // A plan typed wrong is refused with why, in the reader's words; nothing is changed.
    let wrong = in_lang(
        &v,
        "tg_TJ.UTF-8",
        &[
            "plan",
            "set",
            "--window",
            "пн-пт/09:00-09:00",
            "--tz",
            "Asia/Dushanbe",
            "--grace",
            "1h",
        ],
    );
    assert_ne!(code(&wrong), 0);
    says(
        &stderr(&wrong),
        &[
            "нақша нодуруст аст: фосилаи вақти \"пн-пт/09:00-09:00\" дар ҳамон вақте ба охир мерасад",
        ],
        &["ends when it starts", "give a window"],
    );
    let wrong = in_lang(
        &v,
        "ru_RU.UTF-8",
        &["plan", "set", "--every", "1x", "--grace", "1h"],
    );
    says(
        &stderr(&wrong),
        &["план неверен: \"1x\" — не длительность (например, 10s"],
        &["is not a duration"],
    );
    let checked = in_lang(&v, "tg_TJ.UTF-8", &["checkin"]);
    assert!(
        stdout(&checked).contains(": ҳузур тасдиқ шуд; мӯҳлати навбатӣ "),
        "{}",
        stdout(&checked)
    );
    let status = in_lang(&v, "ru_RU.UTF-8", &["status"]);
    let text = stdout(&status);
    assert!(
        text.contains("  план: ") && text.contains("  последняя отметка: "),
        "{text}"
    );
    // English, as scripts read it.
    let english = v.ok(&["checkin"], "");
    assert!(
        english.contains(": checked in; next deadline "),
        "{english}"
    );
}

/// Issue 14's words: contacts, the guarding commands (passphrase, recovery key, duress
/// passphrase, backups, the check) and a mistake in a fields file, in Tajik and Russian;
/// English as scripts read it.
#[test]
fn contacts_keys_backups_and_the_check_answer_in_the_readers_language() {
    let v = TestVault::new();
    let added = in_lang(
        &v,
        "tg_TJ.UTF-8",
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "tg",
            "--tier",
            "2",
            "--tz",
            "Asia/Dushanbe",
            "--email",
            "d@example.org",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        stderr(&added).contains("тамоси Dilnoza илова шуд"),
        "{}",
        stderr(&added)
    );
    assert!(
        stderr(&added).contains("вақте ки шумо ба нозир пайваст мешавед"),
        "{}",
        stderr(&added)
    );
    let listed = in_lang(&v, "ru_RU.UTF-8", &["contact", "list"]);
    // The columns stay where scripts read them; their words are the reader's.
    assert!(
        stdout(&listed).contains("Dilnoza\t\ttg\tкруг 2\temail:d@example.org"),
        "{}",
        stdout(&listed)
    );
    assert!(
        stdout(&listed).contains("  часовой пояс: Asia/Dushanbe"),
        "{}",
        stdout(&listed)
    );
    let unknown = in_lang(&v, "ru_RU.UTF-8", &["contact", "remove", "Farhod"]);
    assert_eq!(code(&unknown), 2);
    assert_eq!(
        stderr(&unknown).trim(),
        "posbon: контакта с именем \"Farhod\" нет"
    );

    let status = in_lang(&v, "tg_TJ.UTF-8", &["duress", "status"]);
    assert_eq!(
        stdout(&status),
        "калиди барқарорсозӣ: муқаррар нашудааст\nибораи махфии маҷбурӣ: муқаррар нашудааст\n"
    );
    let recovery = in_lang(&v, "ru_RU.UTF-8", &["recovery", "add"]);
    assert!(
        stderr(&recovery).starts_with("Это Ваш ключ восстановления."),
        "{}",
        stderr(&recovery)
    );
    let status = in_lang(&v, "ru_RU.UTF-8", &["duress", "status"]);
    assert!(
        stdout(&status).starts_with("ключ восстановления: задан\n"),
        "{}",
        stdout(&status)
    );

    let weak = v.secret_file("weak", "password1");
    let refused = in_lang(
        &v,
        "ru_RU.UTF-8",
        &["passwd", "--new-passphrase-file", weak.to_str().unwrap()],
    );
    assert_eq!(code(&refused), 2);
    assert!(
        stderr(&refused).contains("эту парольную фразу слишком легко угадать: тот, кто"),
        "{}",
        stderr(&refused)
    );
    let same = v.pass_file.to_str().unwrap().to_string();
    let changed = in_lang(
        &v,
        "tg_TJ.UTF-8",
        &["passwd", "--new-passphrase-file", &same],
    );
    assert_eq!(stderr(&changed).trim(), "ибораи махфӣ иваз шуд");

    v.add_draft("Tender", "text");
    let backup = v.path("vault.backup");
    let exported = in_lang(
        &v,
        "ru_RU.UTF-8",
        &["backup", "export", "--out", backup.to_str().unwrap()],
    );
    assert!(
        stderr(&exported).contains(": 1 запись, 0 файлов"),
        "{}",
        stderr(&exported)
    );
    let verified = in_lang(
        &v,
        "tg_TJ.UTF-8",
        &["backup", "verify", backup.to_str().unwrap()],
    );
    assert!(
        stdout(&verified).starts_with("дуруст: 1 сабт, 0 файл, ҳаҷми файлҳо "),
        "{}",
        stdout(&verified)
    );
    let checked = in_lang(&v, "ru_RU.UTF-8", &["vault", "check"]);
    assert_eq!(
        stdout(&checked),
        "подлинность подтверждена: 1 запись и 0 файлов\n"
    );
    let english = v.ok(&["vault", "check"], "");
    assert_eq!(english, "1 record(s) and 0 attachment(s) authenticate\n");

    let fields = v.secret_file("fields.txt", "title: A\nmet him at the bazaar\n");
    let mistake = in_lang(
        &v,
        "ru_RU.UTF-8",
        &["add", "draft", "--fields-file", fields.to_str().unwrap()],
    );
    assert_eq!(code(&mistake), 2);
    assert_eq!(
        stderr(&mistake).trim(),
        "posbon: строка 2: ожидается `поле: значение`"
    );
}

/// Issue 14's words for sealed bundles: the preview before sealing, what was stored, and the
/// sealing fingerprint's note.
#[test]
fn sealing_a_bundle_answers_in_the_readers_language() {
    let v = TestVault::new();
    let _daemon = enrolled_with(&v, "watcher");
    let note = lawyer_and_draft(&v);
    let sealed = in_lang(
        &v,
        "ru_RU.UTF-8",
        &["release", "add", &note, "--to", "Dilnoza", "--yes"],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    assert!(
        stderr(&sealed).starts_with("Если этот пакет (\"")
            && stderr(&sealed)
                .contains(" будет передан, он откроет получателям Dilnoza следующее:\n  1. [черновик] Statement\n"),
        "{}",
        stderr(&sealed)
    );
    assert!(
        stderr(&sealed).contains("1 запись запечатана в пакет "),
        "{}",
        stderr(&sealed)
    );
    assert!(
        stdout(&sealed).contains(": пакет ") && stdout(&sealed).contains(" сохранён ("),
        "{}",
        stdout(&sealed)
    );
    let listed = in_lang(&v, "tg_TJ.UTF-8", &["release", "list"]);
    assert!(
        stdout(&listed).contains("\t1 сабт\tбарои Dilnoza\t"),
        "{}",
        stdout(&listed)
    );
    let key_note = in_lang(&v, "tg_TJ.UTF-8", &["release", "key"]);
    assert!(
        stderr(&key_note).starts_with("нишонаи калиди мӯҳри шумо: "),
        "{}",
        stderr(&key_note)
    );
}

/// The operator's `watch` commands in the reader's language too.
#[test]
fn the_operators_watch_commands_answer_in_the_readers_language() {
    let v = TestVault::uninitialised();
    let nowhere = v.path("no-watcher");
    let mut command = v.command();
    command
        .env("LANG", "ru_RU.UTF-8")
        .args(["watch", "journalists", "--data"])
        .arg(&nowhere);
    let none = feed(command, b"");
    assert_eq!(code(&none), 2);
    assert!(
        stderr(&none).contains(" нет наблюдателя (проверьте --data;"),
        "{}",
        stderr(&none)
    );
    let data = v.path("watcher");
    let mut command = v.command();
    command
        .env("LANG", "tg_TJ.UTF-8")
        .args(["watch", "invite", "Nilufar", "--data"])
        .arg(&data);
    let invited = feed(command, b"");
    assert!(invited.status.success(), "{}", stderr(&invited));
    assert!(
        stderr(&invited).contains("ин рамзи якдафъаинаро ба Nilufar диҳед"),
        "{}",
        stderr(&invited)
    );
    let mut command = v.command();
    command
        .env("LANG", "tg_TJ.UTF-8")
        .args(["watch", "journalists", "--data"])
        .arg(&data);
    let listed = feed(command, b"");
    assert!(listed.status.success(), "{}", stderr(&listed));
}

/// `contact add --lang ru` is the contact's language, not the reader's: a Tajik journalist
/// adding a Russian lawyer reads the answer in Tajik (it once came in Russian).
#[test]
fn a_contacts_language_is_not_the_language_of_the_answer() {
    let v = TestVault::new();
    let both = |out: &std::process::Output| format!("{}{}", stdout(out), stderr(out));
    let tajik = v.run(
        &[
            "--lang",
            "tg",
            "contact",
            "add",
            "Ed",
            "--lang",
            "ru",
            "--tier",
            "1",
            "--email",
            "ed@example.org",
        ],
        "",
    );
    assert!(tajik.status.success(), "{}", both(&tajik));
    assert!(
        both(&tajik).contains("тамоси Ed илова шуд"),
        "{}",
        both(&tajik)
    );
    let english = v.run(
        &[
            "contact",
            "add",
            "Ed2",
            "--lang",
            "ru",
            "--tier",
            "1",
            "--email",
            "ed2@example.org",
        ],
        "",
    );
    assert!(both(&english).contains("added Ed2"), "{}", both(&english));
    let listed = v.ok(&["contact", "list"], "");
    assert!(
        listed.contains("Ed\t\tru\t") && listed.contains("Ed2\t\tru\t"),
        "{listed}"
    );
}

/// The lists a journalist reads (records, contacts, sealed bundles) in their words, the
/// columns where scripts read them; and in English, byte for byte as before.
#[test]
fn the_lists_and_the_refusals_to_seal_are_in_the_readers_words() {
    let v = TestVault::new();
    let _daemon = enrolled_with(&v, "watcher");
    let note = lawyer_and_draft(&v);
    v.ok(&["release", "add", &note, "--to", "Dilnoza", "--yes"], "");

    let russian = stdout(&in_lang(&v, "ru_RU.UTF-8", &["release", "list"]));
    says(
        &russian,
        &[
            "\t1 запись\tдля Dilnoza\t",
            // "байт" or "байта": the size, and so its plural, varies from run to run.
            " байт",
            "\tзапечатан ",
            "\tдействует\n",
        ],
        &["record(s)", "for ", "bytes", "sealed", "active"],
    );
    let tajik = stdout(&in_lang(&v, "tg_TJ.UTF-8", &["release", "list"]));
    says(
        &tajik,
        &[
            "\t1 сабт\tбарои Dilnoza\t",
            " байт\tмӯҳр шуд ",
            "\tамалкунанда\n",
        ],
        &["record(s)", "for ", "bytes", "sealed", "active"],
    );
    let english = v.ok(&["release", "list"], "");
    says(
        &english,
        &[
            "\t1 record(s)\tfor Dilnoza\t",
            " bytes\tsealed ",
            "\tactive\n",
        ],
        &[],
    );

    let contacts = stdout(&in_lang(&v, "tg_TJ.UTF-8", &["contact", "list"]));
    says(&contacts, &["Dilnoza\t\tru\tгурӯҳи 2\t"], &["tier"]);
    let records = stdout(&in_lang(&v, "tg_TJ.UTF-8", &["list"]));
    says(&records, &["\tлоиҳа\tStatement"], &["draft"]);
    let shown = stdout(&in_lang(&v, "ru_RU.UTF-8", &["show", &note]));
    says(
        &shown,
        &["вид:     черновик\n", "создана: "],
        &["kind:", "created:"],
    );

    // Sealing refused: an unknown contact, an unknown bundle.
    for (lang, said) in [
        ("tg_TJ.UTF-8", "тамос бо номи \"Farhod\" нест"),
        (
            "ru_RU.UTF-8",
            "posbon: контакта с именем \"Farhod\" нет (posbon contact add)",
        ),
    ] {
        let stranger = in_lang(
            &v,
            lang,
            &["release", "add", &note, "--to", "Farhod", "--yes"],
        );
        assert_eq!(code(&stranger), 2, "{}", stderr(&stranger));
        says(&stderr(&stranger), &[said], &["there is no contact"]);
    }
    let unknown = in_lang(&v, "ru_RU.UTF-8", &["release", "remove", "ffffffff"]);
    assert_eq!(code(&unknown), 1, "{}", stderr(&unknown));
    says(
        &stderr(&unknown),
        &["пакета с id \"ffffffff\" нет"],
        &["no release bundle"],
    );
}

/// A watcher that no longer answers, as the journalist reads it in Tajik: the warning and
/// the error in their words, with the same exit code (8) as in English.
#[test]
fn an_unreachable_watcher_is_said_in_tajik() {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let url = daemon.url.clone();
    v.ok(&["enrol", &url, &invite(&daemon.data, "Nilufar")], "");
    drop(daemon);

    let checkin = in_lang(&v, "tg_TJ.UTF-8", &["checkin"]);
    assert_eq!(code(&checkin), 8, "{}", stderr(&checkin));
    says(
        &stderr(&checkin),
        &[
            &format!(
                "posbon: ДИҚҚАТ: ба {url} пайваст шудан нашуд: дар он ҷо ҳеҷ чиз ҷавоб намедиҳад"
            ),
            "нозир",
        ],
        &[
            "WARNING",
            "cannot reach",
            "error sending request",
            "did not answer",
            "watcher",
        ],
    );
    let english = in_lang(&v, "C", &["checkin"]);
    assert_eq!(code(&english), 8);
    says(
        &stderr(&english),
        &[&format!("posbon: WARNING: cannot reach {url}: ")],
        &[],
    );
}

/// `alert verify` refuses in the lawyer's language, with the exit code of a forgery (10).
#[test]
fn an_alert_that_is_not_there_is_refused_in_russian() {
    let v = TestVault::new();
    let refused = in_lang(
        &v,
        "ru_RU.UTF-8",
        &[
            "alert",
            "verify",
            "--watcher",
            "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d",
        ],
    );
    assert_eq!(code(&refused), 10, "{}", stderr(&refused));
    says(
        &stderr(&refused),
        &["во входных данных нет оповещения posbon"],
        &["no posbon alert was found"],
    );
}

#[test]
fn what_an_unlock_has_to_tell_is_said_in_the_readers_language() {
    let v = TestVault::new();
    for title in ["checkpoint", "second checkpoint"] {
        let mut command = v.command();
        command.args(["capture", "note", "--title", title]);
        assert!(feed(command, b"searched at 14:10").status.success());
    }
    let told = in_lang(&v, "tg_TJ.UTF-8", &["list"]);
    assert!(told.status.success(), "{}", stderr(&told));
    says(
        &stderr(&told),
        &["posbon: он чи бе кушодани анбор нигоҳ дошта шуда буд, ба анбор илова шуд: 2"],
        &["imported", "captured item"],
    );
    // Told once: the next unlock, in Russian, has nothing to say.
    let mut command = v.command();
    command.args(["capture", "note", "--title", "third"]);
    assert!(feed(command, b"at 15:00").status.success());
    let again = in_lang(&v, "ru_RU.UTF-8", &["list"]);
    says(
        &stderr(&again),
        &["posbon: в хранилище добавлено сохранённое без открытия: 1"],
        &["imported", ": 2"],
    );
}

#[test]
fn what_the_vault_refuses_is_said_in_the_readers_language_with_the_same_exit_code() {
    let v = TestVault::new();
    let real = v.pass_file.to_str().unwrap().to_string();
    let same = in_lang(
        &v,
        "tg_TJ.UTF-8",
        &["duress", "set", "--duress-passphrase-file", &real],
    );
    assert_eq!(code(&same), 2, "{}", stderr(&same));
    says(
        &stderr(&same),
        &["ибораи махфии маҷбурӣ бояд аз ибораи махфии аслӣ фарқ кунад"],
        &["must differ"],
    );
    let short = in_lang(&v, "ru_RU.UTF-8", &["show", "zz"]);
    assert_eq!(code(&short), 2, "{}", stderr(&short));
    says(
        &stderr(&short),
        &["\"zz\" — не id записи (id состоит из шестнадцатеричных цифр, укажите хотя бы 4)"],
        &["is not a record id"],
    );
    let english = v.run(&["show", "zz"], "");
    assert!(
        stderr(&english)
            .contains("\"zz\" is not a record id (ids are hex, give at least 4 digits)"),
        "{}",
        stderr(&english)
    );
}

#[test]
fn a_lawyers_key_file_that_cannot_be_used_is_said_in_the_readers_language() {
    let v = TestVault::uninitialised();
    let (_, recipient) = age_key(v.temp.path(), "lawyer");
    // The public key given instead of the private one, a common mistake.
    let public = v.path("lawyer.pub");
    std::fs::write(&public, format!("{recipient}\n")).unwrap();
    let bundle = v.path("case.age");
    std::fs::write(&bundle, b"age-encryption.org/v1\n").unwrap();
    for (lang, said) in [
        (
            "tg",
            "ин на файли калиди age ва на калиди махфии OpenSSH аст",
        ),
        ("ru", "это не файл ключа age и не закрытый ключ OpenSSH"),
    ] {
        let mut command = v.command();
        command
            .args(["--lang", lang, "open", "-i"])
            .arg(&public)
            .arg(&bundle);
        let refused = feed(command, b"");
        assert_eq!(code(&refused), 2, "{}", stderr(&refused));
        says(
            &stderr(&refused),
            &[&format!("lawyer.pub: {said}")],
            &["not an age identity"],
        );
    }
}

#[test]
fn a_contacts_mistake_is_said_whole_in_the_readers_language() {
    let v = TestVault::new();
    let add = |lang_env: &str, ways: &[&str]| {
        let mut args = vec!["contact", "add", "Dilnoza", "--lang", "ru", "--tier", "2"];
        args.extend(ways);
        in_lang(&v, lang_env, &args)
    };
    let bad_email = ["--email", "not-an-address"];
    let english = add("C", &bad_email);
    assert_eq!(code(&english), 2, "{}", stderr(&english));
    assert!(
        stderr(&english).contains("Dilnoza: email:not-an-address: not an e-mail address"),
        "{}",
        stderr(&english)
    );
    for (lang_env, detail) in [
        ("tg_TJ.UTF-8", "ин суроғаи почтаи электронӣ нест"),
        ("ru_RU.UTF-8", "это не адрес электронной почты"),
    ] {
        let refused = add(lang_env, &bad_email);
        assert_eq!(code(&refused), 2, "the same exit code in every language");
        says(
            &stderr(&refused),
            &[&format!("Dilnoza: email:not-an-address: {detail}")],
            &["not an e-mail address", "тамос нодуруст", "контакт неверен"],
        );
    }

    // A lawyer's key that is not one: the library's own reason is the only English left.
    let bad_key = ["--email", "d@example.org", "--age-recipient", "age1notakey"];
    let russian = add("ru_RU.UTF-8", &bad_key);
    assert_eq!(code(&russian), 2, "{}", stderr(&russian));
    says(
        &stderr(&russian),
        &["Dilnoza: ключ \"age1notakey\" не читается как получатель age"],
        &["is not an age recipient"],
    );
    let tajik = add(
        "tg_TJ.UTF-8",
        &[
            "--email",
            "d@example.org",
            "--age-recipient",
            "ssh-rsa AAAAB3Nza",
        ],
    );
    assert_eq!(code(&tajik), 2, "{}", stderr(&tajik));
    says(
        &stderr(&tajik),
        &["калид барои маводи мӯҳрзада гирандаи age (age1...) ё калиди кушодаи ssh-ed25519"],
        &["a lawyer's key", "public key"],
    );
    let english = add("C", &bad_key);
    assert_eq!(code(&english), 2);
    assert!(
        stderr(&english).contains("Dilnoza: \"age1notakey\" is not an age recipient: "),
        "{}",
        stderr(&english)
    );
    assert_eq!(v.ok(&["contact", "list"], ""), "", "nothing was saved");
}

/// The operator of a watcher in Dushanbe reads what is wrong with the config in Tajik or
/// Russian, every problem in the reader's words (the keys and values as written), and gets the
/// same exit code as in English; `watch serve` says its refusal the same way.
#[test]
fn the_config_checker_says_every_problem_in_the_readers_language() {
    let v = TestVault::uninitialised();
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"soon\"\n[metrics]\nlisten = \"0.0.0.0:9100\"\n",
    )
    .unwrap();
    let check = |lang_env: &str| {
        let mut command = v.command();
        command
            .env("LANG", lang_env)
            .args(["watch", "check-config"])
            .arg(&config);
        feed(command, b"")
    };
    let english = check("C.UTF-8");
    assert_eq!(code(&english), 2, "{}", stderr(&english));
    says(
        &stderr(&english),
        &[
            "has 2 problem(s)",
            "  - [delivery]: \"soon\" is not a duration (like 10s",
            "  - [metrics]: metrics on 0.0.0.0:9100 could be read by others",
        ],
        &[],
    );
    let sentences = [
        "problem(s)",
        "is not a duration",
        "could be read",
        "loopback address",
    ];
    let tajik = check("tg_TJ.UTF-8");
    assert_eq!(code(&tajik), code(&english));
    says(
        &stderr(&tajik),
        &[
            "2 хато ёфт шуд",
            "  - [delivery]: \"soon\" муддат нест",
            "  - [metrics]: нишондиҳандаҳоро дар 0.0.0.0:9100 бегонагон хонда метавонанд",
            "--metrics-public",
        ],
        &sentences,
    );
    let russian = check("ru_RU.UTF-8");
    assert_eq!(code(&russian), code(&english));
    says(
        &stderr(&russian),
        &[
            "найдены 2 ошибки",
            "  - [delivery]: \"soon\" — не длительность",
            "  - [metrics]: метрики на 0.0.0.0:9100 смогут читать посторонние",
        ],
        &sentences,
    );

    // `watch serve` stops at the first problem, after the translated lead-in.
    let mut command = v.command();
    command
        .env("LANG", "ru_RU.UTF-8")
        .args(["watch", "serve", "--data"])
        .arg(v.path("watcher"))
        .arg("--config")
        .arg(&config);
    let serve = feed(command, b"");
    assert_eq!(code(&serve), 2, "{}", stderr(&serve));
    says(
        &stderr(&serve),
        &["конфигурация неверна: [delivery]: \"soon\" — не длительность"],
        &sentences,
    );
}
