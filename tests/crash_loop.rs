//! `kill -9` back to back: short vault commands (add, edit, rm, attach, passwd, duress set and
//! remove, capture and its import) killed at random moments, one straight after the other, with no
//! clean open in between, so that kills also land in the unlock, the store's open and its
//! recovery from the kill before. Afterwards the vault opens, `vault check` passes, and every
//! acknowledged change is there.
//!
//! `cargo test` runs a bounded loop; `POSBON_KILLS=1000 cargo test --release --test
//! crash_loop -- --nocapture` (or `tests/crash-loops.sh vault 1000`) runs the full one.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// What the vault may hold for one record: each title it may have (`None`: it may be gone).
type Allowed = HashSet<Option<String>>;

#[derive(Default)]
struct Model {
    records: HashMap<String, Allowed>,
    /// (record, attachment name) → SHA-256 of the acknowledged content.
    attachments: HashMap<(String, String), String>,
    captured_titles: Vec<String>,
    /// Whether the duress passphrase opens: `Some(true)` after an acknowledged `duress set`,
    /// `Some(false)` after an acknowledged `duress remove`, `None` when a kill left either.
    duress_set: Option<bool>,
}

impl Model {
    /// Records that are certainly there, to aim the next command at.
    fn present(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .records
            .iter()
            .filter(|(_, allowed)| allowed.len() == 1 && !allowed.contains(&None))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }
}

enum Outcome {
    /// Finished by itself.
    Done(Output),
    Killed,
}

/// Runs `command`, killing it after `delay` unless it finished first.
fn run_or_kill(mut command: Command, stdin: &[u8], delay: Duration) -> Outcome {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        let _ = pipe.write_all(stdin);
    }
    let started = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            return Outcome::Done(child.wait_with_output().unwrap());
        }
        if started.elapsed() >= delay {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            // It may have finished in the instant before the signal.
            return if output.status.code().is_some() {
                Outcome::Done(output)
            } else {
                Outcome::Killed
            };
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

struct Loop {
    v: TestVault,
    rng: Rng,
    model: Model,
    passphrases: [PathBuf; 2],
    /// Which of the two passphrases opens the vault, as far as we know.
    current: usize,
    duress_file: PathBuf,
    typical: Duration,
    kills: usize,
    finished: usize,
    counter: usize,
}

impl Loop {
    fn command(&self, pass: Option<usize>, args: &[&str]) -> Command {
        let mut command = self.v.command();
        if let Some(which) = pass {
            command
                .arg("--passphrase-file")
                .arg(&self.passphrases[which]);
        }
        command.args(args);
        command
    }

    /// Runs one command with a random kill; returns its output if it finished. A finished
    /// command must have succeeded, except for a wrong passphrase after a killed `passwd`.
    fn step(&mut self, pass: bool, args: &[&str], stdin: &[u8]) -> Option<Output> {
        // Up to 1.5 times a typical run: about half the commands are killed, at any point
        // from the start of the unlock to the end of the write.
        // (Commands that do not unlock are much quicker; they get their own share.)
        let typical = if pass { self.typical } else { self.typical / 8 };
        let window = typical.as_millis() as u64 * 3 / 2 + 5;
        let delay = Duration::from_millis(self.rng.below(window));
        let started = Instant::now();
        let command = self.command(pass.then_some(self.current), args);
        match run_or_kill(command, stdin, delay) {
            Outcome::Killed => {
                self.kills += 1;
                // Only quick runs finish, so finished runs alone would shrink the window
                // until nothing finishes: each kill widens it a little.
                if pass {
                    self.typical = self.typical * 17 / 16;
                }
                None
            }
            Outcome::Done(output) => {
                self.finished += 1;
                if pass {
                    self.typical = (self.typical * 7 + started.elapsed()) / 8;
                }
                if pass && output.status.code() == Some(3) {
                    // A `passwd` killed earlier had in fact finished: the other one opens.
                    self.current = 1 - self.current;
                    return None;
                }
                assert!(
                    output.status.success(),
                    "posbon {args:?} failed after {} kills ({:?}): {}",
                    self.kills,
                    output.status.code(),
                    stderr(&output)
                );
                Some(output)
            }
        }
    }

    fn one_random_command(&mut self) {
        self.counter += 1;
        let n = self.counter;
        let present = self.model.present();
        let target = (!present.is_empty())
            .then(|| present[self.rng.below(present.len() as u64) as usize].clone());
        match (self.rng.below(9), target) {
            (0 | 1, _) | (_, None) => {
                let title = format!("record {n}");
                let body = format!("body {n} {}", "x".repeat(self.rng.below(5000) as usize));
                if let Some(out) =
                    self.step(true, &["add", "draft", "--title", &title], body.as_bytes())
                {
                    let id = stdout(&out).trim().to_string();
                    self.model.records.insert(id, HashSet::from([Some(title)]));
                }
            }
            (2, Some(id)) => {
                let title = format!("edited {n}");
                let done = self
                    .step(true, &["edit", &id, "--title", &title], b"")
                    .is_some();
                let allowed = self.model.records.get_mut(&id).unwrap();
                if done {
                    allowed.clear();
                }
                allowed.insert(Some(title));
            }
            (3, Some(id)) => {
                let done = self.step(true, &["rm", &id], b"").is_some();
                let allowed = self.model.records.get_mut(&id).unwrap();
                if done {
                    allowed.clear();
                    self.model.attachments.retain(|(r, _), _| *r != id);
                }
                allowed.insert(None);
            }
            (4, Some(id)) => {
                let name = format!("file-{n}.bin");
                let mut content = vec![0u8; 1000 + self.rng.below(300_000) as usize];
                for (i, byte) in content.iter_mut().enumerate() {
                    *byte = (i as u64 * 31 + n as u64) as u8;
                }
                let path = self.v.path(&name);
                std::fs::write(&path, &content).unwrap();
                if self
                    .step(true, &["attach", &id, path.to_str().unwrap()], b"")
                    .is_some()
                {
                    self.model
                        .attachments
                        .insert((id, name), sha256_hex(&content));
                }
            }
            (5, _) => {
                let other = 1 - self.current;
                let new = self.passphrases[other].clone();
                if self
                    .step(
                        true,
                        &["passwd", "--new-passphrase-file", new.to_str().unwrap()],
                        b"",
                    )
                    .is_some()
                {
                    self.current = other;
                }
            }
            (6, _) if self.rng.below(3) == 0 => {
                // Removing the duress passphrase replaces the whole decoy: a kill anywhere in
                // it must leave a vault whose next `duress set` works.
                let done = self.step(true, &["duress", "remove"], b"").is_some();
                self.model.duress_set = match (done, self.model.duress_set) {
                    (true, _) => Some(false),
                    (false, Some(false)) => Some(false),
                    (false, _) => None,
                };
            }
            (6, _) => {
                let duress = self.duress_file.clone();
                let done = self
                    .step(
                        true,
                        &[
                            "duress",
                            "set",
                            "--duress-passphrase-file",
                            duress.to_str().unwrap(),
                        ],
                        b"",
                    )
                    .is_some();
                self.model.duress_set = match (done, self.model.duress_set) {
                    (true, _) => Some(true),
                    (false, Some(true)) => Some(true),
                    (false, _) => None,
                };
            }
            (7, _) => {
                let title = format!("captured {n}");
                if self
                    .step(false, &["capture", "note", "--title", &title], b"seen")
                    .is_some()
                {
                    self.model.captured_titles.push(title);
                }
            }
            _ => {
                // An unlock alone: imports captures, recovers from the kill before.
                self.step(true, &["list"], b"");
            }
        }
    }

    /// Runs with whichever passphrase opens the vault now, without killing.
    fn settle(&mut self, args: &[&str]) -> Output {
        for _ in 0..2 {
            let out = self.command(Some(self.current), args).output().unwrap();
            if out.status.code() == Some(3) {
                self.current = 1 - self.current;
                continue;
            }
            return out;
        }
        panic!(
            "neither passphrase opens the vault after {} kills",
            self.kills
        );
    }

    fn verify(&mut self) {
        let listed = self.settle(&["list"]);
        assert!(
            listed.status.success(),
            "the vault does not open after {} kills: {}",
            self.kills,
            stderr(&listed)
        );
        let check = self.settle(&["vault", "check"]);
        assert!(
            check.status.success(),
            "vault check fails after {} kills: {}{}",
            self.kills,
            stdout(&check),
            stderr(&check)
        );
        let listing = stdout(&listed);
        let titles: HashMap<String, String> = listing
            .lines()
            .map(|line| {
                let mut parts = line.splitn(3, '\t');
                let id = parts.next().unwrap().to_string();
                let title = parts.nth(1).unwrap_or("").to_string();
                (id, title)
            })
            .collect();
        for (id, allowed) in &self.model.records {
            let state = titles.get(id).cloned();
            assert!(
                allowed.contains(&state),
                "record {id} is {state:?}, but only {allowed:?} were possible (after {} kills)",
                self.kills
            );
        }
        for ((id, name), digest) in self.model.attachments.clone() {
            if !titles.contains_key(&id) {
                continue; // its record's removal may have gone through before a kill
            }
            let out_path = self.v.path("extracted");
            let _ = std::fs::remove_file(&out_path);
            let out = self.settle(&["extract", &id, &name, "--out", out_path.to_str().unwrap()]);
            assert!(
                out.status.success(),
                "acknowledged attachment {name} of {id} is lost: {}",
                stderr(&out)
            );
            assert_eq!(sha256_hex(&std::fs::read(&out_path).unwrap()), digest);
        }
        let all_titles: HashSet<&String> = titles.values().collect();
        for title in &self.model.captured_titles {
            assert!(
                all_titles.contains(title),
                "acknowledged capture {title:?} was never imported"
            );
        }
        let out = self.v.run_with_pass(&self.duress_file, &["list"], "");
        match self.model.duress_set {
            Some(true) => assert!(
                out.status.success(),
                "the acknowledged duress passphrase does not open: {}",
                stderr(&out)
            ),
            Some(false) => assert_eq!(
                out.status.code(),
                Some(3),
                "a duress passphrase removed (acknowledged) still opens: {}",
                stderr(&out)
            ),
            None => {}
        }
    }
}

#[test]
fn back_to_back_kills_of_every_kind_of_write_lose_nothing_acknowledged() {
    let kills: usize = std::env::var("POSBON_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let v = TestVault::new();
    let passphrases = [
        v.pass_file.clone(),
        v.secret_file("second-pass", "a second passphrase for the loop"),
    ];
    let duress_file = v.secret_file("duress-pass", "duress words for the loop");
    let mut run = Loop {
        v,
        rng: Rng::seeded(),
        model: Model::default(),
        passphrases,
        current: 0,
        duress_file,
        typical: Duration::from_millis(400),
        kills: 0,
        finished: 0,
        counter: 0,
    };
    let started = Instant::now();
    while run.kills < kills {
        run.one_random_command();
    }
    run.verify();
    eprintln!(
        "{} kills and {} finished commands in {:.0?}; {} records tracked, {} attachments, {} captures; nothing acknowledged was lost",
        run.kills,
        run.finished,
        started.elapsed(),
        run.model.records.len(),
        run.model.attachments.len(),
        run.model.captured_titles.len()
    );
}
