//! A vault written by posbon 0.1 (sled) opens in this version with nothing lost, whichever
//! passphrase opens it first, and however often the migration is killed on the way.
//! The fixture and what it holds are described in `tests/fixtures/README.md`.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const REAL: &str = "fixture passphrase one";
const DURESS: &str = "fixture duress words";
const RECOVERY: &str = "AGE-SECRET-KEY-1EK36EPUMPWMK5ZU4VSSK4CK6DM5XRZUQFSURFTLRN4GPTE2UH6ZQDALLXY";
const SCAN_SHA256: &str = "811c927e5316d9cccac61dd768e23fac11f24c2c4c21dfca5191c99c00ac4582";

/// A copy of the 0.1 fixture vault, with the fixture's passphrases as the test's own.
fn old_vault() -> TestVault {
    let v = TestVault::uninitialised();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-0.1");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&fixture)
        .arg(&v.dir)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(&v.pass_file, format!("{REAL}\n")).unwrap();
    v
}

fn titles(listing: &str) -> Vec<String> {
    let mut titles: Vec<String> = listing
        .lines()
        .map(|line| line.splitn(3, '\t').nth(2).unwrap_or("").to_string())
        .collect();
    titles.sort();
    titles
}

/// Everything the fixture holds is there, in the right view, readable.
fn assert_everything_is_there(v: &TestVault) {
    let real = v.ok(&["list"], "");
    assert_eq!(
        titles(&real),
        [
            "Case 14",
            "Checkpoint note",
            "Farrukh",
            "Road tender",
            "Second checkpoint",
            "Unimported capture",
        ],
        "{real}"
    );
    let road = real.lines().find(|l| l.ends_with("Road tender")).unwrap();
    let road_id = road.split('\t').next().unwrap();
    assert!(
        v.ok(&["show", road_id], "")
            .contains("The ministry paid twice")
    );
    let scan = v.path("scan.txt");
    v.ok(
        &[
            "extract",
            road_id,
            "scan.txt",
            "--out",
            scan.to_str().unwrap(),
        ],
        "",
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, &std::fs::read(&scan).unwrap());
    assert_eq!(hex::encode(digest.as_ref()), SCAN_SHA256);
    let farrukh = real.lines().find(|l| l.ends_with("Farrukh")).unwrap();
    let shown = v.ok(&["show", farrukh.split('\t').next().unwrap()], "");
    assert!(shown.contains("Signal, evenings"), "{shown}");
    assert!(v.ok(&["contact", "list"], "").contains("Dilnoza"));
    assert!(
        v.ok(&["duress", "status"], "").contains("2026-11-30"),
        "the duress uses recorded by 0.1 are still listed"
    );
    let check = v.run(&["vault", "check"], "");
    assert!(check.status.success(), "{}", stderr(&check));

    let duress = v.secret_file("duress-pass", DURESS);
    let decoy = v.run_with_pass(&duress, &["list"], "");
    assert!(decoy.status.success(), "{}", stderr(&decoy));
    assert_eq!(titles(&stdout(&decoy)), ["Recipe"]);
    // The migrated decoy says nothing a real vault would not (0.1 decoys had no capture
    // identity; a missing one was reported as damage at every duress unlock).
    assert_eq!(stderr(&decoy), "", "a duress unlock says nothing unusual");
    // And it does what a real vault does: a recovery key of its own.
    let decoy_recovery = v.run_with_pass(&duress, &["recovery", "add"], "");
    assert!(
        decoy_recovery.status.success(),
        "{}",
        stderr(&decoy_recovery)
    );
    v.run_with_pass(&duress, &["recovery", "remove"], "");

    let recovery = v.secret_file("recovery", RECOVERY);
    let mut command = v.command();
    command
        .arg("--recovery-key-file")
        .arg(&recovery)
        .arg("list");
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(titles(&stdout(&out)).len(), 6);

    assert!(!v.dir.join("db").exists(), "the old database is removed");
    assert!(v.dir.join("vault.db").exists());
}

#[test]
fn a_vault_of_posbon_0_1_opens_with_every_record_attachment_setting_and_view() {
    let v = old_vault();
    assert!(v.dir.join("db").is_dir());
    assert_everything_is_there(&v);
}

#[test]
fn a_vault_of_posbon_0_1_first_opened_with_the_duress_passphrase_loses_nothing() {
    let v = old_vault();
    let duress = v.secret_file("duress-pass", DURESS);
    let decoy = v.run_with_pass(&duress, &["list"], "");
    assert!(decoy.status.success(), "{}", stderr(&decoy));
    assert_eq!(titles(&stdout(&decoy)), ["Recipe"]);
    assert_eq!(stderr(&decoy), "", "a duress unlock says nothing unusual");
    assert!(!v.dir.join("db").exists());
    assert_everything_is_there(&v);
}

#[test]
fn a_half_written_sled_snapshot_does_not_stop_the_migration() {
    let v = old_vault();
    // What a kill during sled's snapshot leaves behind (sled issues 1527 and 1533).
    std::fs::write(
        v.dir.join("db/snap.00000000000FFFFF.generating"),
        [0x5a; 100],
    )
    .unwrap();
    assert_everything_is_there(&v);
}

#[test]
fn killing_the_migration_again_and_again_loses_nothing() {
    let v = old_vault();
    let mut killed_mid_way = 0;
    for round in 0..40u64 {
        if !v.dir.join("db").exists() {
            break;
        }
        let mut command = v.command();
        command
            .arg("--passphrase-file")
            .arg(&v.pass_file)
            .arg("list")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = command.spawn().unwrap();
        // Spread the kills over the unlock and the migration that follows it.
        std::thread::sleep(Duration::from_millis(150 + (round * 37) % 400));
        let _ = child.kill();
        let _ = child.wait();
        if v.dir.join("vault.db").exists() && v.dir.join("db").exists() {
            killed_mid_way += 1;
        }
    }
    eprintln!("killed mid-migration {killed_mid_way} times");
    assert_everything_is_there(&v);
}

#[test]
fn a_planted_old_database_beside_a_current_vault_erases_nothing() {
    let v = TestVault::new();
    let id = v.add_draft("must survive", "body");
    // Someone with the disk puts a posbon 0.1 database (a real one) into the vault.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-0.1/db");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&fixture)
        .arg(v.dir.join("db"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("Move"), "{}", stderr(&out));
    std::fs::remove_dir_all(v.dir.join("db")).unwrap();
    assert!(v.ok(&["show", &id], "").contains("must survive"));
}
