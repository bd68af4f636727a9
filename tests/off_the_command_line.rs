//! Source names, record fields and contacts' addresses can be given without putting them on
//! the command line, where other users see them in `/proc` and the shell keeps them in its
//! history (issue 11, finding B): from a file, from stdin, or typed at a prompt.

mod common;

use std::fs;

use common::*;

/// Runs with `args` and stdin, and asserts exit code 2 with `needle` in the message; returns
/// the message.
fn refused(v: &TestVault, args: &[&str], stdin: &str, needle: &str) -> String {
    let out = v.run(args, stdin);
    let message = stderr(&out);
    assert_eq!(code(&out), 2, "posbon {args:?}: {message}");
    assert!(message.contains(needle), "{needle:?} not in: {message}");
    message
}

#[test]
fn a_source_in_a_fields_file_is_stored_with_every_field_and_the_body_from_stdin() {
    let v = TestVault::new();
    let file = v.path("source.txt");
    fs::write(
        &file,
        "# met in May\nname:    Фарход\ncontact: Signal: evenings only\n\ntrust: documents checked\n\
         gave: the tender papers\ntag: roads, tender\n",
    )
    .unwrap();
    let id = v
        .ok(
            &[
                "add",
                "source",
                "--fields-file",
                file.to_str().unwrap(),
                "--tag",
                "may",
            ],
            "met at the bazaar\n",
        )
        .trim()
        .to_string();
    let shown = v.ok(&["show", &id], "");
    for line in [
        "name:    Фарход",
        "contact: Signal: evenings only",
        "trust:   documents checked",
        "gave:    the tender papers",
        "tags:    may, roads, tender",
        "met at the bazaar",
    ] {
        assert!(shown.contains(line), "{line:?} not in: {shown}");
    }
}

#[test]
fn fields_and_body_can_share_stdin_separated_by_the_first_empty_line() {
    let v = TestVault::new();
    let id = v
        .ok(
            &["add", "source", "--fields-file", "-"],
            "name: F.\ncontact: Signal, evenings\n\nfirst paragraph\n\nsecond paragraph\n",
        )
        .trim()
        .to_string();
    let shown = v.ok(&["show", &id], "");
    assert!(shown.contains("name:    F."), "{shown}");
    assert!(shown.contains("contact: Signal, evenings"), "{shown}");
    assert!(
        shown.ends_with("\nfirst paragraph\n\nsecond paragraph\n"),
        "{shown}"
    );

    // A case note and a draft take their titles the same way.
    let note = v
        .ok(
            &["add", "note", "--fields-file", "-"],
            "case: 1-234/2026\ncourt: Dushanbe\n\nhearing moved\n",
        )
        .trim()
        .to_string();
    assert!(v.ok(&["show", &note], "").contains("court:   Dushanbe"));
    let draft = v
        .ok(&["add", "draft", "--fields-file", "-"], "title: Roads\n")
        .trim()
        .to_string();
    let listed = v.ok(&["list"], "");
    assert!(
        listed.contains(&format!("{draft}\tdraft\tRoads")),
        "{listed}"
    );
}

#[test]
fn a_malformed_fields_line_is_refused_by_its_number_and_not_quoted_and_nothing_is_added() {
    let v = TestVault::new();
    let message = refused(
        &v,
        &["add", "source", "--fields-file", "-"],
        "name: F.\nSignal evenings only\n\nbody\n",
        "line 2: expected `field: value`",
    );
    assert!(!message.contains("Signal"), "{message}");
    let message = refused(
        &v,
        &["add", "source", "--fields-file", "-"],
        "phone: +992900000000\nname: F.\n",
        "line 1: a source has no such field (it has: name, contact, trust, gave, tag)",
    );
    assert!(!message.contains("992"), "{message}");
    refused(
        &v,
        &["add", "source", "--fields-file", "-"],
        "name: F.\nname: G.\n",
        "line 2: `name` was already given on line 1",
    );
    refused(
        &v,
        &["add", "source", "--fields-file", "-"],
        "contact: Signal\n",
        "no `name:` line: a source needs one",
    );
    let file = v.path("latin1.txt");
    fs::write(&file, b"name: F\xe9\n").unwrap();
    refused(
        &v,
        &["add", "source", "--fields-file", file.to_str().unwrap()],
        "",
        "not UTF-8",
    );
    let body = v.path("body.txt");
    fs::write(&body, "the body").unwrap();
    refused(
        &v,
        &[
            "add",
            "source",
            "--fields-file",
            "-",
            "--body-file",
            body.to_str().unwrap(),
        ],
        "name: F.\n\ntext that would be lost\n",
        "text follows the fields",
    );
    assert!(v.listed_ids().is_empty(), "a refused add stored something");
}

#[test]
fn without_a_name_or_a_terminal_add_source_says_how_to_give_one() {
    let v = TestVault::new();
    let message = refused(&v, &["add", "source"], "Farhod\n", "--fields-file");
    assert!(message.contains("a source needs its name"), "{message}");
    assert!(!message.contains("Farhod"), "{message}");
    // The argument forms keep working for scripts; a field option still needs the name.
    let out = v.run(&["add", "source", "--contact", "Signal"], "");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    v.ok(
        &["add", "source", "--name", "F.", "--contact", "Signal"],
        "",
    );
    assert_eq!(v.listed_ids().len(), 1);
}

#[test]
fn edit_takes_new_fields_from_a_file_and_an_empty_value_clears_one() {
    let v = TestVault::new();
    let id = v
        .ok(
            &["add", "source", "--name", "A", "--trust", "some"],
            "old body",
        )
        .trim()
        .to_string();
    let file = v.path("changes.txt");
    fs::write(
        &file,
        "name: B\ncontact: Threema ABCD1234\ntrust:\ntag: x, y\n",
    )
    .unwrap();
    v.ok(&["edit", &id, "--fields-file", file.to_str().unwrap()], "");
    let shown = v.ok(&["show", &id], "");
    assert!(shown.contains("name:    B"), "{shown}");
    assert!(shown.contains("contact: Threema ABCD1234"), "{shown}");
    assert!(!shown.contains("trust:"), "{shown}");
    assert!(shown.contains("tags:    x, y"), "{shown}");
    assert!(shown.contains("old body"), "{shown}");

    v.ok(
        &["edit", &id, "--fields-file", "-", "--stdin-body"],
        "gave: papers\n\nnew body\n",
    );
    let shown = v.ok(&["show", &id], "");
    assert!(shown.contains("gave:    papers"), "{shown}");
    assert!(
        shown.contains("new body") && !shown.contains("old body"),
        "{shown}"
    );
    refused(
        &v,
        &["edit", &id, "--fields-file", "-"],
        "gave: x\n\nbody without --stdin-body\n",
        "text follows the fields",
    );
    refused(
        &v,
        &["edit", &id, "--fields-file", "-"],
        "court: Khujand\n",
        "line 1: a source has no such field",
    );
}

/// Writes a contact in the fields format and returns its path.
fn contact_file(v: &TestVault, name: &str, text: &str) -> String {
    let path = v.path(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_contact_in_a_fields_file_is_stored_with_every_channel_and_key() {
    let v = TestVault::new();
    let file = contact_file(
        &v,
        "dilnoza.txt",
        "# the lawyer\nname: Dilnoza\nlang: ru\ntier: 2\nrole: lawyer\ntz: Asia/Dushanbe\n\
         email: dilnoza@example.org\nsignal: +992900000000\n\
         age-recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
    );
    v.ok(&["contact", "add", "--fields-file", &file], "");
    let listed = v.ok(&["contact", "list"], "");
    assert_eq!(
        listed.lines().next().unwrap(),
        "Dilnoza\tlawyer\tru\ttier 2\temail:dilnoza@example.org signal:+992900000000",
        "{listed}"
    );

    // Read from stdin the same way; several tiers on one line; an existing name is replaced.
    v.ok(
        &["contact", "add", "--fields-file", "-"],
        "name: Sardor\nlang: tg\ntier: 1, 2\ntelegram: -100123\n",
    );
    let listed = v.ok(&["contact", "list"], "");
    assert!(
        listed.contains("Sardor\t\ttg\ttier 1,2\ttelegram:-100123"),
        "{listed}"
    );
}

#[test]
fn an_incomplete_or_malformed_contact_is_refused_clearly_and_nothing_is_saved() {
    let v = TestVault::new();
    for (text, needle) in [
        (
            "name: Dilnoza\ntier: 2\nemail: d@example.org\n",
            "no `lang:` line: a contact needs one",
        ),
        (
            "name: Dilnoza\nlang: ru\nemail: d@example.org\n",
            "no `tier:` line",
        ),
        (
            "name: Dilnoza\nlang: ru\ntier: two\n",
            "line 3: a tier is a number from 0 to 9",
        ),
        (
            "name: Dilnoza\nlang: ru\ntier: 2\nphone +992900000000\n",
            "line 4: expected `field: value`",
        ),
        (
            "name: Dilnoza\nlang: ru\ntier: 2\nwhatsapp: +992900000000\n",
            "line 4: a contact has no such field (it has: name, lang, role, tz, email-attach, tier, email",
        ),
        ("name: Dilnoza\nlang: ru\ntier: 2\n", "give 1 to 8 channels"),
        (
            "name: Dilnoza\nlang: ru\ntier: 2\nemail: d@example.org\nemail-attach: ys\n",
            "line 5: `email-attach` is yes or no",
        ),
    ] {
        let message = refused(&v, &["contact", "add", "--fields-file", "-"], text, needle);
        assert!(!message.contains("900000000"), "{message}");
    }
    let message = refused(&v, &["contact", "add"], "", "--fields-file");
    assert!(message.contains("a contact needs a name"), "{message}");
    // Options still need the name, the language and a tier together.
    let out = v.run(&["contact", "add", "--email", "d@example.org"], "");
    assert_eq!(code(&out), 2);
    let out = v.run(&["contact", "add", "X", "--email", "d@example.org"], "");
    assert_eq!(code(&out), 2);
    assert_eq!(v.ok(&["contact", "list"], ""), "");
}

/// The prompts, typed on a real terminal: `script` gives posbon a pseudo-terminal and passes
/// the answers through it.
#[test]
fn typed_at_the_prompts_a_source_and_a_contact_are_stored_as_typed() {
    let found = std::process::Command::new("script")
        .arg("--version")
        .output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: util-linux `script` is not installed");
        return;
    }
    let v = TestVault::new();
    let run_in_terminal = |args: &str, typed: &str| {
        let command = format!(
            "{} --vault {} --passphrase-file {} {args}",
            env!("CARGO_BIN_EXE_posbon"),
            v.dir.display(),
            v.pass_file.display()
        );
        let mut script = std::process::Command::new("script");
        script.args(["-q", "-e", "-c", &command, "/dev/null"]);
        let out = feed(script, typed.as_bytes());
        assert!(
            out.status.success(),
            "{args}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    };
    // Name, contact, trust skipped, gave; then the body, ended by Ctrl-D.
    run_in_terminal(
        "add source",
        "Farhod\nSignal, evenings\n\nthe tender papers\nmet at the bazaar\n\x04",
    );
    let listed = v.ok(&["list"], "");
    let id = listed.split('\t').next().unwrap();
    let shown = v.ok(&["show", id], "");
    assert!(shown.contains("name:    Farhod"), "{shown}");
    assert!(shown.contains("contact: Signal, evenings"), "{shown}");
    assert!(!shown.contains("trust:"), "{shown}");
    assert!(shown.contains("gave:    the tender papers"), "{shown}");
    assert!(shown.contains("met at the bazaar"), "{shown}");

    // A wrong language and a malformed channel line are asked again.
    run_in_terminal(
        "contact add",
        "Dilnoza\nde\nru\n2\nlawyer\n\nsignal +992900000000\nsignal: +992900000000\nemail: d@example.org\n\n",
    );
    let listed = v.ok(&["contact", "list"], "");
    assert_eq!(
        listed.trim_end(),
        "Dilnoza\tlawyer\tru\ttier 2\temail:d@example.org signal:+992900000000",
        "{listed}"
    );
}

#[test]
fn a_capture_takes_its_title_from_the_first_line_of_stdin_and_search_its_words_from_stdin() {
    let v = TestVault::new();
    let mut command = v.command();
    command.args(["capture", "note"]);
    let out = feed(
        command,
        b"Met Rustam at the market\nhe has the tender papers\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = v.ok(&["list"], "");
    assert!(listed.contains("Met Rustam at the market"), "{listed}");
    let shown = v.ok(&["show", listed.split('\t').next().unwrap()], "");
    assert!(shown.contains("he has the tender papers"), "{shown}");
    assert!(!shown.contains("Met Rustam at the market\nhe"), "{shown}");

    let found = v.ok(&["search"], "rustam tender");
    assert!(found.contains("Met Rustam at the market"), "{found}");
    let none = v.ok(&["search"], "rustam nowhere");
    assert_eq!(none, "");
    let empty = v.run(&["search"], "  \n");
    assert_eq!(code(&empty), 2, "{}", stderr(&empty));

    let mut command = v.command();
    command.args(["capture", "note"]);
    let untitled = feed(command, b"\nonly a body\n");
    assert!(!untitled.status.success());
    assert!(stderr(&untitled).contains("title"), "{}", stderr(&untitled));
}
