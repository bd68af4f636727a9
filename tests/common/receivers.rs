//! Stand-ins for the far side of alert channels, on loopback: a real SMTP server (Python's
//! aiosmtpd from Debian, in `tests/receivers/smtp_sink.py`) and an HTTP receiver that plays
//! Telegram, Signal's gateway, ntfy, Matrix and webhooks, and can refuse, fail, hang, or be
//! down until told to come up.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A loopback port that was free a moment ago, for a server a test starts (or restarts)
/// later. Two things could take it meanwhile, and both are ruled out:
/// - another test in this process: a port is handed out at most once per process;
/// - an outgoing connection, which takes its local port from the kernel's ephemeral
///   range (`ip_local_port_range`, 32768–60999 by default): ports are drawn from outside
///   that range. A busy CI machine made servers fail to start before both rules.
pub fn free_port() -> u16 {
    use ring::rand::SecureRandom;
    static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let (ephemeral_low, ephemeral_high) = ephemeral_range();
    let random = ring::rand::SystemRandom::new();
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for attempt in 0..10_000 {
        let mut bytes = [0u8; 2];
        random.fill(&mut bytes).unwrap();
        let port = 10_000 + u16::from_le_bytes(bytes) % 55_000;
        // Should the ephemeral range cover nearly everything, take what there is.
        let ephemeral = attempt < 5_000 && (ephemeral_low..=ephemeral_high).contains(&port);
        if ephemeral || handed_out.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed_out.push(port);
            return port;
        }
    }
    panic!(
        "no free loopback port in 10000–65000 outside the ephemeral range \
         {ephemeral_low}–{ephemeral_high}"
    )
}

/// The kernel's range for outgoing connections' local ports.
fn ephemeral_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut bounds = text.split_whitespace().filter_map(|n| n.parse().ok());
    match (bounds.next(), bounds.next()) {
        (Some(low), Some(high)) => (low, high),
        _ => (32_768, 60_999),
    }
}

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl SmtpSink {
    /// Starts aiosmtpd on `port`, writing each message to a file in `dir`; the first
    /// `refuse_first` messages get a temporary failure. Panics with the sink's own error
    /// if it cannot start.
    pub fn start_on(port: u16, dir: &Path, refuse_first: u32) -> SmtpSink {
        Self::try_start_on(port, dir, refuse_first)
            .unwrap_or_else(|error| panic!("the SMTP sink did not start: {error}"))
    }

    fn try_start_on(port: u16, dir: &Path, refuse_first: u32) -> Result<SmtpSink, String> {
        std::fs::create_dir_all(dir).unwrap();
        let stderr_path = dir.with_extension(format!("smtp-sink-{port}.err"));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut child = Command::new("/usr/bin/python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/receivers/smtp_sink.py"
            ))
            .arg(port.to_string())
            .arg(dir)
            .args(["--refuse-first", &refuse_first.to_string()])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("python3 with aiosmtpd (apt-get install python3-aiosmtpd)");
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        if line.trim() == "ready" {
            return Ok(SmtpSink {
                child,
                port,
                dir: dir.to_path_buf(),
            });
        }
        let _ = child.kill();
        let _ = child.wait();
        let said = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        Err(format!("port {port}: {}", said.trim()))
    }

    /// Starts aiosmtpd on a free port. Another test may take the port between our
    /// finding it free and the sink binding it, so a failed start is tried again on
    /// another port.
    pub fn start(dir: &Path) -> SmtpSink {
        let mut errors = Vec::new();
        for _ in 0..5 {
            match Self::try_start_on(free_port(), dir, 0) {
                Ok(sink) => return sink,
                Err(error) => errors.push(error),
            }
        }
        panic!("the SMTP sink did not start: {}", errors.join("; "))
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received, as received (RFC 5322 bytes), oldest first.
    pub fn messages(dir: &Path) -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// Answer with this status and record nothing.
    Status(u16),
    /// Never answer (until the client gives up).
    Hang,
    /// Accept after this many milliseconds (the request is recorded even if the sender
    /// has gone away meanwhile, as a real server would have acted on it).
    Delay(u64),
}

/// What the real service would refuse, with its own status and error body; `None` when it
/// would take the request. The service is told by the path (Telegram's `/bot…/method`,
/// the Signal gateway's `/v2/send`, Matrix's `/_matrix/`), a webhook by its HMAC header;
/// anything else is an ntfy publish.
fn service_rules(
    path: &str,
    headers: &HashMap<String, String>,
    body: &[u8],
) -> Option<(u16, String)> {
    if headers.contains_key("x-posbon-hmac")
        || path.contains("/bot")
        || path.ends_with("/v2/send")
        || path.contains("/_matrix/")
    {
        return None;
    }
    ntfy_rules(path, body)
}

/// ntfy (server.go, as of 2.11): a JSON publish to `/` may be at most twice the message
/// limit (8,192 bytes); a topic is `^[-_A-Za-z0-9]{1,64}$`, else no route matches. A raw
/// body over the message limit (4,096 bytes) becomes an attachment, which this stand-in
/// allows, as ntfy.sh does.
pub const NTFY_JSON_LIMIT: usize = 8_192;

fn ntfy_rules(path: &str, body: &[u8]) -> Option<(u16, String)> {
    let error = |status: u16, code: u32, text: &str| {
        Some((
            status,
            format!(r#"{{"code":{code},"http":{status},"error":"{text}","link":""}}"#),
        ))
    };
    let topic = path.rsplit('/').next().unwrap_or("");
    if topic.is_empty() {
        if body.len() > NTFY_JSON_LIMIT {
            return error(413, 41303, "JSON body too large");
        }
        return None;
    }
    let valid = topic.len() <= 64
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return error(404, 40401, "page not found");
    }
    None
}

/// An HTTP server on loopback that records what it accepts.
pub struct Receiver {
    pub port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    runtime: Option<tokio::runtime::Runtime>,
    /// While down before its first start: the port, bound but not listening, so that a
    /// connection is refused as by a server that is down, and nothing else can take it.
    reserved: Option<tokio::net::TcpSocket>,
}

impl Receiver {
    /// Listening at once.
    pub fn start() -> Receiver {
        let mut receiver = Self::down();
        receiver.come_up();
        receiver
    }

    /// A port chosen and held, nothing listening on it yet (see [`Receiver::come_up`]).
    pub fn down() -> Receiver {
        let (port, reserved) = (0..20)
            .find_map(|_| {
                let port = free_port();
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                let bound = socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
                bound.ok().map(|()| (port, socket))
            })
            .expect("a loopback port to hold");
        Receiver {
            port,
            got: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            runtime: None,
            reserved: Some(reserved),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Everything accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    pub fn come_up(&mut self) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let got = self.got.clone();
        let mode = self.mode.clone();
        let listener = match self.reserved.take() {
            Some(socket) => {
                let _in_runtime = runtime.enter();
                socket.listen(128).expect("listening on the held port")
            }
            None => runtime
                .block_on(tokio::net::TcpListener::bind(("127.0.0.1", self.port)))
                .expect("the receiver's own port is free again"),
        };
        runtime.spawn(async move {
            let app = axum::Router::new().fallback(
                move |method: axum::http::Method,
                      uri: axum::http::Uri,
                      headers: axum::http::HeaderMap,
                      body: axum::body::Bytes| {
                    let got = got.clone();
                    let mode = mode.clone();
                    async move {
                        let mut current = *mode.lock().unwrap();
                        if let Mode::Delay(ms) = current {
                            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                            current = Mode::Accept;
                        }
                        match current {
                            Mode::Accept | Mode::Delay(_) => {
                                let header_map: HashMap<String, String> = headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            k.as_str().to_string(),
                                            String::from_utf8_lossy(v.as_bytes()).to_string(),
                                        )
                                    })
                                    .collect();
                                if let Some((status, answer)) =
                                    service_rules(uri.path(), &header_map, &body)
                                {
                                    return (
                                        axum::http::StatusCode::from_u16(status).unwrap(),
                                        answer,
                                    );
                                }
                                got.lock().unwrap().push(Received {
                                    method: method.to_string(),
                                    path: uri.path().to_string(),
                                    headers: headers
                                        .iter()
                                        .map(|(k, v)| {
                                            (
                                                k.as_str().to_string(),
                                                String::from_utf8_lossy(v.as_bytes()).to_string(),
                                            )
                                        })
                                        .collect(),
                                    body: body.to_vec(),
                                });
                                (axum::http::StatusCode::OK, "{\"ok\":true}".to_string())
                            }
                            Mode::Status(code) => (
                                axum::http::StatusCode::from_u16(code).unwrap(),
                                "{\"ok\":false}".to_string(),
                            ),
                            Mode::Hang => {
                                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                                (axum::http::StatusCode::OK, "{\"ok\":true}".to_string())
                            }
                        }
                    }
                },
            );
            let _ = axum::serve(listener, app).await;
        });
        self.runtime = Some(runtime);
    }

    /// Stops listening (what was received stays readable).
    pub fn go_down(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.go_down();
    }
}
