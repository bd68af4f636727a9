//! End-to-end tests of the vault through the real `posbon` binary: the scripting contract,
//! and every bad input the issue names.

mod common;

use std::fs;

use common::*;

#[test]
fn scripting_contract_add_list_show_rm() {
    let v = TestVault::new();
    let draft = v.add_draft("Road tender", "The contract went to a cousin.\n");
    assert_eq!(draft.len(), 32, "the id is printed alone: {draft:?}");
    let source = v
        .ok(
            &["add", "source", "--name", "Фарход", "--contact", "Signal"],
            "met at the bazaar",
        )
        .trim()
        .to_string();
    let note = v
        .ok(
            &["add", "note", "--case", "1-234/2026", "--court", "Dushanbe"],
            "hearing moved",
        )
        .trim()
        .to_string();

    let listed = v.ok(&["list"], "");
    let rows: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows,
        vec![
            vec![draft.as_str(), "draft", "Road tender"],
            vec![source.as_str(), "source", "Фарход"],
            vec![note.as_str(), "note", "1-234/2026"],
        ]
    );

    let shown = v.ok(&["show", &source], "");
    assert!(shown.contains("name:    Фарход"), "{shown}");
    assert!(shown.contains("contact: Signal"), "{shown}");
    assert!(shown.contains("met at the bazaar"), "{shown}");
    // A unique prefix is enough.
    assert!(
        v.ok(&["show", &note[..8]], "")
            .contains("court:   Dushanbe")
    );

    v.ok(&["rm", &draft], "");
    assert_eq!(v.listed_ids(), vec![source.clone(), note]);
    let out = v.run(&["show", &draft], "");
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("no record with id"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn environment_variables_stand_for_the_options() {
    let v = TestVault::new();
    let out = posbon()
        .env("POSBON_VAULT", &v.dir)
        .env("POSBON_PASSPHRASE_FILE", &v.pass_file)
        .args(["add", "draft", "--title", "via env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = posbon()
        .env("POSBON_VAULT", &v.dir)
        .env("POSBON_PASSPHRASE_FILE", &v.pass_file)
        .arg("list")
        .output()
        .unwrap();
    assert!(stdout(&listed).contains("via env"));
}

#[test]
fn wrong_passphrase_is_refused_with_its_own_code_and_changes_nothing() {
    let v = TestVault::new();
    let id = v.add_draft("kept", "body");
    let before = v.files();
    let wrong = v.secret_file("wrong", "not the passphrase");
    for args in [
        vec!["list"],
        vec!["rm", id.as_str()],
        vec!["add", "draft", "--title", "x"],
    ] {
        let out = v.run_with_pass(&wrong, &args, "body");
        assert_eq!(code(&out), 3, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("wrong passphrase"),
            "{}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("not the passphrase"));
    }
    let after = v.files();
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b && !a.0.ends_with("lock"))
        .map(|(a, _)| a.0.display().to_string())
        .collect();
    assert_eq!(before.len(), after.len());
    assert!(changed.is_empty(), "files changed: {changed:?}");
    assert_eq!(v.listed_ids(), vec![id]);
}

#[test]
fn missing_vault_and_usage_errors_have_their_codes() {
    let v = TestVault::uninitialised();
    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 5);
    assert!(stderr(&out).contains("no vault at"), "{}", stderr(&out));
    let out = v.run(&["frobnicate"], "");
    assert_eq!(code(&out), 2);
    let v = TestVault::new();
    let out = v.run(&["show", "zz"], "");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let out = v.run_plain(&["init", "--insecure-fast-kdf"], "");
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}

#[test]
fn passphrase_is_never_taken_from_stdin_without_a_terminal() {
    let v = TestVault::new();
    let out = v.run_plain(&["list"], &format!("{PASSPHRASE}\n"));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--passphrase-file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn passphrase_can_come_from_a_file_descriptor() {
    use std::os::fd::AsRawFd;
    let v = TestVault::new();
    let file = fs::File::open(&v.pass_file).unwrap();
    let fd = file.as_raw_fd();
    // Let the child inherit the descriptor under the same number.
    let mut command = v.command();
    inherit_fd(&mut command, fd);
    command.args(["--passphrase-fd", &fd.to_string(), "list"]);
    let out = feed(command, b"");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn attachments_round_trip_through_files_and_stdout() {
    let v = TestVault::new();
    let id = v.add_draft("with files", "");
    let data: Vec<u8> = (0..3_000_017u32).map(|i| (i * 7 % 256) as u8).collect();
    let input = v.path("scan.bin");
    fs::write(&input, &data).unwrap();
    v.ok(&["attach", &id, input.to_str().unwrap()], "");
    let empty = v.path("empty.txt");
    fs::write(&empty, b"").unwrap();
    v.ok(
        &["attach", &id, empty.to_str().unwrap(), "--name", "нет.txt"],
        "",
    );

    let out_path = v.path("out.bin");
    v.ok(
        &[
            "extract",
            &id,
            "scan.bin",
            "--out",
            out_path.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(fs::read(&out_path).unwrap(), data);
    let out = v.run(&["extract", &id, "нет.txt", "--out", "-"], "");
    assert!(out.status.success());
    assert!(out.stdout.is_empty());

    let shown = v.ok(&["show", &id], "");
    assert!(shown.contains("scan.bin (2.9 MiB)"), "{shown}");
    let dup = v.run(&["attach", &id, input.to_str().unwrap()], "");
    assert_ne!(code(&dup), 0);
    assert!(stderr(&dup).contains("already has an attachment"));

    v.ok(&["detach", &id, "scan.bin"], "");
    let gone = v.run(&["extract", &id, "scan.bin", "--out", "-"], "");
    assert!(
        stderr(&gone).contains("no attachment named"),
        "{}",
        stderr(&gone)
    );
}

#[test]
fn search_finds_every_word_in_titles_tags_fields_and_bodies() {
    let v = TestVault::new();
    let a = v
        .ok(
            &["add", "draft", "--title", "Тендер", "--tag", "roads,Хуҷанд"],
            "contract cousin",
        )
        .trim()
        .to_string();
    let b = v
        .ok(
            &["add", "source", "--name", "Nilufar", "--trust", "high"],
            "customs office",
        )
        .trim()
        .to_string();
    let hits = |words: &[&str]| -> Vec<String> {
        let mut args = vec!["search"];
        args.extend_from_slice(words);
        v.ok(&args, "")
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(hits(&["тендер"]), vec![a.clone()]);
    assert_eq!(hits(&["хуҷанд", "COUSIN"]), vec![a.clone()]);
    assert_eq!(hits(&["high"]), vec![b.clone()]);
    assert_eq!(hits(&["customs", "tender"]), Vec::<String>::new());
}

#[test]
fn edit_changes_title_tags_fields_and_body() {
    let v = TestVault::new();
    let id = v
        .ok(&["add", "source", "--name", "A"], "old body")
        .trim()
        .to_string();
    v.ok(
        &[
            "edit",
            &id,
            "--title",
            "B",
            "--tag",
            "x,y",
            "--set",
            "contact=Threema",
            "--stdin-body",
        ],
        "new body",
    );
    let shown = v.ok(&["show", &id], "");
    assert!(shown.contains("name:    B"));
    assert!(shown.contains("tags:    x, y"));
    assert!(shown.contains("contact: Threema"));
    assert!(shown.contains("new body") && !shown.contains("old body"));
    let bad = v.run(&["edit", &id, "--set", "court=X"], "");
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("has no field"));
    assert!(stderr(&bad).contains("it has: contact, trust, gave"));
    let draft = v.add_draft("a draft", "text");
    let bad = v.run(&["edit", &draft, "--set", "x=1"], "");
    assert_eq!(code(&bad), 2);
    assert!(
        stderr(&bad).contains("it has no fields"),
        "{}",
        stderr(&bad)
    );
    let nothing = v.run(&["edit", &id], "");
    assert_eq!(code(&nothing), 2);
}

#[test]
fn editing_in_an_editor_uses_ram_backed_scratch_space_and_wipes_it() {
    let v = TestVault::new();
    let id = v.add_draft("edited", "first line\n");
    let log = v.path("editor.log");
    // A fake editor: records where it was asked to edit and with what mode, then appends.
    let script = v.path("editor.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nstat -c '%a %n' \"$1\" > {log}\nstat -f -c '%T' \"$1\" >> {log}\necho 'added in editor' >> \"$1\"\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut fs::metadata(&script).unwrap().permissions(),
        0o755,
    );
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut command = v.command();
    command
        .env("EDITOR", &script)
        .arg("--passphrase-file")
        .arg(&v.pass_file)
        .args(["edit", &id, "--editor"]);
    let out = feed(command, b"");
    if stderr(&out).contains("no RAM-backed directory") {
        eprintln!("skipping: this machine has no tmpfs for scratch space");
        assert_eq!(code(&out), 1);
        return;
    }
    assert!(out.status.success(), "{}", stderr(&out));
    let logged = fs::read_to_string(&log).unwrap();
    let mut lines = logged.lines();
    let (mode, path) = lines.next().unwrap().split_once(' ').unwrap();
    assert_eq!(mode, "600");
    assert!(
        matches!(lines.next().unwrap(), "tmpfs" | "ramfs"),
        "{logged}"
    );
    assert!(
        !std::path::Path::new(path).exists(),
        "scratch file left behind"
    );
    assert!(
        !std::path::Path::new(path).parent().unwrap().exists(),
        "scratch dir left behind"
    );
    let shown = v.ok(&["show", &id], "");
    assert!(shown.contains("first line\nadded in editor"), "{shown}");
}

#[test]
fn changing_the_passphrase_rewraps_the_key_only() {
    let v = TestVault::new();
    let id = v.add_draft("survives", "body");
    let new = v.secret_file("new", "a brand new passphrase");
    v.ok(
        &["passwd", "--new-passphrase-file", new.to_str().unwrap()],
        "",
    );
    assert_eq!(
        code(&v.run(&["list"], "")),
        3,
        "the old passphrase still works"
    );
    let out = v.run_with_pass(&new, &["show", &id], "");
    assert!(stdout(&out).contains("survives"), "{}", stderr(&out));
}

#[test]
fn recovery_key_opens_the_vault_and_can_be_removed() {
    let v = TestVault::new();
    let id = v.add_draft("recover me", "body");
    let key = v.ok(&["recovery", "add"], "");
    assert!(key.trim().starts_with("AGE-SECRET-KEY-1"), "{key}");
    let key_file = v.path("recovery.txt");
    fs::write(&key_file, &key).unwrap();
    let mut command = v.command();
    command
        .arg("--recovery-key-file")
        .arg(&key_file)
        .arg("list");
    let out = feed(command, b"");
    assert!(stdout(&out).contains(&id), "{}", stderr(&out));
    // Both typed: which was meant? Refused. A passphrase file only from the environment
    // gives way to the recovery key named on the command line.
    let both = v.run(
        &["--recovery-key-file", key_file.to_str().unwrap(), "list"],
        "",
    );
    assert_eq!(code(&both), 2, "{}", stderr(&both));
    assert!(stderr(&both).contains("give one or the other"));
    let mut command = v.command();
    command
        .env("POSBON_PASSPHRASE_FILE", v.path("no-such-passphrase-file"))
        .arg("--recovery-key-file")
        .arg(&key_file)
        .arg("list");
    let out = feed(command, b"");
    assert!(stdout(&out).contains(&id), "{}", stderr(&out));
    v.ok(&["recovery", "remove"], "");
    let mut command = v.command();
    command
        .arg("--recovery-key-file")
        .arg(&key_file)
        .arg("list");
    assert_eq!(code(&feed(command, b"")), 3);
}

#[test]
fn duress_passphrase_opens_a_decoy_that_leaves_nothing_on_disk() {
    let v = TestVault::new();
    let real = v.add_draft("the real investigation", "names of sources");
    let duress = v.set_duress("my duress words");

    let decoy_list = v.run_with_pass(&duress, &["list"], "");
    assert!(decoy_list.status.success(), "{}", stderr(&decoy_list));
    assert_eq!(stdout(&decoy_list), "", "the decoy starts empty");
    assert_eq!(
        stderr(&decoy_list),
        "",
        "a duress unlock says nothing unusual"
    );
    let decoy = v.run_with_pass(&duress, &["add", "draft", "--title", "recipes"], "plov");
    assert!(decoy.status.success());
    let status = v.run_with_pass(&duress, &["duress", "status"], "");
    assert_eq!(
        stdout(&status),
        "recovery key: not set\nduress passphrase: not set\n"
    );
    let search = v.run_with_pass(&duress, &["search", "investigation"], "");
    assert_eq!(stdout(&search), "");

    // The real vault does not show the decoy. The duress unlocks left nothing on disk
    // (the inbox did not grow): the watchers heard of them, through the one notice every
    // unlock sends (tests/watch_cli.rs).
    let out = v.run(&["list"], "");
    let listed = stdout(&out);
    assert!(
        listed.contains(&real) && !listed.contains("recipes"),
        "{listed}"
    );
    assert!(!stderr(&out).contains("imported"), "{}", stderr(&out));
    assert_eq!(fs::read_dir(v.dir.join("inbox")).unwrap().count(), 0);
    let status = v.ok(&["duress", "status"], "");
    assert!(status.contains("duress passphrase: set"), "{status}");

    // The same passphrase cannot serve as both.
    let same = v.run(
        &[
            "duress",
            "set",
            "--duress-passphrase-file",
            v.pass_file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&same), 2, "{}", stderr(&same));
    v.ok(&["duress", "remove"], "");
    assert_eq!(code(&v.run_with_pass(&duress, &["list"], "")), 3);
}

#[test]
fn captures_are_added_without_unlocking_and_appear_after_unlock() {
    let v = TestVault::new();
    let mut command = v.command();
    command.args(["capture", "note", "--title", "checkpoint", "--kind", "note"]);
    let out = feed(command, b"phone searched at 14:10");
    assert!(out.status.success(), "{}", stderr(&out));
    let file = v.path("photo.jpg");
    fs::write(&file, vec![42u8; 200_000]).unwrap();
    let mut command = v.command();
    command.args(["capture", "file", file.to_str().unwrap()]);
    let out = feed(command, b"");
    assert!(out.status.success(), "{}", stderr(&out));

    let out = v.run(&["list"], "");
    assert!(
        stderr(&out).contains("imported 2 captured item(s)"),
        "{}",
        stderr(&out)
    );
    let listed = stdout(&out);
    let id_of = |suffix: &str| -> String {
        listed
            .lines()
            .find(|l| l.ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix} not in {listed}"))
            .split('\t')
            .next()
            .unwrap()
            .to_string()
    };
    let note_id = id_of("\tnote\tcheckpoint");
    let file_id = id_of("captured file photo.jpg");
    let shown = v.ok(&["show", &note_id], "");
    assert!(shown.contains("phone searched at 14:10"), "{shown}");
    assert!(shown.contains("tags:    captured"), "{shown}");
    let back = v.run(&["extract", &file_id, "photo.jpg", "--out", "-"], "");
    assert_eq!(back.stdout, vec![42u8; 200_000]);
    // Imported once only.
    let again = v.run(&["list"], "");
    assert!(!stderr(&again).contains("imported"));
}

#[test]
fn nothing_readable_at_rest() {
    let v = TestVault::new();
    let markers: Vec<String> = (0..8).map(|i| format!("ZqMarker{i}Xy")).collect();
    let id = v
        .ok(
            &[
                "add",
                "source",
                "--name",
                &markers[0],
                "--contact",
                &markers[1],
                "--tag",
                &markers[2],
            ],
            &markers[3],
        )
        .trim()
        .to_string();
    let file = v.path("attachment");
    fs::write(
        &file,
        format!("{} {}", markers[4], markers[4]).repeat(10_000),
    )
    .unwrap();
    v.ok(
        &["attach", &id, file.to_str().unwrap(), "--name", &markers[5]],
        "",
    );
    let mut command = v.command();
    command.args(["capture", "note", "--title", &markers[6]]);
    feed(command, markers[7].as_bytes());
    v.set_duress("duress words");
    v.ok(&["recovery", "add"], "");
    v.ok(&["list"], ""); // imports the capture

    use base64::Engine;
    let files = v.files();
    assert!(files.len() >= 5);
    for marker in &markers {
        let utf16le: Vec<u8> = marker.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = marker.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let forms = [
            marker.as_bytes().to_vec(),
            marker.to_lowercase().into_bytes(),
            utf16le,
            utf16be,
            base64::engine::general_purpose::STANDARD
                .encode(marker)
                .trim_end_matches('=')
                .as_bytes()
                .to_vec(),
            hex::encode(marker).into_bytes(),
        ];
        for (path, bytes) in &files {
            for form in &forms {
                assert!(
                    !bytes.windows(form.len()).any(|w| w == &form[..]),
                    "{marker} found in {}",
                    path.display()
                );
            }
        }
    }
    for pass in [PASSPHRASE, "duress words"] {
        for (path, bytes) in &files {
            assert!(
                !bytes.windows(pass.len()).any(|w| w == pass.as_bytes()),
                "passphrase in {}",
                path.display()
            );
        }
    }
}

#[test]
fn panic_destroys_the_keys_and_needs_confirmation() {
    let v = TestVault::new();
    v.add_draft("to be erased", "body");
    let unconfirmed = v.run_plain(&["panic"], "ERASE\n");
    assert_eq!(code(&unconfirmed), 2, "no terminal, no --yes: refuse");
    v.ok(&["list"], "");
    let out = v.run_plain(&["panic", "--yes"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let after = v.run(&["list"], "");
    assert_eq!(code(&after), 3, "{}", stderr(&after));
}

#[test]
fn vault_check_names_a_tampered_record_and_the_rest_stay_readable() {
    let v = TestVault::new();
    let ids: Vec<String> = (0..5)
        .map(|i| v.add_draft(&format!("record {i}"), "body"))
        .collect();
    assert!(
        v.ok(&["vault", "check"], "")
            .contains("5 record(s) and 0 attachment(s) authenticate")
    );

    let victim = flip_byte_of_a_record(&v);
    let out = v.run(&["vault", "check"], "");
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains(&format!("record {victim} is damaged")),
        "{report}"
    );
    assert!(report.contains("4 record(s)"), "{report}");

    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 4);
    assert_eq!(
        stdout(&out).lines().count(),
        4,
        "the others are still listed"
    );
    for id in ids.iter().filter(|id| **id != victim) {
        v.ok(&["show", id], "");
    }
    let out = v.run(&["show", &victim], "");
    assert_eq!(code(&out), 4);
    assert!(stderr(&out).contains(&format!("record {victim} is damaged")));
}

/// Damages one sealed record the way someone with the disk would: rewrites a byte of its
/// ciphertext inside the database file (through SQLite, as any examiner could). Returns the
/// record's id.
fn flip_byte_of_a_record(v: &TestVault) -> String {
    let ids: Vec<String> = v
        .ok(&["list"], "")
        .lines()
        .map(|line| line.split('\t').next().unwrap().to_string())
        .collect();
    let db = rusqlite::Connection::open(v.dir.join("vault.db")).unwrap();
    let rows: Vec<(Vec<u8>, Vec<u8>)> = db
        .prepare("SELECT name, value FROM entry")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .filter(|(name, _)| ids.contains(&hex::encode(name)))
        .collect();
    let (name, mut value) = rows[2].clone();
    value[100] ^= 0x01;
    db.execute(
        "UPDATE entry SET value = ?1 WHERE name = ?2",
        rusqlite::params![value, name],
    )
    .unwrap();
    hex::encode(name)
}

#[test]
fn tampered_or_missing_attachment_is_named() {
    let v = TestVault::new();
    let id = v.add_draft("has a scan", "");
    let file = v.path("scan.pdf");
    fs::write(&file, vec![1u8; 300_000]).unwrap();
    v.ok(&["attach", &id, file.to_str().unwrap()], "");
    let blob = v
        .files()
        .into_iter()
        .find(|(p, _)| p.to_string_lossy().contains("/blobs/"))
        .unwrap();
    let mut bytes = blob.1.clone();
    bytes[100_000] ^= 1;
    fs::write(&blob.0, &bytes).unwrap();

    let out_path = v.path("out.pdf");
    let out = v.run(
        &[
            "extract",
            &id,
            "scan.pdf",
            "--out",
            out_path.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("attachment \"scan.pdf\" of record {id}")),
        "{}",
        stderr(&out)
    );
    assert!(!out_path.exists(), "no half-written plaintext is left");
    let leftovers: Vec<_> = fs::read_dir(v.temp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".posbon"))
        .collect();
    assert!(leftovers.is_empty());
    let check = v.run(&["vault", "check"], "");
    assert_eq!(code(&check), 4);
    assert!(stdout(&check).contains("scan.pdf"), "{}", stdout(&check));

    fs::remove_file(&blob.0).unwrap();
    let out = v.run(&["extract", &id, "scan.pdf", "--out", "-"], "");
    assert!(stderr(&out).contains("missing"), "{}", stderr(&out));
}

#[test]
fn damaged_key_slots_newer_format_and_truncation_are_told_apart() {
    let v = TestVault::new();
    let slots = v.dir.join("keyslots");
    let original = fs::read(&slots).unwrap();

    let mut newer = original.clone();
    newer[9] = 9;
    fs::write(&slots, &newer).unwrap();
    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 7, "{}", stderr(&out));
    assert!(stderr(&out).contains("upgrade posbon"));

    fs::write(&slots, &original[..400]).unwrap();
    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("truncated"), "{}", stderr(&out));

    // A torn write that spared the slot in use: it still opens, with a warning.
    let mut checksum_only = original.clone();
    *checksum_only.last_mut().unwrap() ^= 0xff;
    fs::write(&slots, &checksum_only).unwrap();
    let out = v.run(&["list"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("failed its checksum"),
        "{}",
        stderr(&out)
    );

    // Every slot damaged: reported as damage, not as a wrong passphrase.
    let mut flipped = original.clone();
    for byte in &mut flipped[118..726] {
        *byte ^= 0x5a;
    }
    fs::write(&slots, &flipped).unwrap();
    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 4);
    assert!(stderr(&out).contains("checksum"), "{}", stderr(&out));

    fs::write(&slots, &original).unwrap();
    v.ok(&["list"], "");
}

#[test]
fn corrupted_or_truncated_database_gives_a_clear_error_not_a_crash() {
    for damage in ["truncate", "garbage"] {
        let v = TestVault::new();
        for i in 0..20 {
            v.add_draft(&format!("r{i}"), &"x".repeat(2000));
        }
        let mut damaged_any = false;
        for (path, bytes) in v.files() {
            let file = path.file_name().unwrap().to_string_lossy();
            if !(file.starts_with("vault.db") || file == "keys") || bytes.len() < 64 {
                continue;
            }
            match damage {
                "truncate" => fs::write(&path, &bytes[..bytes.len() / 3]).unwrap(),
                _ => {
                    let mut b = bytes.clone();
                    for i in (0..b.len()).step_by(97) {
                        b[i] ^= 0xA5;
                    }
                    fs::write(&path, &b).unwrap();
                }
            }
            damaged_any = true;
        }
        assert!(damaged_any);
        let out = v.run(&["list"], "");
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{damage}: {err}");
        assert!(!err.contains(PASSPHRASE));
        // SQLite may still read what the damage spared; what it cannot read must be reported.
        if !out.status.success() {
            assert!(
                [1, 4].contains(&code(&out)),
                "{damage}: {:?} {err}",
                out.status
            );
        }
    }
}

#[test]
fn a_second_process_gets_a_clear_in_use_error() {
    let v = TestVault::new();
    // `add` unlocks, then waits for its body on stdin: the vault stays open meanwhile.
    let mut command = v.command();
    command
        .arg("--passphrase-file")
        .arg(&v.pass_file)
        .args(["add", "draft", "--title", "slow"]);
    let mut holder = spawn(command);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        holder.try_wait().unwrap().is_none(),
        "the first process is waiting for its body"
    );
    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 6, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("in use by another posbon process"),
        "{}",
        stderr(&out)
    );
    use std::io::Write;
    holder.stdin.take().unwrap().write_all(b"body").unwrap();
    let out = holder.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the first process was not disturbed: {}",
        stderr(&out)
    );
    assert!(v.ok(&["list"], "").contains("slow"));
}

#[test]
fn a_planted_symlink_is_refused() {
    let v = TestVault::new();
    let elsewhere = v.path("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::remove_dir_all(v.dir.join("inbox")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, v.dir.join("inbox")).unwrap();
    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("symbolic link"));
}

#[test]
fn import_adds_json_lines_and_refuses_a_bad_line_clearly() {
    let v = TestVault::new();
    let input = "{\"kind\":\"draft\",\"title\":\"one\",\"body\":\"b\"}\n{\"kind\":\"source\",\"title\":\"two\",\"fields\":{\"contact\":\"c\"}}\nnot json\n";
    let out = v.run(&["import"], input);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("line 3 is not a record"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("2 record(s) before it were added"));
    assert_eq!(stdout(&out).lines().count(), 2);
    assert_eq!(v.listed_ids().len(), 2);
    let secret = "{\"kind\":\"draft\",\"title\":[\"Farhod lives at 12 Rudaki\"]}\n";
    let out = v.run(&["import"], secret);
    assert_eq!(code(&out), 2);
    assert!(
        !stderr(&out).contains("Rudaki"),
        "the error echoes content: {}",
        stderr(&out)
    );
}

#[test]
fn a_capture_planted_under_an_existing_id_cannot_replace_that_record() {
    let v = TestVault::new();
    let real = v.add_draft("the real record", "original body");
    let mut command = v.command();
    command.args(["capture", "note", "--title", "planted"]);
    assert!(feed(command, b"attacker text").status.success());
    let inbox = v.dir.join("inbox");
    let planted = fs::read_dir(&inbox)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    fs::rename(&planted, inbox.join(format!("{real}.age"))).unwrap();

    let listed = v.ok(&["list"], "");
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let shown = v.ok(&["show", &real], "");
    assert!(
        shown.contains("original body") && !shown.contains("attacker"),
        "{shown}"
    );
}

#[test]
fn a_symlinked_blob_directory_is_refused_and_nothing_outside_is_deleted() {
    let v = TestVault::new();
    let id = v.add_draft("with a file", "");
    let file = v.path("f.bin");
    fs::write(&file, b"data").unwrap();
    v.ok(&["attach", &id, file.to_str().unwrap()], "");
    // Every vault has a blob directory per view; take the one holding the attachment.
    let space = fs::read_dir(v.dir.join("blobs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|dir| fs::read_dir(dir).unwrap().next().is_some())
        .unwrap();
    let elsewhere = v.path("thesis");
    fs::rename(&space, &elsewhere).unwrap();
    fs::write(elsewhere.join("thesis.docx"), b"not posbon's").unwrap();
    std::os::unix::fs::symlink(&elsewhere, &space).unwrap();
    let out = v.run(&["vault", "check"], "");
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert!(elsewhere.join("thesis.docx").exists());
}

#[test]
fn a_damaged_capture_identity_does_not_lock_the_journalist_out() {
    let v = TestVault::new();
    let id = v.add_draft("still readable", "");
    {
        // Without the key an examiner cannot tell which row is the capture identity: damage
        // every row that is not a record (metadata), as a careless or hostile edit would.
        let db = rusqlite::Connection::open(v.dir.join("vault.db")).unwrap();
        let rows: Vec<(Vec<u8>, Vec<u8>)> = db
            .prepare("SELECT name, value FROM entry")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .filter(|(name, _)| hex::encode(name) != id)
            .collect();
        for (name, mut value) in rows {
            value[40] ^= 1;
            db.execute(
                "UPDATE entry SET value = ?1 WHERE name = ?2",
                rusqlite::params![value, name],
            )
            .unwrap();
        }
    }
    let mut command = v.command();
    command.args(["capture", "note", "--title", "waits"]);
    assert!(feed(command, b"kept").status.success());
    let out = v.run(&["list"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&id));
    assert!(
        stderr(&out).contains("stay in the inbox"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read_dir(v.dir.join("inbox")).unwrap().count(), 1);
}

#[test]
fn capturing_a_file_under_an_impossible_name_is_refused_at_once() {
    let v = TestVault::new();
    let file = v.path("x");
    fs::write(&file, b"x").unwrap();
    let mut command = v.command();
    command.args(["capture", "file", file.to_str().unwrap(), "--name", "a/b"]);
    let out = feed(command, b"");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert_eq!(fs::read_dir(v.dir.join("inbox")).unwrap().count(), 0);
}

#[test]
fn output_into_a_pipe_nobody_reads_ends_quietly() {
    use std::os::fd::FromRawFd;
    use std::os::unix::process::ExitStatusExt;
    let v = TestVault::new();
    v.add_draft("a draft", "text");
    // A pipe whose reading end is already closed, as after `| head -0`.
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    let write_end = unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[1]) };
    let mut command = v.command();
    command
        .arg("--passphrase-file")
        .arg(&v.pass_file)
        .args(["vault", "check"])
        .stdout(std::process::Stdio::from(write_end))
        .stderr(std::process::Stdio::piped());
    let out = command.output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

/// Issue 11: the decoy answers every command as a real vault does (nothing is refused "in
/// this session"), and what it does never touches a slot of the real view: after the decoy
/// adds a recovery key, changes its passphrase and sets a duress passphrase of its own, the
/// real passphrase and recovery key still open the real records.
#[test]
fn the_decoy_does_what_a_real_vault_does_without_touching_the_real_slots() {
    let v = TestVault::new();
    let real = v.add_draft("the real investigation", "names of sources");
    let recovery = stdout(&v.run(&["recovery", "add"], ""));
    let real_key = recovery
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("the recovery key is shown")
        .to_string();
    let duress = v.set_duress("the duress words");

    let decoy_recovery = v.run_with_pass(&duress, &["recovery", "add"], "");
    assert!(
        decoy_recovery.status.success(),
        "{}",
        stderr(&decoy_recovery)
    );
    let decoy_key = stdout(&decoy_recovery)
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("the decoy's recovery key is shown")
        .to_string();
    let status = v.run_with_pass(&duress, &["duress", "status"], "");
    assert_eq!(
        stdout(&status),
        "recovery key: set\nduress passphrase: not set\n"
    );
    let nested = v.secret_file("nested", "a duress passphrase set by the coercer");
    let set = v.run_with_pass(
        &duress,
        &[
            "duress",
            "set",
            "--duress-passphrase-file",
            nested.to_str().unwrap(),
        ],
        "",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let status = v.run_with_pass(&duress, &["duress", "status"], "");
    assert_eq!(
        stdout(&status),
        "recovery key: set\nduress passphrase: set\n"
    );
    let new_duress = v.secret_file("new-duress", "the decoy's new passphrase");
    let changed = v.run_with_pass(
        &duress,
        &[
            "passwd",
            "--new-passphrase-file",
            new_duress.to_str().unwrap(),
        ],
        "",
    );
    assert!(changed.status.success(), "{}", stderr(&changed));
    assert_eq!(code(&v.run_with_pass(&duress, &["list"], "")), 3);
    let decoy = v.run_with_pass(&new_duress, &["add", "draft", "--title", "recipes"], "plov");
    assert!(decoy.status.success(), "{}", stderr(&decoy));
    let nested_list = v.run_with_pass(&nested, &["list"], "");
    assert!(nested_list.status.success(), "{}", stderr(&nested_list));
    assert_eq!(stdout(&nested_list), "");

    // The real view is whole, by its passphrase and by its recovery key.
    let listed = v.ok(&["list"], "");
    assert!(
        listed.contains(&real) && !listed.contains("recipes"),
        "{listed}"
    );
    let key_file = v.secret_file("real-key", &real_key);
    let mut command = v.command();
    command
        .arg("--recovery-key-file")
        .arg(&key_file)
        .arg("list");
    let by_key = feed(command, b"");
    assert!(stdout(&by_key).contains(&real), "{}", stderr(&by_key));
    // The decoy's recovery key opens the decoy.
    let decoy_file = v.secret_file("decoy-key", &decoy_key);
    let mut command = v.command();
    command
        .arg("--recovery-key-file")
        .arg(&decoy_file)
        .arg("list");
    let by_decoy_key = feed(command, b"");
    assert!(
        stdout(&by_decoy_key).contains("recipes"),
        "{}",
        stderr(&by_decoy_key)
    );
    let status = v.ok(&["duress", "status"], "");
    assert!(status.contains("recovery key: set"), "{status}");
    assert!(status.contains("duress passphrase: set"), "{status}");

    // `duress remove` closes every way into the decoy, the coercer's own included.
    v.ok(&["duress", "remove"], "");
    for pass in [&new_duress, &nested, &duress] {
        assert_eq!(code(&v.run_with_pass(pass, &["list"], "")), 3);
    }
    let mut command = v.command();
    command
        .arg("--recovery-key-file")
        .arg(&decoy_file)
        .arg("list");
    assert_eq!(code(&feed(command, b"")), 3);
    assert!(v.ok(&["list"], "").contains(&real));
}

/// The same script of commands, run on a real vault and on a decoy holding the same
/// records: every exit code and every line printed (ids, keys and times masked) must be the
/// same. This is what whoever holds the duress passphrase sees of the vault (issue 11).
fn run_script(v: &TestVault, pass: &std::path::Path) -> Vec<(i32, String, String)> {
    let mask = |text: &str| -> String {
        text.split('\n')
            .map(|line| {
                line.split(['\t', ' '])
                    .map(|word| {
                        let hex = word.len() >= 8 && word.chars().all(|c| c.is_ascii_hexdigit());
                        if hex || word.starts_with("AGE-SECRET-KEY-1") || word.starts_with("age1") {
                            "<masked>".to_string()
                        } else if word.chars().any(|c| c.is_ascii_digit())
                            && word.contains([':', '-'])
                        {
                            "<time>".to_string()
                        } else {
                            word.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut seen = Vec::new();
    let mut run = |args: &[&str], stdin: &str| -> String {
        let out = v.run_with_pass(pass, args, stdin);
        seen.push((code(&out), mask(&stdout(&out)), mask(&stderr(&out))));
        stdout(&out).trim().to_string()
    };
    let id = run(
        &["add", "draft", "--title", "Plov for twelve"],
        "rice, carrots, lamb",
    );
    run(&["add", "note", "--title", "Dentist"], "Tuesday");
    run(&["list"], "");
    run(&["search", "plov"], "");
    run(&["search", "nothing-like-this"], "");
    run(&["show", &id], "");
    let file = v.path("menu.txt");
    std::fs::write(&file, "a menu").unwrap();
    run(&["attach", &id, file.to_str().unwrap()], "");
    run(&["extract", &id, "menu.txt", "--out", "-"], "");
    run(&["detach", &id, "menu.txt"], "");
    run(&["extract", &id, "menu.txt", "--out", "-"], "");
    run(&["vault", "check"], "");
    run(&["duress", "status"], "");
    run(&["recovery", "add"], "");
    run(&["duress", "status"], "");
    run(&["recovery", "remove"], "");
    run(&["rm", &id], "");
    run(&["show", &id], "");
    run(&["list"], "");
    seen
}

#[test]
fn the_decoy_answers_every_command_as_a_real_vault_with_the_same_records_does() {
    let real = TestVault::new();
    let real_answers = run_script(&real, &real.pass_file);
    let other = TestVault::new();
    other.add_draft("the real investigation", "names of sources");
    let duress = other.set_duress("the duress words");
    let decoy_answers = run_script(&other, &duress);
    assert_eq!(real_answers.len(), decoy_answers.len());
    for (i, (r, d)) in real_answers.iter().zip(&decoy_answers).enumerate() {
        assert_eq!(r, d, "answer {i} differs:\nreal: {r:?}\ndecoy: {d:?}");
    }
}

/// "posbon init accepted the passphrase `secret`": the weakest passphrases are refused with
/// the reason, wherever a new one is chosen, and nothing is created or changed.
#[test]
fn passphrases_that_are_easy_to_guess_are_refused_with_the_reason() {
    let v = TestVault::uninitialised();
    for weak in ["secret", "Password1!", "пароль123", "Dushanbe2026"] {
        let pass = v.secret_file("weak", weak);
        let out = v.run_with_pass(&pass, &["init", "--insecure-fast-kdf"], "");
        assert_eq!(code(&out), 2, "{weak}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("too easy to guess"),
            "{}",
            stderr(&out)
        );
        // The passphrase itself is never repeated back.
        assert!(!stderr(&out).contains(weak), "{}", stderr(&out));
        assert!(!v.dir.exists(), "nothing is created for {weak}");
    }
    let v = TestVault::new();
    let weak = v.secret_file("weak", "qwerty123");
    let out = v.run(
        &["passwd", "--new-passphrase-file", weak.to_str().unwrap()],
        "",
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("too easy to guess"),
        "{}",
        stderr(&out)
    );
    v.ok(&["list"], "");
    let out = v.run(
        &[
            "duress",
            "set",
            "--duress-passphrase-file",
            weak.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let status = v.ok(&["duress", "status"], "");
    assert!(status.contains("duress passphrase: not set"), "{status}");
}
