//! Leaving a watcher, as an adversary would test it: the journalist's `unenrol` (and
//! `unenrol --local`, for a watcher that is gone) under the real and the duress passphrase,
//! and the operator's `watch journalists` and `watch remove`
//! while the daemon runs. The real binary, real daemons on loopback, a webhook receiver.

mod common;

use std::path::Path;
use std::time::Duration;

use common::receivers::{Received, Receiver};
use common::watcher::{Daemon, invite};
use common::*;

/// `posbon watch ARGS --data DATA`.
fn operator(data: &Path, args: &[&str]) -> std::process::Output {
    posbon()
        .arg("watch")
        .args(args)
        .arg("--data")
        .arg(data)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// The ids `watch journalists` lists for `name`.
fn ids_of(data: &Path, name: &str) -> Vec<String> {
    let out = operator(data, &["journalists"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{name}  (id ")))
        .map(|rest| rest.trim_end_matches(')').to_string())
        .collect()
}

/// A watcher whose alerts may go to a receiver on loopback, retried quickly.
fn start_watcher(v: &TestVault, name: &str) -> Daemon {
    let config = v.path(&format!("{name}.toml"));
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"2s\"\n\
         allow_private_addresses = true\n",
    )
    .unwrap();
    Daemon::start_with(&v.path(name), 0, &["--config", config.to_str().unwrap()])
}

fn enrol(v: &TestVault, daemon: &Daemon, name: &str) {
    let code = invite(&daemon.data, name);
    v.ok(&["enrol", &daemon.url, &code], "");
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

#[test]
fn unenrol_makes_the_watcher_forget_the_journalist_and_their_bundles() {
    let v = TestVault::new();
    let (a, b) = (start_watcher(&v, "a"), start_watcher(&v, "b"));
    enrol(&v, &a, "Nilufar");
    enrol(&v, &b, "Nilufar");
    v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    let recipient = age_key(v.temp.path(), "lawyer").1;
    v.add_lawyer(&recipient);
    let note = v.add_draft("Statement", "what I saw");
    v.ok(&["release", "add", &note, "--to", "Dilnoza", "--yes"], "");
    let [subject] = ids_of(&a.data, "Nilufar").try_into().unwrap();
    let bundles = a.data.join("bundles").join(&subject);
    assert_eq!(files_under(&bundles), 1, "the bundle is on A's disk");

    let out = v.run(&["unenrol", &format!("{}/", a.url)], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        format!(
            "{}: unenrolled; this watcher no longer knows you, your phones or your bundles, \
             and this vault no longer knows it",
            a.url
        )
    );
    assert_eq!(stderr(&out), "", "B still watches: no warning");

    // The watcher forgot: the operator's list (read while the daemon runs) and the disk.
    assert!(ids_of(&a.data, "Nilufar").is_empty());
    wait_until("the bundle's removal", Duration::from_secs(10), || {
        !bundles.exists()
    });
    assert_eq!(files_under(&a.data.join("bundles")), 0, "nothing set aside");
    // The vault forgot: status and check-in only know B, and succeed.
    let status = v.ok(&["status"], "");
    assert!(
        !status.contains(&a.url) && status.contains(&b.url),
        "{status}"
    );
    let checkin = v.ok(&["checkin"], "");
    assert!(!checkin.contains(&a.url), "{checkin}");
    // Once is enough.
    let again = v.run(&["unenrol", &a.url], "");
    assert_eq!(code(&again), 2, "{}", stderr(&again));
    assert!(
        stderr(&again).contains(&format!("not enrolled with {}", a.url)),
        "{}",
        stderr(&again)
    );
    // Leaving the last one says what it means.
    let last = v.run(&["unenrol", &b.url], "");
    assert!(last.status.success(), "{}", stderr(&last));
    assert!(
        stderr(&last).contains("enrolled with no watcher now"),
        "{}",
        stderr(&last)
    );
}

fn step_of(r: &Received) -> String {
    r.json()["step"].as_str().unwrap_or_default().to_string()
}

#[test]
fn unenrol_under_duress_looks_the_same_but_the_watcher_keeps_watching_and_alerts() {
    let v = TestVault::new();
    let hub = Receiver::start();
    let (a, b) = (start_watcher(&v, "a"), start_watcher(&v, "b"));
    enrol(&v, &a, "Rustam");
    enrol(&v, &b, "Rustam");
    v.ok(
        &[
            "contact",
            "add",
            "Ed",
            "--lang",
            "en",
            "--tier",
            "1",
            "--webhook",
            &format!("{}/hook/ed", hub.url()),
        ],
        "",
    );
    v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    let duress = v.set_duress("the river at dawn");

    // The coercer makes the journalist leave A.
    let forced = v.run_with_pass(&duress, &["unenrol", &a.url], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    let looked = v.run_with_pass(&duress, &["status"], "");
    assert!(looked.status.success(), "{}", stderr(&looked));
    assert!(
        !stdout(&looked).contains(&a.url) && stdout(&looked).contains(&b.url),
        "the decoy forgot A: {}",
        stdout(&looked)
    );

    // A raised the silent alarm, signed by A, to the real contact.
    let from_a = |r: &Received| {
        step_of(r) == "duress" && r.json()["fingerprint"].as_str() == Some(a.fingerprint.as_str())
    };
    wait_until("A's duress alert", Duration::from_secs(20), || {
        hub.received().iter().any(from_a)
    });
    let alert = hub.received().into_iter().find(from_a).unwrap();
    assert_eq!(alert.path, "/hook/ed");
    let file = v.path("alert.json");
    std::fs::write(&file, &alert.body).unwrap();
    let verified = posbon()
        .args(["alert", "verify", "--watcher", &a.fingerprint])
        .arg(&file)
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", stderr(&verified));

    // A forgot nothing: the operator still lists the journalist, the real vault still has
    // A, with the plan, and a real check-in there works.
    assert_eq!(ids_of(&a.data, "Rustam").len(), 1);
    let status = v.ok(&["status"], "");
    assert!(status.contains(&a.url), "{status}");
    assert!(
        status.contains("duress key or PIN last used"),
        "the journalist learns of it: {status}"
    );
    let checkin = v.ok(&["checkin"], "");
    assert!(
        checkin.contains(&format!("{}: checked in", a.url)),
        "{checkin}"
    );
    // After the real passphrase was used, the decoy still does not show A again.
    let later = v.run_with_pass(&duress, &["status"], "");
    assert!(!stdout(&later).contains(&a.url), "{}", stdout(&later));

    // A real unenrol reads exactly as the forced one did.
    let real = v.run(&["unenrol", &b.url], "");
    assert!(real.status.success(), "{}", stderr(&real));
    assert_eq!(
        stdout(&forced).replace(&a.url, "URL"),
        stdout(&real).replace(&b.url, "URL")
    );
    assert_eq!(stderr(&forced), stderr(&real));
    assert!(ids_of(&b.data, "Rustam").is_empty());
}

/// Issue 15, as a coercer comparing the two passphrases would: `unenrol --local` forgets a
/// watcher whose server is gone without asking it, says plainly that it was not told, and
/// prints the same under both passphrases; under the duress one the decoy forgets it, the
/// real vault keeps it (and checks in there once it is back), and the silent alarm goes
/// out from the watchers that hear it.
#[test]
fn unenrol_local_forgets_a_gone_watcher_here_only_and_reads_the_same_under_duress() {
    let v = TestVault::new();
    let hub = Receiver::start();
    let (a, b) = (start_watcher(&v, "a"), start_watcher(&v, "b"));
    enrol(&v, &a, "Rustam");
    enrol(&v, &b, "Rustam");
    v.ok(
        &[
            "contact",
            "add",
            "Ed",
            "--lang",
            "en",
            "--tier",
            "1",
            "--webhook",
            &format!("{}/hook/ed", hub.url()),
        ],
        "",
    );
    v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    let duress = v.set_duress("the river at dawn");
    let (a_port, a_data, a_url) = (a.port(), a.data.clone(), a.url.clone());
    let config = v.path("a.toml");
    assert!(a.stop());

    // A's server is gone; the coercer makes the journalist drop it.
    let forced = v.run_with_pass(&duress, &["unenrol", "--local", &format!("{a_url}/")], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(
        stdout(&forced),
        format!(
            "{a_url}: forgotten here only. The watcher was NOT told: if it still runs, it keeps \
             watching you and alerts your contacts when you stop checking in with it. Ask its \
             operator to remove you.\n"
        )
    );
    assert!(
        stderr(&forced).starts_with(&format!(
            "{a_url} did not answer just now: cannot reach {a_url}"
        )),
        "{}",
        stderr(&forced)
    );
    let looked = v.run_with_pass(&duress, &["status"], "");
    assert!(looked.status.success(), "{}", stderr(&looked));
    assert!(
        !stdout(&looked).contains(&a_url) && stdout(&looked).contains(&b.url),
        "the decoy forgot A: {}",
        stdout(&looked)
    );
    // B heard the duress passphrase and raised the silent alarm, signed by B.
    let from_b = |r: &Received| {
        step_of(r) == "duress" && r.json()["fingerprint"].as_str() == Some(b.fingerprint.as_str())
    };
    wait_until("B's duress alert", Duration::from_secs(20), || {
        hub.received().iter().any(from_b)
    });

    // The real vault still has A: without it the status fails, naming A; once A is back,
    // the real check-in reaches it.
    let status = v.run(&["status"], "");
    assert_eq!(code(&status), 8, "{}", stderr(&status));
    assert!(stderr(&status).contains(&a_url), "{}", stderr(&status));
    let a = Daemon::start_with(&a_data, a_port, &["--config", config.to_str().unwrap()]);
    let checkin = v.ok(&["checkin"], "");
    assert!(
        checkin.contains(&format!("{a_url}: checked in")),
        "{checkin}"
    );
    assert_eq!(ids_of(&a.data, "Rustam").len(), 1, "A was told nothing");
    // After the real passphrase was used, the decoy still does not show A.
    let later = v.run_with_pass(&duress, &["status"], "");
    assert!(!stdout(&later).contains(&a_url), "{}", stdout(&later));

    // Gone again: the journalist drops it for real, and reads exactly what the coercer read.
    assert!(a.stop());
    let real = v.run(&["unenrol", "--local", &a_url], "");
    assert!(real.status.success(), "{}", stderr(&real));
    assert_eq!(stdout(&real), stdout(&forced));
    assert_eq!(stderr(&real), stderr(&forced));
    let status = v.ok(&["status"], "");
    assert!(
        !status.contains(&a_url) && status.contains(&b.url),
        "{status}"
    );
    // Not enrolled with it any more: a usage error, under either passphrase alike.
    let again = v.run(&["unenrol", "--local", &a_url], "");
    let forced_again = v.run_with_pass(&duress, &["unenrol", "--local", &a_url], "");
    assert_eq!(code(&again), 2, "{}", stderr(&again));
    assert_eq!(stderr(&again), stderr(&forced_again));
}

/// `unenrol --local` on a watcher that still answers is done, with a warning that it still
/// watches (the same under both passphrases); the watcher forgets nothing, and the one
/// asked under the duress passphrase raises the silent alarm.
#[test]
fn unenrol_local_on_a_watcher_that_answers_warns_that_it_still_watches() {
    let v = TestVault::new();
    let hub = Receiver::start();
    let (a, b) = (start_watcher(&v, "a"), start_watcher(&v, "b"));
    enrol(&v, &a, "Rustam");
    enrol(&v, &b, "Rustam");
    v.ok(
        &[
            "contact",
            "add",
            "Ed",
            "--lang",
            "en",
            "--tier",
            "1",
            "--webhook",
            &format!("{}/hook/ed", hub.url()),
        ],
        "",
    );
    v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    let duress = v.set_duress("the river at dawn");

    let forced = v.run_with_pass(&duress, &["unenrol", "--local", &a.url], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(
        stderr(&forced),
        format!(
            "posbon: WARNING: {} answered just now and still knows you: it keeps watching you \
             and will alert your contacts. Ask its operator to remove you (a watcher that \
             answers is left with `posbon unenrol URL`, without --local, which makes it forget \
             you)\n",
            a.url
        )
    );
    let from_a = |r: &Received| {
        step_of(r) == "duress" && r.json()["fingerprint"].as_str() == Some(a.fingerprint.as_str())
    };
    wait_until("A's duress alert", Duration::from_secs(20), || {
        hub.received().iter().any(from_a)
    });
    // The real journalist does the same: the same words; A is told nothing either way.
    let real = v.run(&["unenrol", "--local", &a.url], "");
    assert!(real.status.success(), "{}", stderr(&real));
    assert_eq!(stdout(&real), stdout(&forced));
    assert_eq!(stderr(&real), stderr(&forced));
    assert_eq!(
        ids_of(&a.data, "Rustam").len(),
        1,
        "A still knows the journalist"
    );
    let status = v.ok(&["status"], "");
    assert!(
        !status.contains(&a.url) && status.contains(&b.url),
        "{status}"
    );
}

#[test]
fn the_operator_lists_and_removes_journalists_while_the_daemon_runs() {
    let (one, two, three) = (TestVault::new(), TestVault::new(), TestVault::new());
    let w = start_watcher(&one, "w");
    enrol(&one, &w, "Nilufar");
    enrol(&two, &w, "Nilufar");
    enrol(&three, &w, "Rustam");
    one.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");

    let listed = operator(&w.data, &["journalists"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert_eq!(text.matches("Nilufar  (id ").count(), 2, "{text}");
    assert!(text.contains("Rustam  (id "), "{text}");
    assert!(
        text.contains("next deadline") && text.contains("no plan yet"),
        "{text}"
    );
    assert!(
        text.contains("0 phones, 0 sealed bundles, 0 contacts"),
        "{text}"
    );
    assert!(text.contains("last check-in never"), "{text}");
    assert_eq!(stderr(&listed).trim(), "3 journalists");

    // Two share a name: refused, with the ids to choose from.
    let ids = ids_of(&w.data, "Nilufar");
    let ambiguous = operator(&w.data, &["remove", "Nilufar", "--yes"]);
    assert_eq!(code(&ambiguous), 2, "{}", stderr(&ambiguous));
    for id in &ids {
        assert!(stderr(&ambiguous).contains(id), "{}", stderr(&ambiguous));
    }
    assert!(stderr(&ambiguous).contains("--id"));
    // Without a terminal to confirm on, and without --yes: nothing happens.
    let unconfirmed = operator(&w.data, &["remove", "Rustam"]);
    assert_eq!(code(&unconfirmed), 2, "{}", stderr(&unconfirmed));
    assert!(stderr(&unconfirmed).contains("--yes"));

    // Which of the two is vault one's: the one with a plan.
    let one_id = ids
        .iter()
        .find(|id| {
            let text = stdout(&operator(&w.data, &["journalists"]));
            let block: String = text
                .split(&format!("(id {id})"))
                .nth(1)
                .unwrap()
                .lines()
                .take(3)
                .collect();
            block.contains("next deadline")
        })
        .unwrap()
        .clone();
    let two_id = ids.iter().find(|id| **id != one_id).unwrap().clone();
    let removed = operator(
        &w.data,
        &["remove", "nilufar", "--id", &one_id[..8], "--yes"],
    );
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert!(
        stderr(&removed).contains(&format!("removed Nilufar (id {one_id})")),
        "{}",
        stderr(&removed)
    );
    assert_eq!(ids_of(&w.data, "Nilufar"), vec![two_id.clone()]);

    // The removed journalist's check-in is refused, and told why and what to do.
    let refused = one.run(&["checkin"], "");
    assert_eq!(code(&refused), 9, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("its operator may have removed you")
            && stderr(&refused).contains(&format!("posbon unenrol --local {}", w.url)),
        "{}",
        stderr(&refused)
    );
    // Leaving it: it answers as to a stranger, but that answer is not signed (anyone between
    // could forge it to make the laptop forget a watcher that keeps watching), so nothing is
    // forgotten until the journalist says so with --local.
    let unverified = one.run(&["unenrol", &w.url], "");
    assert_ne!(code(&unverified), 0);
    assert!(
        stderr(&unverified).contains("that answer is not signed and could be forged")
            && stderr(&unverified).contains(&format!("posbon unenrol --local {}", w.url)),
        "{}",
        stderr(&unverified)
    );
    // Still enrolled here: `status` still asks it (and is refused again).
    let status = one.run(&["status"], "");
    assert!(
        stderr(&status).contains(&format!("{} does not know this vault", w.url)),
        "{}",
        stderr(&status)
    );
    let left = one.run(&["unenrol", "--local", &w.url], "");
    assert!(left.status.success(), "{}", stderr(&left));
    assert_eq!(code(&one.run(&["checkin"], "")), 2, "enrolled nowhere now");

    // Alerts under way: neither the journalist nor the operator ends them quietly.
    two.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("tier 1", Duration::from_secs(15), || {
        two.ok(&["status"], "").contains("fired: tier1")
    });
    let own = two.run(&["unenrol", &w.url], "");
    assert_eq!(code(&own), 9, "{}", stderr(&own));
    assert!(stderr(&own).contains("check in first"), "{}", stderr(&own));
    let listed = stdout(&operator(&w.data, &["journalists"]));
    assert!(listed.contains("ALERTING: tier1"), "{listed}");
    let kept = operator(&w.data, &["remove", "Nilufar", "--yes"]);
    assert_eq!(code(&kept), 1, "{}", stderr(&kept));
    assert!(
        stderr(&kept).contains("was not removed: alerts about them went out"),
        "{}",
        stderr(&kept)
    );
    let forced = operator(&w.data, &["remove", "Nilufar", "--yes", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(ids_of(&w.data, "Nilufar").is_empty());

    // With the daemon stopped, the command does it itself.
    let data = w.data.clone();
    assert!(w.stop());
    let stopped = operator(&data, &["remove", "Rustam", "--yes"]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let none = operator(&data, &["journalists"]);
    assert!(
        stderr(&none).contains("no journalist is enrolled"),
        "{}",
        stderr(&none)
    );
    assert!(std::fs::read_dir(data.join("remove")).map_or(true, |mut d| d.next().is_none()));
}
