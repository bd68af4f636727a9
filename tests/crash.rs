//! `kill -9` at random moments loses nothing that was acknowledged, and never corrupts the
//! vault. These tests really kill child processes, many times.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use common::*;

fn kill_9(child: &mut std::process::Child) {
    // Child::kill sends SIGKILL on Unix.
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn kill_9_during_a_long_run_of_adds_loses_no_acknowledged_record() {
    let v = TestVault::new();
    let mut rng = Rng::seeded();
    let mut acknowledged: HashSet<String> = HashSet::new();
    let rounds = 40;
    for round in 0..rounds {
        let mut command = v.command();
        command
            .arg("--passphrase-file")
            .arg(&v.pass_file)
            .arg("import");
        let mut child = spawn(command);
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            for i in 0.. {
                let line = format!(
                    "{{\"kind\":\"note\",\"title\":\"round {round} item {i}\",\"body\":\"{}\"}}\n",
                    "x".repeat(i % 3000)
                );
                if stdin.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (first_line, first_line_seen) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.is_empty() {
                    let _ = first_line.send(());
                }
                lines.push(line);
            }
            lines
        });
        // Kill while records are being written (not only during the slow unlock, which a
        // debug build on a busy machine can stretch past any fixed delay).
        let _ = first_line_seen.recv_timeout(Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(rng.below(300)));
        kill_9(&mut child);
        writer.join().unwrap();
        // A line is only an acknowledgement when complete (32 hex digits).
        acknowledged.extend(
            reader
                .join()
                .unwrap()
                .into_iter()
                .filter(|id| id.len() == 32),
        );
    }
    assert!(
        acknowledged.len() > rounds,
        "the adds did run: {}",
        acknowledged.len()
    );

    let listed: HashSet<String> = v.listed_ids().into_iter().collect();
    let lost: Vec<_> = acknowledged.difference(&listed).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after kill -9: {lost:?}"
    );
    let check = v.ok(&["vault", "check"], "");
    assert!(
        check.contains(&format!("{} record(s)", listed.len())),
        "{check}"
    );
    eprintln!(
        "{rounds} kills, {} acknowledged records, all present",
        acknowledged.len()
    );
}

#[test]
fn kill_9_during_attach_keeps_every_acknowledged_attachment_intact() {
    let v = TestVault::new();
    let mut rng = Rng::seeded();
    let id = v.add_draft("attachments under fire", "");
    let data: Vec<u8> = (0..6_000_000u32).map(|i| (i % 249) as u8).collect();
    let file = v.path("big.bin");
    std::fs::write(&file, &data).unwrap();
    let mut acknowledged = Vec::new();
    let mut killed = 0;
    for round in 0..30 {
        let name = format!("copy-{round}");
        let mut command = v.command();
        command.arg("--passphrase-file").arg(&v.pass_file).args([
            "attach",
            &id,
            file.to_str().unwrap(),
            "--name",
            &name,
        ]);
        let mut child = spawn(command);
        // Every third attach is left to finish, so there are acknowledged ones to check.
        let patience = if round % 3 == 0 {
            60_000
        } else {
            rng.below(150)
        };
        let deadline = Instant::now() + Duration::from_millis(patience);
        let mut finished = None;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                finished = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        match finished {
            Some(status) if status.success() => acknowledged.push(name),
            Some(status) => panic!("attach failed on its own: {status}"),
            None => {
                kill_9(&mut child);
                killed += 1;
            }
        }
    }
    assert!(killed > 5, "too few kills landed: {killed}");
    assert!(acknowledged.len() >= 10);
    for name in &acknowledged {
        let out = v.run(&["extract", &id, name, "--out", "-"], "");
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(out.stdout == data, "{name} came back different");
    }
    // A kill can land after an attach committed and before it exited: that attachment is
    // there though never acknowledged. Whatever is there must be whole, never half a file.
    let check = v.ok(&["vault", "check"], "");
    let checked: usize = check
        .split("1 record(s) and ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{check}"));
    assert!(
        (acknowledged.len()..=30).contains(&checked),
        "{} acknowledged: {check}",
        acknowledged.len()
    );
    for round in 0..30 {
        let name = format!("copy-{round}");
        if acknowledged.contains(&name) {
            continue;
        }
        let out = v.run(&["extract", &id, &name, "--out", "-"], "");
        assert!(
            !out.status.success() || out.stdout == data,
            "{name}: killed half-way, yet readable as something else"
        );
    }
    eprintln!(
        "{killed} kills, {} acknowledged attachments intact, {checked} in all",
        acknowledged.len()
    );
}

#[test]
fn kill_9_during_a_passphrase_change_never_locks_the_journalist_out() {
    let v = TestVault::new();
    let mut rng = Rng::seeded();
    let id = v.add_draft("must stay reachable", "");
    let passphrases: Vec<_> = (0..2)
        .map(|i| v.secret_file(&format!("pass{i}"), &format!("passphrase number {i}")))
        .collect();
    // Start from passphrase 0.
    v.ok(
        &[
            "passwd",
            "--new-passphrase-file",
            passphrases[0].to_str().unwrap(),
        ],
        "",
    );
    let mut current = 0;
    for _ in 0..25 {
        let next = 1 - current;
        let mut command = v.command();
        command
            .arg("--passphrase-file")
            .arg(&passphrases[current])
            .args([
                "passwd",
                "--new-passphrase-file",
                passphrases[next].to_str().unwrap(),
            ]);
        let mut child = spawn(command);
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        let done = child.try_wait().unwrap().is_some_and(|s| s.success());
        if !done {
            kill_9(&mut child);
        }
        // Whatever happened, one of the two passphrases opens the vault.
        let opens: Vec<usize> = (0..2)
            .filter(|i| {
                v.run_with_pass(&passphrases[*i], &["show", &id], "")
                    .status
                    .success()
            })
            .collect();
        assert!(!opens.is_empty(), "locked out after a kill during passwd");
        if done {
            assert_eq!(
                opens,
                vec![next],
                "a finished change leaves only the new passphrase"
            );
        }
        current = if opens.contains(&next) { next } else { current };
    }
}

#[test]
fn kill_9_during_extract_leaves_the_whole_file_or_nothing() {
    let v = TestVault::new();
    let mut rng = Rng::seeded();
    let id = v.add_draft("big scan", "");
    let data: Vec<u8> = (0..20_000_000u32).map(|i| (i % 241) as u8).collect();
    let file = v.path("scan.bin");
    std::fs::write(&file, &data).unwrap();
    v.ok(&["attach", &id, file.to_str().unwrap()], "");
    let out_dir = v.path("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("scan.bin");
    let mut killed = 0;
    for _ in 0..15 {
        let _ = std::fs::remove_file(&out);
        let mut command = v.command();
        command.arg("--passphrase-file").arg(&v.pass_file).args([
            "extract",
            &id,
            "scan.bin",
            "--out",
            out.to_str().unwrap(),
        ]);
        let mut child = spawn(command);
        std::thread::sleep(Duration::from_millis(rng.below(150)));
        if child.try_wait().unwrap().is_none() {
            kill_9(&mut child);
            killed += 1;
        } else {
            child.wait().unwrap();
        }
        let entries: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        match entries.as_slice() {
            [] => {}
            [only] if *only == out => {
                assert!(std::fs::read(&out).unwrap() == data, "a partial file")
            }
            other => panic!("left behind: {other:?}"),
        }
    }
    assert!(killed > 3, "too few kills landed: {killed}");
}
