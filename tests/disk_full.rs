//! A full disk: a clear error and a distinct exit code, nothing previously stored lost, and
//! the vault opens and checks clean once space is freed. Runs on a small tmpfs mounted by
//! the test (CI runs as root, which mounting needs).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A tmpfs of `mib` MiB, unmounted when dropped.
struct SmallDisk {
    _temp: tempfile::TempDir,
    path: PathBuf,
}

impl SmallDisk {
    fn new(mib: u32) -> SmallDisk {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a test tmpfs needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { _temp: temp, path }
    }

    /// Fills the disk until `leave` bytes are free (about: tmpfs counts in pages).
    fn fill_until(&self, leave: u64) {
        let free = posbon::disk::free_bytes(&self.path).unwrap();
        let filler = self.path.join("filler");
        let mut size = std::fs::metadata(&filler).map(|m| m.len()).unwrap_or(0);
        size += free.saturating_sub(leave);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&filler)
            .unwrap();
        // Really written, so tmpfs counts it.
        use std::io::Write;
        let mut file = std::io::BufWriter::new(file);
        let chunk = vec![0u8; 1 << 16];
        let mut written = std::fs::metadata(&filler).unwrap().len();
        while written < size {
            let n = chunk.len().min((size - written) as usize);
            if file.write_all(&chunk[..n]).is_err() {
                break;
            }
            written += n as u64;
        }
        let _ = file.flush();
    }

    fn free_filler(&self) {
        let _ = std::fs::remove_file(self.path.join("filler"));
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).output();
    }
}

fn vault_on(disk: &Path) -> TestVault {
    let mut v = TestVault::uninitialised();
    v.dir = disk.join("vault");
    let out = v.run_plain(&["init", "--insecure-fast-kdf"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    v
}

#[test]
fn a_full_disk_gives_a_clear_error_and_loses_nothing() {
    let disk = SmallDisk::new(48);
    let v = vault_on(&disk.path);
    let kept: Vec<String> = (0..5)
        .map(|i| v.add_draft(&format!("Kept {i}"), "written before the disk filled"))
        .collect();

    // An attachment larger than the disk: refused, its partial file removed.
    let big = v.path("big.bin");
    std::fs::write(&big, vec![7u8; 60 * 1024 * 1024]).unwrap();
    let out = v.run(&["attach", &kept[0], big.to_str().unwrap()], "");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("No space left") || stderr(&out).contains("is full"),
        "{}",
        stderr(&out)
    );

    // Nearly full: reading still works, writing is refused before the database is touched.
    disk.fill_until(5 * 1024 * 1024);
    assert_eq!(v.listed_ids().len(), 5);
    let out = v.run(&["add", "draft", "--title", "One more"], "body");
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert!(stderr(&out).contains("is full") && stderr(&out).contains("nothing was changed"));

    // Completely full: even opening is refused, clearly.
    disk.fill_until(0);
    let out = v.run(&["list"], "");
    assert_eq!(code(&out), 11, "{}", stderr(&out));

    // Space freed: everything is there and authenticates.
    disk.free_filler();
    assert_eq!(v.listed_ids().len(), 5);
    for id in &kept {
        assert!(
            v.ok(&["show", id], "")
                .contains("written before the disk filled")
        );
    }
    let check = v.ok(&["vault", "check"], "");
    assert!(check.contains("5 record(s)"), "{check}");
    v.add_draft("After", "space freed");
}
