//! Record operations at scale, through the library: adding 10,000 records (each flushed to
//! disk), listing and searching them after unlock, and the unlock itself (Argon2id at the
//! interactive cost). Run with `cargo bench --bench records`; prints a Markdown table.

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
        "| unlock, Argon2id {} MiB x {} passes (median of 3) | {} | about 1 s |",
        KdfParams::INTERACTIVE.memory_kib / 1024,
        KdfParams::INTERACTIVE.passes,
        ms(unlock)
    );
}
