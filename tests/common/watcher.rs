//! Starts the real watcher daemon (`posbon watch serve`) on a loopback port for a test.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use super::receivers::free_port;

pub struct Daemon {
    pub child: Child,
    pub url: String,
    pub fingerprint: String,
    pub data: PathBuf,
}

impl Daemon {
    /// Starts a watcher with its data in `data`, on a free port (or `port` if given).
    pub fn start_on(data: &Path, port: u16) -> Daemon {
        Self::start_with(data, port, &[])
    }

    /// Starts a watcher with extra arguments to `watch serve` (`--config`, `--smtp`).
    pub fn start_with(data: &Path, port: u16, extra: &[&str]) -> Daemon {
        Self::try_start_with(data, port, extra, None, &[]).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Starts a watcher with extra environment variables (such as the test build's clock
    /// offset file, `posbon::watch::clock::TEST_OFFSET_ENV`), on a free port.
    /// A watcher in `vault`'s temporary directory (in `watcher`) that may deliver alerts to
    /// receivers on loopback (`allow_private_addresses`), as the tests' webhooks are.
    pub fn start_reaching_loopback(vault: &super::TestVault) -> Daemon {
        let config = vault.path("watcher.toml");
        std::fs::write(&config, "[delivery]\nallow_private_addresses = true\n").unwrap();
        Self::start_with(
            &vault.path("watcher"),
            0,
            &["--config", config.to_str().unwrap()],
        )
    }

    pub fn start_with_env(data: &Path, env: &[(&str, &std::ffi::OsStr)]) -> Daemon {
        Self::try_start_with(data, free_port(), &[], None, env)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Starts a watcher whose open-file limit (soft and hard) is `open_files`, as a service
    /// manager would set it, on a free port.
    pub fn start_with_open_files(data: &Path, open_files: u64) -> Daemon {
        Self::try_start_with(data, free_port(), &[], Some(open_files), &[])
            .unwrap_or_else(|error| panic!("{error}"))
    }

    fn try_start_with(
        data: &Path,
        port: u16,
        extra: &[&str],
        open_files: Option<u64>,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Result<Daemon, String> {
        // Only what this start writes to the log counts when it fails.
        let log_before =
            std::fs::metadata(data.with_extension("log")).map_or(0, |m| m.len() as usize);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.with_extension("log"))
            .unwrap();
        let mut command = super::posbon();
        if let Some(limit) = open_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: only setrlimit runs between fork and exec; it allocates nothing.
            unsafe {
                command.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        command.envs(env.iter().copied());
        let mut child = command
            .args(["watch", "serve", "--data"])
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("the watcher starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let Some(url) = first.strip_prefix("posbon watcher listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
            let log = log.get(log_before..).unwrap_or_default();
            return Err(format!(
                "the watcher did not start on port {port} (first line {first:?}); its log:\n{log}"
            ));
        };
        let url = url.to_string();
        let second = lines.next().unwrap().unwrap();
        let fingerprint = second.strip_prefix("fingerprint: ").unwrap().to_string();
        Ok(Daemon {
            child,
            url,
            fingerprint,
            data: data.to_path_buf(),
        })
    }

    /// Starts a watcher on a port from [`free_port`], so that a test can restart it on
    /// the same port without an outgoing connection having taken it meanwhile. Should
    /// another process take the port before the watcher binds it, another is tried; any
    /// other failure fails the test at once, so a bug of the first start is not hidden.
    pub fn start(data: &Path) -> Daemon {
        let mut errors = Vec::new();
        for _ in 0..3 {
            match Self::try_start_with(data, free_port(), &[], None, &[]) {
                Ok(daemon) => return daemon,
                Err(error) if error.contains("cannot listen on") => errors.push(error),
                Err(error) => panic!("{error}"),
            }
        }
        panic!("{}", errors.join("\n"))
    }

    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Stops with SIGTERM and waits; returns whether it exited cleanly.
    pub fn stop(mut self) -> bool {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status.success()
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A watcher started under `vault`'s temporary directory (in `name`), with the vault
/// enrolled as "Nilufar": the start of most tests of the switch.
pub fn enrolled_with(vault: &super::TestVault, name: &str) -> Daemon {
    let daemon = Daemon::start(&vault.path(name));
    vault.ok(
        &["enrol", &daemon.url, &invite(&daemon.data, "Nilufar")],
        "",
    );
    daemon
}

/// A one-time enrolment code from `posbon watch invite`.
pub fn invite(data: &Path, name: &str) -> String {
    let out = super::posbon()
        .args(["watch", "invite", name, "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", super::stderr(&out));
    super::stdout(&out).trim().to_string()
}

/// The queued actions (`posbon watch actions`), with the daemon stopped.
pub fn actions(data: &Path) -> Vec<serde_json::Value> {
    let out = super::posbon()
        .args(["watch", "actions", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", super::stderr(&out));
    super::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The kinds of queued actions, as short labels: `remind`, `tier1`, `all-clear`, `duress`.
pub fn action_labels(actions: &[serde_json::Value]) -> Vec<String> {
    actions
        .iter()
        .map(|a| {
            let emitted = &a["emitted"];
            match emitted["kind"].as_str().unwrap() {
                "step" => match &emitted["action"] {
                    serde_json::Value::String(s) if s == "remind-journalist" => {
                        "remind".to_string()
                    }
                    serde_json::Value::String(s) => s.clone(),
                    other => format!("tier{}", other["alert-tier"]),
                },
                kind => kind.to_string(),
            }
        })
        .collect()
}

/// A connection to the watcher from the loopback address `127.0.0.{last}`.
pub fn connect_from(
    runtime: &tokio::runtime::Runtime,
    last: u8,
    to: std::net::SocketAddr,
) -> std::net::TcpStream {
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(std::net::SocketAddr::new(
                std::net::Ipv4Addr::new(127, 0, 0, last).into(),
                0,
            ))
            .unwrap();
        socket.connect(to).await.unwrap().into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
