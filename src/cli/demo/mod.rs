//! `posbon demo`: the whole story, played through in a temporary directory, printing each
//! step: first the vault's main features (with a generated passphrase), then the dead-man's
//! switch with two watchers, alerts, and a sealed release (`demo_story`). Nothing is left
//! behind.

mod story;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::crypto;
use crate::secret::Passphrase;
use crate::vault::backup::{self, Opener, Seal};
use crate::vault::keyslots::KdfParams;
use crate::vault::{self, Kind, Record, Unlock, Vault, VaultError, capture};

/// Removes the demo directory however the demo ends.
struct DemoDir(PathBuf);

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub(super) fn step(text: &str) {
    println!("\n== {text}");
}

/// True when any file under `dir` contains `needle`.
fn found_on_disk(dir: &Path, needle: &[u8]) -> Result<bool> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if found_on_disk(&path, needle)? {
                return Ok(true);
            }
        } else if fs::read(&path)?.windows(needle.len()).any(|w| w == needle) {
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn run(insecure_fast_kdf: bool) -> Result<()> {
    let kdf = if insecure_fast_kdf {
        KdfParams::INSECURE_FAST
    } else {
        KdfParams::INTERACTIVE
    };
    let root = DemoDir(std::env::temp_dir().join(format!(
        "posbon-demo-{}",
        hex::encode(crypto::random_array::<6>())
    )));
    let dir = root.0.join("vault");
    let passphrase = Passphrase::new(format!("demo-{}", hex::encode(crypto::random_array::<8>())));
    let marker = format!("MARKER-{}", hex::encode(crypto::random_array::<4>()));

    step(&format!(
        "Creating a vault at {} (Argon2id: about a second)",
        dir.display()
    ));
    let started = std::time::Instant::now();
    Vault::create(&dir, &passphrase, kdf)?;
    println!("created in {:.1} s", started.elapsed().as_secs_f64());

    step("Unlocking and adding a source, a draft and a case note");
    let started = std::time::Instant::now();
    let vault = Vault::open(&dir, Unlock::Passphrase(&passphrase))?;
    println!("unlocked in {:.1} s", started.elapsed().as_secs_f64());
    let mut source = Record::new(Kind::Source, "Фарход (demo)".into(), vault::now());
    source.set_field("contact", "Signal, evenings only");
    source.body = format!("Gave the tender documents. {marker}");
    let source_id = vault.add(&source)?;
    let mut draft = Record::new(
        Kind::Draft,
        "Тендер барои роҳ / The road tender".into(),
        vault::now(),
    );
    draft.tags = vec!["tender".into(), "Dushanbe".into()];
    draft.body = format!("The road contract went to the minister's cousin. {marker}");
    let draft_id = vault.add(&draft)?;
    let mut note = Record::new(Kind::Note, "Case 1-234/2026".into(), vault::now());
    note.set_field("court", "Dushanbe city court");
    note.body = "Hearing postponed; lawyer asks for the contract copies.".into();
    vault.add(&note)?;

    let attachment = format!("{marker} scanned contract ")
        .repeat(100_000)
        .into_bytes();
    let size = vault.attach(&draft_id, "contract.pdf", &mut &attachment[..])?;
    println!("attached contract.pdf ({size} bytes) to the draft, streamed in 64 KiB chunks");

    step("Listing and searching (after unlocking)");
    for (id, record) in vault.records()?.records {
        println!("{id}  {:<6}  {}", record.kind.as_str(), record.title);
    }
    let hits = vault.search(&["tender".to_string()])?.records;
    println!("search \"tender\": {} record(s)", hits.len());

    step("Looking for plaintext at rest");
    drop(vault);
    if found_on_disk(&dir, marker.as_bytes())? {
        bail!("plaintext found on disk: this is a bug");
    }
    println!("{marker} appears in no file under {}", dir.display());

    step("Capturing a note without the passphrase (write-only)");
    capture::capture_note(
        &dir,
        Kind::Note,
        "Checkpoint at Varzob",
        &[],
        b"Phone was searched at 14:10.",
    )?;
    println!("sealed into the inbox; unreadable until the next unlock");
    let vault = Vault::open(&dir, Unlock::Passphrase(&passphrase))?;
    for notice in vault.notices() {
        println!("on unlock: {notice}");
    }

    step("Backing up to a recovery key and verifying the backup");
    let (recovery_text, recipient) = {
        let mut vault = vault;
        let pair = vault.add_recovery_key()?;
        let check = vault.check()?;
        println!(
            "integrity check: {} record(s), {} attachment(s) authenticate",
            check.records_ok, check.attachments_ok
        );
        let recipient = age::x25519::Recipient::from_std_str(&pair.1)?;
        let backup_path = root.0.join("backup.age");
        let file = fs::File::create(&backup_path)?;
        backup::export(&vault, Seal::Recipients(vec![recipient]), &mut &file)?;
        (pair.0, backup_path)
    };
    let key_path = root.0.join("recovery.txt");
    fs::write(&key_path, recovery_text.expose())?;
    let summary = backup::verify(&recipient, Opener::IdentityFile(&key_path))?;
    println!(
        "backup verified: {} record(s), {} attachment(s) (it also opens with `age -d -i recovery.txt`)",
        summary.records, summary.attachments
    );
    let _ = source_id;

    step("Panic: destroying the key slots");
    let started = std::time::Instant::now();
    vault::panic_erase(&dir)?;
    println!("done in {} ms", started.elapsed().as_millis());
    match Vault::open(&dir, Unlock::Passphrase(&passphrase)) {
        Err(VaultError::WrongPassphrase) => println!("the passphrase no longer opens the vault"),
        Ok(_) => bail!("the vault still opened after panic: this is a bug"),
        Err(e) => return Err(e).context("reopening after panic"),
    }

    story::run_story(&root.0, insecure_fast_kdf)?;

    step("Cleaning up");
    drop(root);
    println!("removed the demo directory. See README.md for real use.");
    Ok(())
}

trait FromStdStr: Sized {
    fn from_std_str(text: &str) -> Result<Self>;
}

impl FromStdStr for age::x25519::Recipient {
    fn from_std_str(text: &str) -> Result<Self> {
        text.parse()
            .map_err(|e: &str| anyhow::anyhow!("bad recipient: {e}"))
    }
}
