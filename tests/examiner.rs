//! The state lab's view. An examiner written from `docs/format.md` alone
//! (`tests/examiner/examine.py`, Python with Debian's python3-cryptography and python3-argon2,
//! sharing no code with posbon) gets the raw files and every secret the journalist could be
//! forced to give up: the passphrase, the recovery key and the duress passphrase. It must find
//! nothing of what `rm`, `edit` and `detach` removed, and a raw copy must not say what is
//! configured. Each test first shows that the examiner does find the data while it exists.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

const EXAMINER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/examiner/examine.py");

fn examiner() -> Command {
    let python = Path::new("/usr/bin/python3");
    let ok = Command::new(python)
        .args(["-c", "import cryptography, argon2"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the examiner needs Debian's python3 with python3-cryptography and python3-argon2"
    );
    let mut command = Command::new(python);
    command.arg(EXAMINER);
    command
}

fn run_examiner(args: &[&std::ffi::OsStr]) -> Value {
    let out = examiner().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "examiner {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the examiner prints JSON")
}

/// Every secret the journalist can be forced to give up.
struct Secrets {
    passphrase: PathBuf,
    recovery: PathBuf,
    duress: PathBuf,
}

/// A vault with a recovery key and a duress passphrase set.
fn vault_with_every_secret(v: &TestVault) -> Secrets {
    let key = v.ok(&["recovery", "add"], "");
    let key = key.trim();
    assert!(key.starts_with("AGE-SECRET-KEY-1"), "{key}");
    let recovery = v.secret_file("recovery-key", key);
    let duress = v.set_duress("umbrella sideways pelican");
    Secrets {
        passphrase: v.pass_file.clone(),
        recovery,
        duress,
    }
}

/// What the examiner gets with all three secrets; `extra` adds ids, old copies, images...
fn examine(
    v: &TestVault,
    s: &Secrets,
    markers: &[&str],
    extra: &[(&str, &std::ffi::OsStr)],
) -> Value {
    let mut args: Vec<&std::ffi::OsStr> = vec!["unlock".as_ref(), v.dir.as_os_str()];
    for (flag, path) in [
        ("--passphrase-file", &s.passphrase),
        ("--recovery-key-file", &s.recovery),
        ("--passphrase-file", &s.duress),
    ] {
        args.push(flag.as_ref());
        args.push(path.as_os_str());
    }
    for m in markers {
        args.push("--marker".as_ref());
        args.push(m.as_ref());
    }
    for (flag, value) in extra {
        args.push(flag.as_ref());
        args.push(value);
    }
    run_examiner(&args)
}

fn found(report: &Value) -> &Vec<Value> {
    report["found"].as_array().unwrap()
}

/// Every secret opened its slot: the examiner really had the keys. The duress passphrase's
/// slot says it is a passphrase slot, like the real one's: nothing in it marks a decoy.
fn assert_every_secret_opens(report: &Value) {
    let views = report["views"].as_array().unwrap();
    let kind_of = |secret: &str| {
        views
            .iter()
            .find(|v| v["file"].as_str().unwrap().ends_with(&format!("/{secret}")))
            .map(|v| v["kind"].as_str().unwrap().to_string())
    };
    for secret in ["pass", "recovery-key", "duress"] {
        assert!(
            kind_of(secret).is_some(),
            "no {secret} slot opened: {report:#}"
        );
    }
    assert_eq!(kind_of("duress"), kind_of("pass"), "{report:#}");
}

fn record<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| &r["record"])
}

fn snapshot(v: &TestVault, id: &str, name: &str) -> PathBuf {
    let out = v.path(name);
    let run = examiner()
        .arg("snapshot")
        .arg(&v.dir)
        .arg(id)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

/// The examiner after the removal: nothing yields a marker; every key was tried on the old
/// copy and on every row, and every copy of the old value in the raw files was tried.
fn assert_gone(report: &Value, what: &str) {
    assert_every_secret_opens(report);
    assert!(
        found(report).is_empty(),
        "{what}: recovered: {:#}",
        report["found"]
    );
    for old in report["old"].as_array().unwrap() {
        assert!(
            old["opened"].as_array().unwrap().is_empty(),
            "{what}: an old copy opens: {old:#}"
        );
    }
    for copy in report["copies_of_old_values"].as_array().unwrap() {
        assert_eq!(copy["opened"], false, "{what}: {copy:#}");
    }
    // The rows that remain still open (the examiner's keys were the right ones).
    assert_eq!(
        report["rows_opened_by_some_key"], report["rows"],
        "{what}: {report:#}"
    );
    eprintln!(
        "{what}: {} keys tried; copies of the old value left in the raw files: {}",
        report["keys_gathered"],
        report["copies_of_old_values"].as_array().unwrap().len()
    );
}

#[test]
fn a_deleted_source_cannot_be_decrypted_with_any_key_the_passphrases_yield() {
    let v = TestVault::new();
    let s = vault_with_every_secret(&v);
    let marker = "QX7-source-marker-Zulfiya";
    let id = v
        .ok(
            &[
                "add",
                "source",
                "--name",
                &format!("{marker} name"),
                "--contact",
                &format!("{marker}@contact.example"),
            ],
            &format!("{marker} met at the bazaar"),
        )
        .trim()
        .to_string();
    let edited = v.add_draft("QX7-old-title-Farhod", "QX7-old-body-Dushanbe");
    for i in 0..3 {
        v.add_draft(&format!("Other {i}"), "nothing to see");
    }
    let decoy = v.run_with_pass(&s.duress, &["add", "draft", "--title", "Recipes"], "plov");
    assert!(decoy.status.success(), "{}", stderr(&decoy));
    v.ok(&["list"], ""); // the real view imports the duress event

    // Positive control: from the raw files, with the passphrase, the examiner reads them,
    // and the copies taken now open with what it has: the test can fail.
    let markers = [marker, "QX7-old-title-Farhod", "QX7-old-body-Dushanbe"];
    let old_source = snapshot(&v, &id, "old-source");
    let old_draft = snapshot(&v, &edited, "old-draft");
    let old = std::fs::read(&old_source).unwrap();
    assert!(old.len() >= 540, "{}", old.len());
    let before = examine(
        &v,
        &s,
        &markers,
        &[
            ("--old", old_source.as_os_str()),
            ("--old", old_draft.as_os_str()),
        ],
    );
    assert_every_secret_opens(&before);
    let source = record(&before, &id).expect("the examiner reads the source");
    assert!(source.to_string().contains(marker), "{source}");
    assert!(
        found(&before)
            .iter()
            .any(|f| f["where"].as_str().unwrap().starts_with("row ")),
        "{before:#}"
    );
    assert!(
        before["old"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| !o["opened"].as_array().unwrap().is_empty()),
        "{before:#}"
    );

    // `rm` and `edit` return: nothing of the old versions comes back.
    v.ok(&["rm", &id], "");
    v.ok(
        &["edit", &edited, "--title", "New title", "--stdin-body"],
        "new body",
    );
    assert!(v.ok(&["show", &edited], "").contains("new body"));
    let after = examine(
        &v,
        &s,
        &markers,
        &[
            ("--id", id.as_ref()),
            ("--old", old_source.as_os_str()),
            ("--old", old_draft.as_os_str()),
        ],
    );
    assert!(record(&after, &id).is_none());
    let now = record(&after, &edited)
        .expect("the edited draft is read")
        .to_string();
    assert!(
        now.contains("New title") && now.contains("new body"),
        "{now}"
    );
    assert_gone(&after, "rm and edit");
}

/// A little ext4 file system in an image, loop-mounted; unmounted when dropped.
struct Ext4Image {
    _temp: tempfile::TempDir,
    image: PathBuf,
    mount: PathBuf,
    mounted: bool,
}

impl Ext4Image {
    /// None (with the reason) where it cannot be made: not root, no mkfs.ext4 or loop.
    fn new(mib: u64) -> Result<Ext4Image, String> {
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root".into());
        }
        let temp = tempfile::tempdir().unwrap();
        let image = temp.path().join("disk.img");
        let mount = temp.path().join("mnt");
        std::fs::create_dir(&mount).unwrap();
        std::fs::File::create(&image)
            .unwrap()
            .set_len(mib << 20)
            .unwrap();
        let mkfs = Command::new("mkfs.ext4")
            .args(["-q", "-F"])
            .arg(&image)
            .output()
            .map_err(|e| format!("mkfs.ext4: {e}"))?;
        if !mkfs.status.success() {
            return Err(format!(
                "mkfs.ext4: {}",
                String::from_utf8_lossy(&mkfs.stderr)
            ));
        }
        let out = Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&mount)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -o loop: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(Ext4Image {
            _temp: temp,
            image,
            mount,
            mounted: true,
        })
    }

    fn unmount(&mut self) {
        let out = Command::new("umount").arg(&self.mount).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.mounted = false;
    }
}

impl Drop for Ext4Image {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.mount).output();
        }
    }
}

/// `len` bytes: the marker, then seeded random-looking bytes with the marker every 64 KiB.
fn marked_file(marker: &str, len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        if out.len() % 65536 == 0 {
            out.extend_from_slice(marker.as_bytes());
        }
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[test]
fn a_detached_attachment_cannot_be_recovered_from_a_raw_ext4_image() {
    let mut disk = match Ext4Image::new(64) {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!(
                "SKIPPED a_detached_attachment_cannot_be_recovered_from_a_raw_ext4_image: {why}"
            );
            return;
        }
    };
    let mut v = TestVault::uninitialised();
    v.dir = disk.mount.join("vault");
    let out = v.run_plain(&["init", "--insecure-fast-kdf"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let s = vault_with_every_secret(&v);
    let id = v.add_draft("Leaked memo", "see the scan");
    v.add_draft("Other", "nothing to see");
    let marker = "QX7-attachment-marker-Rasht";
    let file = v.path("scan.bin"); // outside the image
    let content = marked_file(marker, 300 * 1024 + 123);
    std::fs::write(&file, &content).unwrap();
    v.ok(
        &["attach", &id, file.to_str().unwrap(), "--name", "scan.bin"],
        "",
    );
    let sync = || assert!(Command::new("sync").status().unwrap().success());
    sync();

    // Positive control: the examiner carves the blob out of the image and decrypts it with
    // the attachment key from the record.
    let image = disk.image.clone();
    let before = examine(&v, &s, &[marker], &[("--scan", image.as_os_str())]);
    let memo = record(&before, &id).expect("the examiner reads the record");
    let attachment = &memo["attachments"][0];
    let blob = attachment["blob"].as_str().unwrap().to_string();
    assert_eq!(attachment["size"], content.len());
    let carved: Vec<&Value> = before["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["file"] == image.to_str().unwrap() && !b["opened"].is_null())
        .collect();
    assert!(
        !carved.is_empty(),
        "nothing carved from the image: {before:#}"
    );
    assert!(
        found(&before)
            .iter()
            .any(|f| f["where"].as_str().unwrap().contains("blob at")),
        "{before:#}"
    );
    let old_record = snapshot(&v, &id, "old-record");

    v.ok(&["detach", &id, "scan.bin"], "");
    sync();
    let vault_dir = v.dir.clone();
    v.dir = v.temp.path().join("copy-of-vault");
    copy_dir(&vault_dir, &v.dir);
    disk.unmount();
    let size = content.len().to_string();
    let after = examine(
        &v,
        &s,
        &[marker],
        &[
            ("--scan", image.as_os_str()),
            ("--blob-id", blob.as_ref()),
            ("--size", size.as_ref()),
            ("--old", old_record.as_os_str()),
        ],
    );
    assert!(
        record(&after, &id).unwrap()["attachments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let opened: Vec<&Value> = after["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| !b["opened"].is_null())
        .collect();
    assert!(opened.is_empty(), "a carved blob opens: {opened:#?}");
    assert_gone(&after, "detach");
    eprintln!(
        "detach: blob magics carved from the image afterwards: {}",
        after["blobs"].as_array().unwrap().len()
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn shape(v: &TestVault) -> Value {
    run_examiner(&["shape".as_ref(), v.dir.as_os_str()])
}

/// A: a plain vault with a few records.
fn vault_a() -> TestVault {
    let v = TestVault::new();
    for i in 0..3 {
        v.add_draft(&format!("Story {i}"), "body");
    }
    v
}

const LABELS: [&str; 10] = [
    "decoy", "setting", "watchers", "device", "contacts", "plan", "events", "duress", "recovery",
    "identity",
];

#[test]
fn no_label_in_a_raw_copy_names_what_is_set() {
    let a = vault_a();
    let b = vault_b();
    let c = vault_c();
    for (name, v) in [("A", &a), ("B", &b), ("C", &c)] {
        let shape = shape(v);
        for (file, strings) in shape["strings"].as_object().unwrap() {
            for s in strings.as_array().unwrap() {
                let s = s.as_str().unwrap().to_lowercase();
                for label in LABELS {
                    assert!(
                        !s.contains(label),
                        "vault {name}, {file}: {s:?} names {label}"
                    );
                }
            }
        }
    }
}

/// B: as A, plus a recovery key and a duress passphrase, a decoy record added under it,
/// then both removed.
fn vault_b() -> TestVault {
    let v = vault_a();
    v.ok(&["recovery", "add"], "");
    let duress = v.set_duress("umbrella sideways pelican");
    let out = v.run_with_pass(&duress, &["add", "draft", "--title", "Recipes"], "plov");
    assert!(out.status.success(), "{}", stderr(&out));
    v.ok(&["list"], "");
    v.ok(&["duress", "remove"], "");
    v.ok(&["recovery", "remove"], "");
    v.ok(&["list"], "");
    v
}

/// C: as A, plus a duress passphrase that stays set.
fn vault_c() -> TestVault {
    let v = vault_a();
    v.set_duress("umbrella sideways pelican");
    v.ok(&["list"], "");
    v
}

fn tree_kinds(shape: &Value) -> Vec<String> {
    shape["trees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_string())
        .collect()
}

fn rows_of(shape: &Value, kind: &str) -> Vec<u64> {
    let mut rows: Vec<u64> = shape["trees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == kind)
        .map(|t| t["rows"].as_u64().unwrap())
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_vault_with_a_duress_passphrase_has_the_same_shape_as_one_without() {
    let (a, b, c) = (vault_a(), vault_b(), vault_c());
    let (sa, sb, sc) = (shape(&a), shape(&b), shape(&c));
    for (name, other) in [("B", &sb), ("C", &sc)] {
        assert_eq!(sa["files"], other["files"], "files of A and {name}");
        assert_eq!(sa["tables"], other["tables"], "tables of A and {name}");
        assert_eq!(
            tree_kinds(&sa),
            tree_kinds(other),
            "trees of A and {name}: {sa:#} {other:#}"
        );
        assert_eq!(
            sa["keys_bytes"], other["keys_bytes"],
            "keys file of A and {name}"
        );
        assert_eq!(other["legacy_rows"], 0);
        assert_eq!(
            rows_of(&sa, "r"),
            rows_of(other, "r"),
            "records of A and {name}"
        );
        // Both views get their event log and a chaff record at `init`, so neither a
        // duress use nor the decoy's first record adds a row or a tree of its own.
        assert_eq!(
            rows_of(&sa, "m"),
            rows_of(other, "m"),
            "metadata rows per tree of A and {name}"
        );
    }
    // The real and the decoy metadata trees look alike (the docs: the spaces cannot be
    // told apart without the key).
    let m = rows_of(&sa, "m");
    assert!(
        m.windows(2).all(|w| w[0] == w[1]),
        "in A the metadata trees have {m:?} rows"
    );
    // C once the decoy holds a record (as a believable decoy must) and has been used: the
    // same trees and metadata rows as A; only the number of records differs.
    let duress = c.secret_file("duress", "umbrella sideways pelican");
    let out = c.run_with_pass(&duress, &["add", "draft", "--title", "Recipes"], "plov");
    assert!(out.status.success(), "{}", stderr(&out));
    c.ok(&["list"], "");
    let sd = shape(&c);
    assert_eq!(
        tree_kinds(&sa),
        tree_kinds(&sd),
        "trees once the decoy is used"
    );
    assert_eq!(
        rows_of(&sa, "m"),
        rows_of(&sd, "m"),
        "metadata rows once the decoy is used"
    );
}
