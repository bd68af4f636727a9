//! What the filesystem keeps (issue 11): after `panic`, no copy of the key slots left
//! anywhere on a btrfs disk opens with any passphrase ever used; the vault is made
//! no-copy-on-write where it can be, and says so where it cannot; file times say nothing.
//!
//! The btrfs tests make a 256 MiB btrfs image, mount it through a loop device and carve the
//! raw image afterwards, as an examiner would. They need root, `mkfs.btrfs` (Debian's
//! btrfs-progs, which `.ci/run` installs) and loop devices; without them they say why on
//! stderr and pass without testing.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use posbon::fsprotect::FLAT_TIME;

/// A btrfs filesystem in an image file, mounted through a loop device; unmounted when dropped.
struct Btrfs {
    temp: tempfile::TempDir,
    image: PathBuf,
    mount: PathBuf,
    mounted: bool,
}

impl Btrfs {
    /// A fresh btrfs, or `None` (saying why) where this machine cannot make one.
    fn new() -> Option<Btrfs> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIPPED: mounting a btrfs image needs root");
            return None;
        }
        if Command::new("mkfs.btrfs")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("SKIPPED: mkfs.btrfs is missing (apt-get install btrfs-progs)");
            return None;
        }
        let temp = tempfile::tempdir().unwrap();
        let image = temp.path().join("disk.img");
        let mount = temp.path().join("mnt");
        std::fs::create_dir(&mount).unwrap();
        std::fs::File::create(&image)
            .unwrap()
            .set_len(256 * 1024 * 1024)
            .unwrap();
        let out = Command::new("mkfs.btrfs")
            .arg("-q")
            .arg(&image)
            .output()
            .unwrap();
        assert!(out.status.success(), "mkfs.btrfs: {}", stderr(&out));
        let out = Command::new("mount")
            .args(["-t", "btrfs", "-o", "loop"])
            .arg(&image)
            .arg(&mount)
            .output()
            .unwrap();
        if !out.status.success() {
            eprintln!(
                "SKIPPED: cannot mount a btrfs image through a loop device: {}",
                stderr(&out)
            );
            return None;
        }
        Some(Btrfs {
            temp,
            image,
            mount,
            mounted: true,
        })
    }

    /// Unmounts, so that everything written is in the image file (the loop device is freed).
    fn unmount(&mut self) {
        let out = Command::new("umount").arg(&self.mount).output().unwrap();
        assert!(out.status.success(), "umount: {}", stderr(&out));
        self.mounted = false;
    }
}

impl Drop for Btrfs {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.mount).output();
        }
    }
}

fn vault_in(dir: PathBuf) -> TestVault {
    let mut v = TestVault::uninitialised();
    v.dir = dir;
    let out = v.run_plain(&["init", "--insecure-fast-kdf"], "");
    assert!(out.status.success(), "init failed: {}", stderr(&out));
    v
}

fn copy_dir(from: &Path, to: &Path) {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(out.status.success(), "cp: {}", stderr(&out));
}

/// Every byte string in `image` that starts like a key-slot file, cut to the length its
/// version field announces (758 bytes for version 1, 8192 for version 2).
fn carve_key_slot_files(image: &[u8]) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(pos) = image[at..].windows(8).position(|w| w == b"POSBONVK") {
        let start = at + pos;
        let version = u16::from_be_bytes([image[start + 8], image[start + 9]]);
        let len = if version >= 2 { 8192 } else { 758 };
        let end = (start + len).min(image.len());
        found.push(image[start..end].to_vec());
        at = start + 8;
    }
    found
}

#[test]
fn after_panic_no_copy_of_the_key_slots_on_a_btrfs_disk_opens() {
    let Some(mut disk) = Btrfs::new() else {
        return;
    };
    let mut v = vault_in(disk.mount.join("vault"));
    for i in 0..3 {
        v.add_draft(&format!("Source {i}"), "met at the usual place");
    }
    let mut used = vec![v.pass_file.clone()];
    for i in 0..4 {
        let new = v.secret_file(&format!("pass{i}"), &format!("passphrase number {i}"));
        v.ok(
            &["passwd", "--new-passphrase-file", new.to_str().unwrap()],
            "",
        );
        v.pass_file = new.clone();
        used.push(new);
    }
    let duress = v.set_duress("an innocent duress passphrase");
    v.ok(&["list"], "");
    let out = v.run_with_pass(&duress, &["list"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    used.push(duress);
    let out = v.run_plain(&["panic", "--yes"], "");
    assert!(out.status.success(), "panic failed: {}", stderr(&out));

    let kept = disk.temp.path().join("kept-vault");
    copy_dir(&v.dir, &kept);
    disk.unmount();

    let image = std::fs::read(&disk.image).unwrap();
    let candidates = carve_key_slot_files(&image);
    assert!(
        !candidates.is_empty(),
        "carving found not even the erased key-slot file"
    );
    let mut opened = Vec::new();
    for (n, candidate) in candidates.iter().enumerate() {
        let trial = disk.temp.path().join(format!("trial{n}"));
        copy_dir(&kept, &trial);
        std::fs::write(trial.join("keyslots"), candidate).unwrap();
        for pass in &used {
            let mut command = posbon();
            command
                .arg("--vault")
                .arg(&trial)
                .arg("--passphrase-file")
                .arg(pass)
                .arg("list");
            if feed(command, b"").status.success() {
                opened.push((n, pass.file_name().unwrap().to_owned()));
            }
        }
        std::fs::remove_dir_all(&trial).unwrap();
    }
    let mut copies_that_open: Vec<usize> = opened.iter().map(|(n, _)| *n).collect();
    copies_that_open.dedup();
    eprintln!(
        "carved {} key-slot file(s) from the image; {} opened with a passphrase once used: {opened:?}",
        candidates.len(),
        copies_that_open.len()
    );
    assert!(
        opened.is_empty(),
        "{} of {} carved key-slot copies still open after panic: {opened:?}",
        copies_that_open.len(),
        candidates.len()
    );
}

/// The attribute letters `lsattr` shows for `path` (a directory itself, not its contents).
fn lsattr(path: &Path) -> String {
    let out = Command::new("lsattr").arg("-d").arg(path).output().unwrap();
    assert!(out.status.success(), "lsattr: {}", stderr(&out));
    stdout(&out)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Every file and directory below `dir`, and `dir` itself.
fn everything_in(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            found.extend(everything_in(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn on_btrfs_the_vault_and_everything_made_in_it_are_no_copy_on_write() {
    let Some(disk) = Btrfs::new() else {
        return;
    };
    let v = vault_in(disk.mount.join("vault"));
    let out = v.run_plain(&["list"], "");
    assert!(!stderr(&out).contains("cannot promise"), "{}", stderr(&out));
    let id = v.add_draft("Scan", "");
    let file = v.path("scan.pdf");
    std::fs::write(&file, vec![3u8; 100_000]).unwrap();
    v.ok(&["attach", &id, file.to_str().unwrap()], "");
    let duress = v.set_duress("an innocent duress passphrase");
    let out = v.run_with_pass(&duress, &["add", "draft", "--title", "Shopping"], "");
    let decoy = stdout(&out).trim().to_string();
    let out = v.run_with_pass(&duress, &["attach", &decoy, file.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = v.run(&["list"], "");
    assert!(!stderr(&out).contains("cannot promise"), "{}", stderr(&out));

    let everything = everything_in(&v.dir);
    assert!(everything.len() > 8, "{everything:?}");
    for path in everything {
        assert!(
            lsattr(&path).contains('C'),
            "{} is not no-copy-on-write ({})",
            path.display(),
            lsattr(&path)
        );
    }
    assert_eq!(
        std::fs::metadata(v.dir.join("keyslots")).unwrap().len(),
        8192,
        "the key-slot file is small enough to be stored inline"
    );
}

#[test]
fn init_and_every_unlock_warn_when_a_btrfs_vault_cannot_be_made_no_copy_on_write() {
    let Some(disk) = Btrfs::new() else {
        return;
    };
    // A directory marked for compression: btrfs refuses no-copy-on-write on it and on what
    // is made in it (the two exclude each other).
    let compressed = disk.mount.join("compressed");
    std::fs::create_dir(&compressed).unwrap();
    let out = Command::new("chattr")
        .arg("+c")
        .arg(&compressed)
        .output()
        .unwrap();
    assert!(out.status.success(), "chattr +c: {}", stderr(&out));

    let mut v = TestVault::uninitialised();
    v.dir = compressed.join("vault");
    let out = v.run_plain(&["init", "--insecure-fast-kdf"], "");
    assert!(out.status.success(), "init failed: {}", stderr(&out));
    let warning = stderr(&out);
    assert!(
        warning.contains("btrfs") && warning.contains("cannot promise to destroy the keys"),
        "{warning}"
    );
    assert!(
        warning.contains("chattr +C") && warning.contains("ext4"),
        "{warning}"
    );
    assert!(!lsattr(&v.dir).contains('C'));

    let out = v.run(&["list"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot promise to destroy the keys"),
        "{}",
        stderr(&out)
    );

    // A vault on ordinary btrfs, copied into a directory without the attribute, warns too.
    let good = vault_in(disk.mount.join("good"));
    let plain = disk.mount.join("plain");
    std::fs::create_dir(&plain).unwrap();
    copy_dir(&good.dir, &plain.join("vault"));
    let mut copied = TestVault::uninitialised();
    copied.dir = plain.join("vault");
    copied.pass_file = good.pass_file.clone();
    let out = copied.run(&["list"], "");
    assert!(
        stderr(&out).contains("cannot promise to destroy the keys"),
        "{}",
        stderr(&out)
    );
}

/// Checks the access and modification times of everything in the vault, the database and
/// its key cells included. Each directory is checked before it is listed,
/// and its times are put back after, since listing a directory sets its access time.
fn assert_times_are_flat(v: &TestVault) {
    fn walk(path: &Path) {
        let meta = std::fs::symlink_metadata(path).unwrap();
        assert_eq!(meta.mtime(), FLAT_TIME, "mtime of {}", path.display());
        assert_eq!(meta.atime(), FLAT_TIME, "atime of {}", path.display());
        if meta.is_dir() {
            let entries: Vec<PathBuf> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            posbon::fsprotect::flatten_times(path).unwrap();
            for entry in entries {
                walk(&entry);
            }
        }
    }
    walk(&v.dir);
}

#[test]
fn file_times_say_nothing_after_adding_attaching_capturing_and_a_duress_unlock() {
    let v = TestVault::new();
    assert_times_are_flat(&v);
    let id = v.add_draft("Tender", "the cousin's company");
    let file = v.path("scan.pdf");
    std::fs::write(&file, vec![5u8; 200_000]).unwrap();
    v.ok(&["attach", &id, file.to_str().unwrap()], "");
    v.ok(
        &["attach", &id, file.to_str().unwrap(), "--name", "copy.pdf"],
        "",
    );
    let duress = v.set_duress("an innocent duress passphrase");
    let out = v.run_with_pass(&duress, &["list"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let mut command = v.command();
    command.args(["capture", "note", "--title", "checkpoint"]);
    assert!(feed(command, b"searched at 14:10").status.success());
    let mut command = v.command();
    command.args(["capture", "file"]).arg(&file);
    assert!(feed(command, b"").status.success());
    assert_times_are_flat(&v);
    // Counted after the check: listing the inbox sets its access time.
    assert_eq!(
        std::fs::read_dir(v.dir.join("inbox")).unwrap().count(),
        2,
        "the two captures wait in the inbox; the duress unlock added nothing"
    );

    // The real unlock imports the inbox; reading and removing leave no time either.
    let out = v.run(&["list"], "");
    assert!(
        stderr(&out).contains("imported 2 captured item(s)"),
        "{}",
        stderr(&out)
    );
    v.ok(
        &[
            "extract",
            &id,
            "scan.pdf",
            "--out",
            v.path("out.pdf").to_str().unwrap(),
        ],
        "",
    );
    v.ok(&["detach", &id, "copy.pdf"], "");
    v.ok(
        &[
            "passwd",
            "--new-passphrase-file",
            v.pass_file.to_str().unwrap(),
        ],
        "",
    );
    v.ok(&["vault", "check"], "");
    assert_times_are_flat(&v);
    assert_eq!(std::fs::read_dir(v.dir.join("inbox")).unwrap().count(), 0);
}

#[test]
fn a_vault_with_version_1_key_slots_still_opens_and_is_rewritten_as_version_2() {
    let v = TestVault::new();
    let id = v.add_draft("Kept", "from before version 2");
    let path = v.dir.join("keyslots");
    let v2 = std::fs::read(&path).unwrap();
    assert_eq!((v2.len(), &v2[8..10]), (8192, &[0u8, 2][..]));
    // Version 1: the same fields and slots, the checksum right after the slots.
    let mut v1 = v2[..726].to_vec();
    v1[8..10].copy_from_slice(&[0, 1]);
    let sum = ring::digest::digest(&ring::digest::SHA256, &v1);
    v1.extend_from_slice(sum.as_ref());
    std::fs::write(&path, &v1).unwrap();

    let out = v.run(&["show", &id], "");
    assert!(
        stdout(&out).contains("from before version 2"),
        "{}",
        stderr(&out)
    );
    let upgraded = std::fs::read(&path).unwrap();
    assert_eq!(upgraded.len(), 8192);
    assert_eq!(&upgraded[8..10], &[0, 2]);
    assert_eq!(
        &upgraded[10..726],
        &v1[10..726],
        "the slots are kept as they were"
    );
    assert!(v.ok(&["show", &id], "").contains("from before version 2"));
}
