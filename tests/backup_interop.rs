//! Backups: export, verify and restore through the real binary, and proof that the files
//! interoperate with the Go `age` CLI from Debian in both directions.

mod common;

use std::fs;
use std::io::Write;
use std::process::Stdio;

use common::*;

/// A vault with a source, a draft with an attachment, and a recovery key written to a file.
fn populated() -> (TestVault, String, Vec<u8>, std::path::PathBuf, String) {
    let v = TestVault::new();
    v.ok(
        &[
            "add",
            "source",
            "--name",
            "Манучеҳр",
            "--contact",
            "Threema",
        ],
        "customs papers",
    );
    let draft = v.add_draft("Road tender", "The contract.");
    let data: Vec<u8> = (0..1_500_000u32).map(|i| (i % 253) as u8).collect();
    let file = v.path("scan.pdf");
    fs::write(&file, &data).unwrap();
    v.ok(&["attach", &draft, file.to_str().unwrap()], "");
    let key = v.ok(&["recovery", "add"], "");
    let key_file = v.path("recovery.txt");
    fs::write(&key_file, &key).unwrap();
    let out = v.run(&["recovery", "add"], "");
    // Adding again replaces the key; keep the newest.
    fs::write(&key_file, stdout(&out)).unwrap();
    let recipient = recipient_of(&key_file);
    (v, draft, data, key_file, recipient)
}

/// Exports a backup of `v` encrypted to `recipient`; returns its path.
fn export_to(v: &TestVault, recipient: &str) -> std::path::PathBuf {
    let backup = v.path("backup.age");
    v.ok(
        &[
            "backup",
            "export",
            "--out",
            backup.to_str().unwrap(),
            "--to",
            recipient,
        ],
        "",
    );
    backup
}

/// The public recipient of an identity file, computed by the Go age tools.
fn recipient_of(key_file: &std::path::Path) -> String {
    let out = std::process::Command::new("age-keygen")
        .arg("-y")
        .arg(key_file)
        .output()
        .expect("age-keygen from the Debian age package");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

#[test]
fn backup_to_a_recipient_opens_with_go_age_and_restores_with_posbon() {
    let (v, draft, data, key_file, recipient) = populated();
    let backup = export_to(&v, &recipient);

    // The Go age CLI decrypts it with the recovery key.
    let out = go_age()
        .arg("-d")
        .arg("-i")
        .arg(&key_file)
        .arg(&backup)
        .output()
        .unwrap();
    assert!(out.status.success(), "age -d failed: {}", stderr(&out));
    let plain = out.stdout;
    assert!(plain.starts_with(b"{\"line\":\"header\",\"format\":\"posbon-backup\""));
    let text = String::from_utf8_lossy(&plain);
    assert!(text.contains("Манучеҳр") && text.contains("Road tender"));
    assert!(
        plain.windows(data.len()).any(|w| w == &data[..]),
        "attachment bytes inside"
    );

    // posbon verifies and restores it into a new vault.
    let verify = v.run_plain(
        &[
            "backup",
            "verify",
            backup.to_str().unwrap(),
            "-i",
            key_file.to_str().unwrap(),
        ],
        "",
    );
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert!(
        stdout(&verify).contains("ok: 2 record(s), 1 attachment(s)"),
        "{}",
        stdout(&verify)
    );
    // The wrong kind of key is named as such, not taken for a wrong passphrase.
    let without_key = v.run(&["backup", "verify", backup.to_str().unwrap()], "");
    assert_eq!(code(&without_key), 2, "{}", stderr(&without_key));
    assert!(
        stderr(&without_key).contains("encrypted to a key, not a passphrase"),
        "{}",
        stderr(&without_key)
    );
    let by_passphrase = v.path("by-passphrase.age");
    v.ok(
        &["backup", "export", "--out", by_passphrase.to_str().unwrap()],
        "",
    );
    let with_key = v.run(
        &[
            "backup",
            "verify",
            by_passphrase.to_str().unwrap(),
            "-i",
            key_file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&with_key), 2, "{}", stderr(&with_key));
    assert!(
        stderr(&with_key).contains("with a passphrase, not to a key"),
        "{}",
        stderr(&with_key)
    );
    // A missing file: the reason once, not twice.
    let missing = v.run(&["backup", "verify", "/nonexistent/backup.age"], "");
    assert_ne!(code(&missing), 0);
    assert_eq!(
        stderr(&missing).matches("No such file").count(),
        1,
        "{}",
        stderr(&missing)
    );

    let restored = TestVault::uninitialised();
    let out = restored.run(
        &[
            "backup",
            "restore",
            backup.to_str().unwrap(),
            "-i",
            key_file.to_str().unwrap(),
            "--insecure-fast-kdf",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        restored.ok(&["list"], ""),
        v.ok(&["list"], ""),
        "same ids, kinds and titles"
    );
    let back = restored.run(&["extract", &draft, "scan.pdf", "--out", "-"], "");
    assert_eq!(back.stdout, data);
    // Restoring again (as after an interruption) leaves one copy of everything.
    restored.ok(
        &[
            "backup",
            "restore",
            backup.to_str().unwrap(),
            "-i",
            key_file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(restored.listed_ids().len(), 2);
    assert!(
        restored
            .ok(&["vault", "check"], "")
            .contains("2 record(s) and 1 attachment(s)")
    );
}

#[test]
fn a_backup_sealed_by_go_age_verifies_with_posbon() {
    let (v, _, _, key_file, recipient) = populated();
    let backup = export_to(&v, &recipient);
    let plain = go_age()
        .arg("-d")
        .arg("-i")
        .arg(&key_file)
        .arg(&backup)
        .output()
        .unwrap()
        .stdout;

    // Re-encrypt the plaintext with Go age (armored, even) and let posbon read it.
    let resealed = v.path("resealed.age");
    let mut child = go_age()
        .args(["-e", "-a", "-r", &recipient, "-o"])
        .arg(&resealed)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&plain).unwrap();
    assert!(child.wait().unwrap().success());
    let out = v.run_plain(
        &[
            "backup",
            "verify",
            resealed.to_str().unwrap(),
            "-i",
            key_file.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn passphrase_backup_round_trips_and_a_wrong_passphrase_is_refused() {
    let v = TestVault::new();
    let id = v.add_draft("kept in backup", "body");
    let backup = v.path("backup.age");
    v.ok(&["backup", "export", "--out", backup.to_str().unwrap()], "");
    assert!(
        fs::read(&backup)
            .unwrap()
            .starts_with(b"age-encryption.org/v1\n-> scrypt ")
    );
    assert!(
        v.ok(&["backup", "verify", backup.to_str().unwrap()], "")
            .contains("ok: 1 record(s)")
    );
    let wrong = v.secret_file("wrong", "nope");
    let out = v.run_with_pass(&wrong, &["backup", "verify", backup.to_str().unwrap()], "");
    assert_eq!(code(&out), 3, "{}", stderr(&out));

    let restored = TestVault::uninitialised();
    restored.ok(
        &[
            "backup",
            "restore",
            backup.to_str().unwrap(),
            "--insecure-fast-kdf",
        ],
        "",
    );
    assert_eq!(restored.listed_ids(), vec![id]);
}

#[test]
fn tampered_or_truncated_backups_are_refused() {
    let (v, _, _, key_file, recipient) = populated();
    let backup = export_to(&v, &recipient);
    let original = fs::read(&backup).unwrap();
    let key = key_file.to_str().unwrap();

    let mut flipped = original.clone();
    let at = original.len() / 2;
    flipped[at] ^= 0x20;
    fs::write(&backup, &flipped).unwrap();
    let out = v.run_plain(
        &["backup", "verify", backup.to_str().unwrap(), "-i", key],
        "",
    );
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not authenticate"),
        "{}",
        stderr(&out)
    );

    fs::write(&backup, &original[..original.len() - 70_000]).unwrap();
    let out = v.run_plain(
        &["backup", "verify", backup.to_str().unwrap(), "-i", key],
        "",
    );
    assert_eq!(code(&out), 4, "{}", stderr(&out));

    // A restore of a bad backup keeps what it already restored and says what went wrong.
    let restored = TestVault::uninitialised();
    let out = restored.run(
        &[
            "backup",
            "restore",
            backup.to_str().unwrap(),
            "-i",
            key,
            "--insecure-fast-kdf",
        ],
        "",
    );
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    restored.ok(&["vault", "check"], "");
}

#[test]
fn restoring_into_a_new_vault_reads_a_passphrase_descriptor_once() {
    use std::os::fd::AsRawFd;
    let v = TestVault::new();
    let id = v.add_draft("via descriptor", "body");
    let backup = v.path("backup.age");
    v.ok(&["backup", "export", "--out", backup.to_str().unwrap()], "");

    let restored = TestVault::uninitialised();
    let file = fs::File::open(&restored.pass_file).unwrap();
    let fd = file.as_raw_fd();
    let mut command = restored.command();
    inherit_fd(&mut command, fd);
    command.args([
        "--passphrase-fd",
        &fd.to_string(),
        "backup",
        "restore",
        backup.to_str().unwrap(),
        "--insecure-fast-kdf",
    ]);
    let out = feed(command, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(restored.listed_ids(), vec![id]);
}
