//! A real Matrix homeserver for the tests: Synapse (PyPI's `matrix-synapse`, with SQLite) from
//! the virtual environment `test.sh` makes in `target/synapse-venv`, on loopback, started once
//! per test binary and shared by its tests (each registers its own accounts). Accounts are
//! registered through the admin API with the shared secret, as `register_new_matrix_user`
//! does. Not found means the test FAILS: CI runs `test.sh`, which installs it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::receivers::free_port;

const SHARED_SECRET: &str = "posbon-tests-registration-secret";
pub const SERVER_NAME: &str = "posbon.test";

pub struct Synapse {
    pub url: String,
    dir: PathBuf,
    /// How long it took to answer after being started (printed, for docs/testing.md).
    pub started_in: Duration,
}

/// A registered account and its access token.
pub struct Account {
    pub user_id: String,
    pub token: String,
}

/// The Python of the virtual environment Synapse is installed in.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("POSBON_SYNAPSE_PYTHON") {
        return python.into();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/synapse-venv/bin/python")
}

impl Synapse {
    /// The homeserver of this test binary, started at the first call.
    pub fn shared() -> &'static Synapse {
        static SHARED: OnceLock<Synapse> = OnceLock::new();
        SHARED.get_or_init(Synapse::start)
    }

    fn start() -> Synapse {
        let python = python();
        let found = Command::new(&python)
            .args(["-c", "import synapse"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "Synapse is not installed in {} (run ./test.sh, which makes that virtual \
             environment; or point POSBON_SYNAPSE_PYTHON at a Python that has matrix-synapse)",
            python.display()
        );
        forget_old_runs();
        let dir = std::env::temp_dir().join(format!("posbon-synapse-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let config = dir.join("homeserver.yaml");
        std::fs::write(&config, config_text(&dir, port)).unwrap();
        std::fs::write(dir.join("signing.key"), signing_key()).unwrap();
        let log = std::fs::File::create(dir.join("synapse.log")).unwrap();
        // Started from a thread that lives as long as the test binary: the child is sent
        // SIGTERM when the thread that started it ends (PR_SET_PDEATHSIG), which is when
        // the binary exits, so no homeserver outlives its tests.
        let (tx, rx) = std::sync::mpsc::channel();
        let started = Instant::now();
        std::thread::spawn(move || {
            use std::os::unix::process::CommandExt;
            let mut command = Command::new(python);
            command
                .args(["-m", "synapse.app.homeserver", "-c"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log);
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let mut child = command.spawn().expect("Synapse starts");
            tx.send(child.id()).unwrap();
            let _ = child.wait();
            let _ = tx.send(0);
        });
        let pid = rx.recv().unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::new();
        loop {
            let up = http
                .get(format!("{url}/_matrix/client/versions"))
                .timeout(Duration::from_secs(2))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if up {
                break;
            }
            let exited = rx.try_recv().is_ok() || !Path::new(&format!("/proc/{pid}")).exists();
            if exited || started.elapsed() > Duration::from_secs(120) {
                let log = std::fs::read_to_string(dir.join("synapse.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                panic!(
                    "Synapse did not come up on port {port} ({}):\n{}",
                    if exited { "it exited" } else { "120 s" },
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let started_in = started.elapsed();
        eprintln!("Synapse answered {started_in:?} after it was started");
        Synapse {
            url,
            dir,
            started_in,
        }
    }

    /// Registers `name` (unique in this binary: a counter is added) with the shared secret.
    pub fn register(&self, name: &str) -> Account {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let user = format!("{name}{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let password = format!("password-of-{user}");
        let http = reqwest::blocking::Client::new();
        let endpoint = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce: serde_json::Value = http.get(&endpoint).send().unwrap().json().unwrap();
        let nonce = nonce["nonce"].as_str().expect("a nonce").to_string();
        let key = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            SHARED_SECRET.as_bytes(),
        );
        let message = [nonce.as_str(), &user, &password, "notadmin"].join("\0");
        let mac = hex::encode(ring::hmac::sign(&key, message.as_bytes()).as_ref());
        let answer: serde_json::Value = http
            .post(&endpoint)
            .json(&serde_json::json!({
                "nonce": nonce, "username": user, "password": password,
                "admin": false, "mac": mac,
            }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        Account {
            user_id: answer["user_id"]
                .as_str()
                .unwrap_or_else(|| panic!("registered: {answer}"))
                .to_string(),
            token: answer["access_token"].as_str().unwrap().to_string(),
        }
    }

    fn call(
        &self,
        account: &Account,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let http = reqwest::blocking::Client::new();
        let mut request = http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&account.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().unwrap_or_default())
    }

    /// `account` makes a room (`preset`: `private_chat` or `public_chat`) of room version
    /// 12, inviting `invite`; returns its id.
    pub fn create_room(&self, account: &Account, preset: &str, invite: &[&str]) -> String {
        let (status, answer) = self.call(
            account,
            reqwest::Method::POST,
            "/_matrix/client/v3/createRoom",
            Some(serde_json::json!({"preset": preset, "invite": invite, "room_version": "12"})),
        );
        assert_eq!(status, 200, "createRoom: {answer}");
        answer["room_id"].as_str().unwrap().to_string()
    }

    /// The `m.room.message` events of `room` as `account` reads them, oldest first:
    /// (sender, body).
    pub fn messages(&self, account: &Account, room: &str) -> Vec<(String, String)> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/messages?dir=b&limit=50",
            escape(room)
        );
        let (status, answer) = self.call(account, reqwest::Method::GET, &path, None);
        assert_eq!(status, 200, "messages: {answer}");
        let mut found: Vec<(String, String)> = answer["chunk"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"] == "m.room.message")
            .map(|e| {
                (
                    e["sender"].as_str().unwrap_or("").to_string(),
                    e["content"]["body"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        found.reverse();
        found
    }

    /// Who has joined `room`, as `account` (a member) sees it.
    pub fn joined_members(&self, account: &Account, room: &str) -> Vec<String> {
        let path = format!("/_matrix/client/v3/rooms/{}/joined_members", escape(room));
        let (status, answer) = self.call(account, reqwest::Method::GET, &path, None);
        assert_eq!(status, 200, "joined_members: {answer}");
        answer["joined"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The homeserver's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("synapse.log")).unwrap_or_default()
    }
}

/// A path segment as the client-server API takes it (`!` is fine, `:` and the rest escaped).
fn escape(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'!' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A homeserver on loopback that answers only the client API, with SQLite, no federation,
/// and rate limits high enough for tests that register and send in a burst.
fn config_text(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        r#"server_name: "{SERVER_NAME}"
pid_file: "{d}/homeserver.pid"
listeners:
  - port: {port}
    tls: false
    type: http
    x_forwarded: false
    bind_addresses: ["127.0.0.1"]
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{d}/homeserver.db"
media_store_path: "{d}/media"
signing_key_path: "{d}/signing.key"
registration_shared_secret: "{SHARED_SECRET}"
macaroon_secret_key: "posbon-tests-macaroon-secret"
form_secret: "posbon-tests-form-secret"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_metrics: false
federation_domain_whitelist: []
rc_message: {{per_second: 1000, burst_count: 1000}}
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
rc_joins:
  local: {{per_second: 1000, burst_count: 1000}}
rc_invites:
  per_room: {{per_second: 1000, burst_count: 1000}}
  per_user: {{per_second: 1000, burst_count: 1000}}
"#
    )
}

/// A homeserver signing key in Synapse's file format: `ed25519 VERSION SEED` (unpadded
/// base64 of a random 32-byte seed).
fn signing_key() -> String {
    use base64::Engine;
    let seed = ring::rand::generate::<[u8; 32]>(&ring::rand::SystemRandom::new())
        .unwrap()
        .expose();
    format!(
        "ed25519 a_test {}\n",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(seed)
    )
}

/// Removes the directories of earlier test binaries' homeservers whose process is gone
/// (a binary cannot remove its own at exit: its homeserver is still stopping then).
fn forget_old_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("posbon-synapse-") else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
