//! Record operations at scale, through the library: adding 10,000 records (each flushed to
//! disk), listing and searching them after unlock, opening the vault that holds them, editing
//! and deleting (each deletion destroys the record's key on disk), and the unlock itself
//! (Argon2id at the interactive cost). Run with `cargo bench --bench records`, on tmpfs for
//! the data paths (`TMPDIR=/dev/shm`); prints a Markdown table.

use std::time::{Duration, Instant};

use posbon::secret::Passphrase;
use posbon::vault::keyslots::KdfParams;
use posbon::vault::{Kind, Record, Unlock, Vault};

const RECORDS: usize = 10_000;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("vault");
    let passphrase = Passphrase::new("benchmark passphrase".into());
    Vault::create(&dir, &passphrase, KdfParams::INSECURE_FAST).expect("create");
    let vault = Vault::open(&dir, Unlock::Passphrase(&passphrase)).expect("open");

    let started = Instant::now();
    for i in 0..RECORDS {
        let mut record = Record::new(Kind::Note, format!("Case {i}/2026"), posbon::vault::now());
        record.tags = vec!["court".into(), format!("tag{}", i % 50)];
        record.body = format!("Hearing notes number {i}. ").repeat(20);
        if i == RECORDS / 2 {
            record.body.push_str(" needle-in-haystack");
        }
        vault.add(&record).expect("add");
    }
    let add_total = started.elapsed();

    let list = median(
        (0..7)
            .map(|_| {
                let t = Instant::now();
                let listing = vault.records().expect("list");
                assert_eq!(listing.records.len(), RECORDS);
                t.elapsed()
            })
            .collect(),
    );
    let search = median(
        (0..7)
            .map(|_| {
                let t = Instant::now();
                let hits = vault
                    .search(&["needle-in-haystack".into()])
                    .expect("search");
                assert_eq!(hits.records.len(), 1);
                t.elapsed()
            })
            .collect(),
    );
    let ids: Vec<_> = vault
        .records()
        .expect("list")
        .records
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let edits = 1000;
    let started = Instant::now();
    for id in ids.iter().take(edits) {
        let mut record = vault.get(id).expect("get");
        record.title.push_str(" (edited)");
        vault.put(id, &record).expect("put");
    }
    let edit_total = started.elapsed();
    drop(vault);

    let reopen = median(
        (0..7)
            .map(|_| {
                let t = Instant::now();
                drop(Vault::open(&dir, Unlock::Passphrase(&passphrase)).expect("open"));
                t.elapsed()
            })
            .collect(),
    );
    let vault = Vault::open(&dir, Unlock::Passphrase(&passphrase)).expect("open");
    let deletions = 1000;
    let started = Instant::now();
    for id in ids.iter().rev().take(deletions) {
        vault.remove(id).expect("remove");
    }
    let remove_total = started.elapsed();
    drop(vault);

    let slow_dir = temp.path().join("interactive");
    Vault::create(&slow_dir, &passphrase, KdfParams::INTERACTIVE).expect("create");
    let unlock = median(
        (0..3)
            .map(|_| {
                let t = Instant::now();
                drop(Vault::open(&slow_dir, Unlock::Passphrase(&passphrase)).expect("open"));
                t.elapsed()
            })
            .collect(),
    );

    println!("| operation | result | target |");
    println!("| --- | --- | --- |");
    println!(
        "| add {RECORDS} records, each flushed to disk | {} total, {:.2} ms each | - |",
        ms(add_total),
        add_total.as_secs_f64() * 1000.0 / RECORDS as f64
    );
    println!(
        "| list {RECORDS} records after unlock (median of 7) | {} | < 200 ms |",
        ms(list)
    );
    println!(
        "| search {RECORDS} records after unlock (median of 7) | {} | < 100 ms |",
        ms(search)
    );
    println!(
        "| edit {edits} records, each flushed (old version's key destroyed) | {} total, {:.2} ms each | - |",
        ms(edit_total),
        edit_total.as_secs_f64() * 1000.0 / edits as f64
    );
    println!(
        "| delete {deletions} records, each flushed (key destroyed) | {} total, {:.2} ms each | - |",
        ms(remove_total),
        remove_total.as_secs_f64() * 1000.0 / deletions as f64
    );
    println!(
        "| open the vault holding {RECORDS} records, fast KDF (median of 7) | {} | - |",
        ms(reopen)
    );
    println!(
        "| unlock, Argon2id {} MiB x {} passes (median of 3) | {} | about 1 s |",
        KdfParams::INTERACTIVE.memory_kib / 1024,
        KdfParams::INTERACTIVE.passes,
        ms(unlock)
    );
}
