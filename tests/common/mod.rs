//! Runs the real `posbon` binary against a vault in a temporary directory.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub mod app;
pub mod browser;
pub mod phone;
pub mod receivers;
pub mod synapse;
pub mod watcher;

pub const PASSPHRASE: &str = "correct horse battery staple";

pub fn posbon() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_posbon"));
    command
        .env_remove("POSBON_VAULT")
        .env_remove("POSBON_PASSPHRASE_FILE")
        .env_remove("VISUAL")
        .env_remove("EDITOR")
        // English unless a test asks for another language.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .env_remove("POSBON_LANG");
    command
}

/// A vault directory plus a passphrase file, both in a temporary directory.
pub struct TestVault {
    pub temp: tempfile::TempDir,
    pub dir: PathBuf,
    pub pass_file: PathBuf,
}

impl TestVault {
    /// A new vault (fast KDF) with [`PASSPHRASE`].
    pub fn new() -> Self {
        let vault = Self::uninitialised();
        let out = vault.run_plain(&["init", "--insecure-fast-kdf"], "");
        assert!(out.status.success(), "init failed: {}", stderr(&out));
        vault
    }

    /// Paths for a vault that does not exist yet.
    pub fn uninitialised() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("vault");
        let pass_file = temp.path().join("pass");
        std::fs::write(&pass_file, format!("{PASSPHRASE}\n")).unwrap();
        TestVault {
            temp,
            dir,
            pass_file,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.temp.path().join(name)
    }

    /// Writes `text` as a passphrase file named `name` and returns its path.
    pub fn secret_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, format!("{text}\n")).unwrap();
        path
    }

    pub fn command(&self) -> Command {
        let mut command = posbon();
        command.arg("--vault").arg(&self.dir);
        command
    }

    /// Runs with the vault and the standard passphrase file.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        self.run_with_pass(&self.pass_file, args, stdin)
    }

    pub fn run_with_pass(&self, pass_file: &Path, args: &[&str], stdin: &str) -> Output {
        let mut command = self.command();
        command.arg("--passphrase-file").arg(pass_file).args(args);
        feed(command, stdin.as_bytes())
    }

    /// Runs with the vault but no passphrase option.
    pub fn run_plain(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = self.command();
        if args.first() == Some(&"init") {
            command.arg("--passphrase-file").arg(&self.pass_file);
        }
        command.args(args);
        feed(command, stdin.as_bytes())
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "posbon {args:?} failed ({:?}): {}",
            out.status.code(),
            stderr(&out)
        );
        stdout(&out)
    }

    /// Sets a duress passphrase and returns the file holding it.
    pub fn set_duress(&self, words: &str) -> PathBuf {
        let file = self.secret_file("duress", words);
        self.ok(
            &[
                "duress",
                "set",
                "--duress-passphrase-file",
                file.to_str().unwrap(),
            ],
            "",
        );
        file
    }

    /// Dilnoza, a lawyer (Russian, tier 2, by e-mail) with `recipient` as her key for
    /// sealed material: the contact most tests seal for.
    pub fn add_lawyer(&self, recipient: &str) {
        self.ok(&lawyer_args(recipient), "");
    }

    pub fn add_draft(&self, title: &str, body: &str) -> String {
        self.ok(&["add", "draft", "--title", title], body)
            .trim()
            .to_string()
    }

    /// The ids listed by `posbon list`.
    pub fn listed_ids(&self) -> Vec<String> {
        self.ok(&["list"], "")
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    }

    /// Every file below the vault directory, with its contents.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    out.push((path, bytes));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &mut out);
        out
    }
}

pub fn feed(mut command: Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("posbon starts");
    let mut pipe = child.stdin.take().unwrap();
    // The process may exit before reading its input (a refused command): ignore a broken pipe.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().unwrap()
}

pub fn spawn(mut command: Command) -> Child {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("posbon starts")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

/// The Go `age` binary from Debian; tests that prove interoperability need it.
pub fn go_age() -> Command {
    let found = Command::new("age").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "the Go `age` CLI is needed for interoperability tests: apt-get install age"
    );
    Command::new("age")
}

/// Lets the child inherit descriptor `fd` under the same number (for `--passphrase-fd`).
pub fn inherit_fd(command: &mut Command, fd: i32) {
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe fcntl calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            Ok(())
        });
    }
}

/// `plan set` arguments for a whole ladder within seconds: every 1 s, no grace, then remind,
/// tier 1, tier 2 and release one second apart.
pub const FAST_LADDER: [&str; 14] = [
    "plan",
    "set",
    "--every",
    "1s",
    "--grace",
    "0s",
    "--step",
    "remind:0s",
    "--step",
    "tier1:1s",
    "--step",
    "tier2:2s",
    "--step",
    "release:3s",
];

/// Waits (polling every 100 ms) until `done`, failing the test after `limit`.
pub fn wait_until(what: &str, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The decoded text of an e-mail as received (any transfer encoding).
pub fn mail_text(mail: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(mail)
        .and_then(|m| m.body_text(0).map(|t| t.to_string()))
        .unwrap_or_default()
}

/// A small deterministic generator; the seed is printed so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Self {
        let seed = std::env::var("POSBON_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("POSBON_TEST_SEED={seed}");
        Rng(seed)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// An age key pair from the Go `age-keygen`: (identity file, recipient).
pub fn age_key(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let path = dir.join(format!("{name}.key"));
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&path)
        .output()
        .expect("age-keygen (apt-get install age)");
    assert!(out.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    (path, recipient)
}

/// Every file under `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found
}

/// `contact add` for Dilnoza, the lawyer most tests seal for (see [`TestVault::add_lawyer`]).
pub fn lawyer_args(recipient: &str) -> [&str; 11] {
    [
        "contact",
        "add",
        "Dilnoza",
        "--lang",
        "ru",
        "--tier",
        "2",
        "--email",
        "d@example.org",
        "--age-recipient",
        recipient,
    ]
}
