//! The second half of `posbon demo`: the dead-man's switch end to end, on loopback, with the
//! real binary. Two watchers, a journalist who seals a case file for a lawyer, one check-in,
//! then silence; one watcher is killed; the alerts reach a local inbox, are verified, and the
//! lawyer opens the released bundle with their own key.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::alert::message;
use crate::release::bundle;

use super::step;

/// A watcher process; killed when dropped.
struct Watcher {
    child: Child,
    url: String,
    fingerprint: String,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn posbon() -> Result<Command> {
    let mut command = Command::new(std::env::current_exe().context("finding posbon itself")?);
    command
        .env_remove("POSBON_VAULT")
        .env_remove("POSBON_PASSPHRASE_FILE");
    Ok(command)
}

/// Runs posbon with `args`; returns stdout, or fails with its stderr.
fn run(args: &[&str]) -> Result<String> {
    let out = posbon()?
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running posbon")?;
    if !out.status.success() {
        bail!(
            "posbon {} failed: {}",
            args.first().copied().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

fn start_watcher(data: &Path, config: &Path) -> Result<Watcher> {
    let mut child = posbon()?
        .args(["watch", "serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting a watcher")?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let second = lines.next().transpose()?.unwrap_or_default();
    Ok(Watcher {
        child,
        url: first
            .strip_prefix("posbon watcher listening on ")
            .unwrap_or_default()
            .to_string(),
        fingerprint: second
            .strip_prefix("fingerprint: ")
            .unwrap_or_default()
            .to_string(),
    })
}

/// Every alert body the inbox received, in order.
type Inbox = Arc<Mutex<Vec<Vec<u8>>>>;

/// A webhook receiver standing in for the lawyer's inbox: keeps every alert's JSON.
fn start_inbox(runtime: &tokio::runtime::Runtime) -> Result<(String, Inbox)> {
    let inbox: Inbox = Arc::default();
    let kept = inbox.clone();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    runtime.spawn(async move {
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(body.to_vec());
                "ok"
            }
        });
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, inbox))
}

pub fn run_story(root: &Path, insecure_fast_kdf: bool) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let (inbox_url, inbox) = start_inbox(&runtime)?;
    let config = root.join("watcher.toml");
    // Loopback receivers are allowed here only because the whole story runs on this machine.
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"3s\"\nallow_private_addresses = true\n",
    )?;

    step("Starting two independent watchers (say, NANSMIT's and a partner's abroad)");
    let nansmit = start_watcher(&root.join("watcher-nansmit"), &config)?;
    let abroad = start_watcher(&root.join("watcher-abroad"), &config)?;
    println!("{} (fingerprint {})", nansmit.url, nansmit.fingerprint);
    println!("{} (fingerprint {})", abroad.url, abroad.fingerprint);

    step("A journalist's vault: a case note with a scanned power of attorney");
    let vault = root.join("journalist");
    let pass = root.join("journalist.pass");
    std::fs::write(
        &pass,
        format!(
            "story-{}\n",
            hex::encode(crate::crypto::random_array::<8>())
        ),
    )?;
    let v = vault.to_string_lossy().to_string();
    let p = pass.to_string_lossy().to_string();
    let with_vault = |args: &[&str]| -> Result<String> {
        let mut all = vec!["--vault", v.as_str(), "--passphrase-file", p.as_str()];
        all.extend_from_slice(args);
        run(&all)
    };
    if insecure_fast_kdf {
        with_vault(&["init", "--insecure-fast-kdf"])?;
    } else {
        with_vault(&["init"])?;
    }
    let note = {
        let mut child = posbon()?
            .args(["--vault", &v, "--passphrase-file", &p])
            .args([
                "add",
                "note",
                "--case",
                "12/2026",
                "--court",
                "Sino district",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(b"Lawyer on record: D. Karimova. Hearing on 3 December.")?;
        let out = child.wait_with_output()?;
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let scan = root.join("power-of-attorney.pdf");
    std::fs::write(&scan, b"%PDF-1.4 (a scanned power of attorney)")?;
    with_vault(&["attach", &note, &scan.to_string_lossy()])?;
    println!("case note {note} with power-of-attorney.pdf");

    step("Enrolling with both watchers; the lawyer and the editor as contacts");
    for (watcher, data) in [(&nansmit, "watcher-nansmit"), (&abroad, "watcher-abroad")] {
        let code = run(&[
            "watch",
            "invite",
            "Rustam",
            "--data",
            &root.join(data).to_string_lossy(),
        ])?;
        let fingerprint = with_vault(&["enrol", &watcher.url, code.trim()])?;
        println!("enrolled with {} ({})", watcher.url, fingerprint.trim());
    }
    let (lawyer_secret, lawyer_identity) = crate::vault::identity::generate();
    let lawyer_key = root.join("lawyer.key");
    std::fs::write(&lawyer_key, format!("{}\n", lawyer_secret.expose()))?;
    let recipient = lawyer_identity.to_public().to_string();
    with_vault(&[
        "contact",
        "add",
        "Dilnoza",
        "--lang",
        "ru",
        "--tier",
        "2",
        "--role",
        "lawyer",
        "--webhook",
        &format!("{inbox_url}/dilnoza"),
        "--age-recipient",
        &recipient,
    ])?;
    with_vault(&[
        "contact",
        "add",
        "Sardor",
        "--lang",
        "tg",
        "--tier",
        "1",
        "--role",
        "editor",
        "--webhook",
        &format!("{inbox_url}/sardor"),
    ])?;
    println!("Dilnoza (lawyer, Russian, tier 2, her own age key); Sardor (editor, Tajik, tier 1)");

    step("Sealing the case note for the lawyer's key, on both watchers (they cannot read it)");
    with_vault(&[
        "release",
        "add",
        &note,
        "--to",
        "Dilnoza",
        "--name",
        "Case 12-2026",
        "--yes",
    ])?;
    let sealing_fingerprint = with_vault(&["release", "key"])?.trim().to_string();
    println!(
        "sealed, signed and uploaded; her sealing fingerprint, given to the lawyer in person: {sealing_fingerprint}"
    );

    step("A plan of seconds: tier 1 at the deadline, tier 2 a second later, release after two");
    with_vault(&[
        "plan",
        "set",
        "--every",
        "3s",
        "--grace",
        "0s",
        "--step",
        "tier1:0s",
        "--step",
        "tier2:1s",
        "--step",
        "release:2s",
    ])?;
    print!("{}", with_vault(&["checkin"])?);
    println!("...and then silence.");

    step("The NANSMIT watcher is seized (killed with SIGKILL)");
    drop(nansmit);
    println!("one watcher left");

    step("Alerts arriving at the local inbox");
    let started = Instant::now();
    let mut seen = 0;
    let mut release_json = None;
    while started.elapsed() < Duration::from_secs(30) {
        let arrived: Vec<Vec<u8>> = inbox.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for body in &arrived[seen..] {
            let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let verified = message::verify(body, &abroad.fingerprint);
            println!(
                "{:>6.1} s  {:<9} {} ({})  id {}  {}",
                started.elapsed().as_secs_f64(),
                json["step"].as_str().unwrap_or("?"),
                json["title"].as_str().unwrap_or(""),
                json["lang"].as_str().unwrap_or(""),
                json["id"].as_str().unwrap_or(""),
                match verified {
                    Ok(_) => "signature: GENUINE".to_string(),
                    Err(e) => format!("signature: NOT GENUINE ({e})"),
                }
            );
            if json["step"] == "release"
                && json["bundles"].as_array().is_some_and(|b| !b.is_empty())
            {
                release_json = Some(json);
            }
        }
        seen = arrived.len();
        if release_json.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let release = release_json.context("the release did not arrive in 30 s")?;

    step("The lawyer downloads the bundle and opens it with her own key");
    let link = release["bundles"][0]["url"]
        .as_str()
        .context("no download link")?;
    let bytes = crate::release::fetch::bundle_from_link(&crate::route::Route::Direct, link)?;
    let file = root.join("case.age");
    std::fs::write(&file, &bytes)?;
    let out_dir = root.join("opened");
    let key = crate::release::keys::read(&lawyer_key, &mut || {
        Err(bundle::BundleError::Invalid(
            "the demo's key has no passphrase".into(),
        ))
    })?;
    let opened = crate::release::open::open(
        &mut std::fs::File::open(&file)?,
        crate::release::open::Input::Sealed(&key),
        Some(&out_dir),
        Some(&sealing_fingerprint),
    )?;
    let bundle::Sealer::Signed { fingerprint } = &opened.sealer else {
        bail!("the bundle is not signed");
    };
    anyhow::ensure!(
        bundle::same_fingerprint(&sealing_fingerprint, fingerprint),
        "the bundle was not sealed by the journalist"
    );
    println!(
        "signed by the journalist's sealing key {fingerprint}, as she told the lawyer in person"
    );
    let manifest = opened.manifest;
    println!(
        "bundle {:?}, sealed for {}",
        manifest.name,
        manifest.for_.join(", ")
    );
    for item in &manifest.items {
        println!(
            "  [{}] {}  files: {}",
            item.kind,
            item.title,
            item.files.join(", ")
        );
    }
    println!(
        "without posbon, open it in a new empty folder and look before unpacking: \
         age -d -i lawyer.key case.age > case.tar; LC_ALL=C tar -tvf case.tar; tar -xkf case.tar"
    );
    drop(abroad);
    drop(runtime);
    Ok(())
}
