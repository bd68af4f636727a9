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
    /// Answer with this status, body and `Retry-After` (seconds), as a service refusing
    /// does, and record nothing.
    Reply {
        status: u16,
        body: &'static str,
        retry_after: Option<u32>,
    },
    /// Never answer (until the client gives up).
    Hang,
    /// Accept after this many milliseconds (the request is recorded even if the sender
    /// has gone away meanwhile, as a real server would have acted on it).
    Delay(u64),
}

/// Telegram's answer to a bot over its rate: `retry_after` in seconds.
pub const TELEGRAM_429: &str = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 30","parameters":{"retry_after":30}}"#;

/// What the stand-in services know of their accounts, as the real ones would: which
/// people started the bot, which `@names` are channels, which groups became supergroups,
/// which Matrix rooms the account is invited to or joined.
#[derive(Default, Debug)]
pub struct Accounts {
    pub telegram_started: std::collections::HashSet<String>,
    pub telegram_channels: std::collections::HashSet<String>,
    /// Old group id → the supergroup's id.
    pub telegram_migrated: HashMap<String, i64>,
    /// How many sends went to a group's old id (and were refused with `migrate_to_chat_id`).
    pub telegram_old_id_sends: u32,
    pub matrix_invited: std::collections::HashSet<String>,
    pub matrix_joined: std::collections::HashSet<String>,
    /// Answer the next this many Matrix sends with `429 M_LIMIT_EXCEEDED`.
    pub matrix_limited: u32,
    /// The Signal gateway's default text mode is `styled` (`DEFAULT_SIGNAL_TEXT_MODE`):
    /// unless a request says `"text_mode": "normal"`, the markup characters are taken out.
    pub signal_styled: bool,
}

/// What a gateway in `styled` mode does to a message: `*`, `~`, `||` and backticks are
/// read as markup and leave the text.
fn signal_styled(body: &[u8]) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if json["text_mode"] == "normal" {
        return body.to_vec();
    }
    if let Some(message) = json["message"].as_str() {
        let styled = message.replace("||", "").replace(['*', '~', '`'], "");
        json["message"] = serde_json::Value::String(styled);
    }
    serde_json::to_vec(&json).unwrap()
}

/// What the real service would refuse, with its own status and error body; `None` when it
/// would take the request. The service is told by the path (Telegram's `/bot…/method`,
/// the Signal gateway's `/v2/send`, Matrix's `/_matrix/`), a webhook by its HMAC header;
/// anything else is an ntfy publish.
fn service_rules(
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: &[u8],
    accounts: &Mutex<Accounts>,
) -> Option<(u16, String)> {
    if headers.contains_key("x-posbon-hmac") {
        return None;
    }
    if path.contains("/bot") {
        return telegram_rules(path, body, &mut accounts.lock().unwrap());
    }
    if path.ends_with("/v2/send") {
        return None;
    }
    if path.contains("/_matrix/") {
        return matrix_rules(method, path, &mut accounts.lock().unwrap());
    }
    ntfy_rules(path, body)
}

/// The Bot API (core.telegram.org/bots/api and its observed answers): a person is reached
/// by their numeric id only after they started the bot (403 otherwise); `@name` only for
/// channels and public groups (a person's `@name` is "chat not found"); a group that became
/// a supergroup answers 400 with `migrate_to_chat_id`.
fn telegram_rules(path: &str, body: &[u8], accounts: &mut Accounts) -> Option<(u16, String)> {
    let refuse = |status: u16, description: &str, extra: &str| {
        Some((
            status,
            format!(r#"{{"ok":false,"error_code":{status},"description":"{description}"{extra}}}"#),
        ))
    };
    let chat = if path.ends_with("/sendDocument") {
        multipart_field(body, "chat_id")
    } else {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|j| match &j["chat_id"] {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    let Some(chat) = chat else {
        return refuse(400, "Bad Request: chat_id is empty", "");
    };
    if path.ends_with("/sendDocument") {
        let caption = multipart_field(body, "caption").unwrap_or_default();
        if caption.encode_utf16().count() > 1_024 {
            return refuse(400, "Bad Request: message caption is too long", "");
        }
    } else {
        let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        if json["text"].as_str().unwrap_or("").encode_utf16().count() > 4_096 {
            return refuse(400, "Bad Request: message is too long", "");
        }
    }
    if let Some(new) = accounts.telegram_migrated.get(&chat).copied() {
        accounts.telegram_old_id_sends += 1;
        return refuse(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            &format!(r#","parameters":{{"migrate_to_chat_id":{new}}}"#),
        );
    }
    if let Some(name) = chat.strip_prefix('@') {
        if !accounts.telegram_channels.contains(name) {
            return refuse(400, "Bad Request: chat not found", "");
        }
    } else if !chat.starts_with('-') && !accounts.telegram_started.contains(&chat) {
        return refuse(
            403,
            "Forbidden: bot can't initiate conversation with a user",
            "",
        );
    }
    None
}

fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let start = text.find(&format!("name=\"{name}\"\r\n\r\n"))? + name.len() + 11;
    let end = start + text[start..].find("\r\n")?;
    Some(text[start..end].to_string())
}

/// A homeserver (spec.matrix.org client-server API): an account may send into a room only
/// once joined (`403 M_FORBIDDEN` while merely invited); `GET /sync` lists the rooms it is
/// invited to; `POST /join/{room}` or `/rooms/{room}/join` joins a room it was invited to.
/// (tests/alerts_matrix.rs runs the same against a real Synapse.)
fn matrix_rules(method: &str, path: &str, accounts: &mut Accounts) -> Option<(u16, String)> {
    let error = |status: u16, code: &str, text: &str| {
        Some((
            status,
            format!(r#"{{"errcode":"{code}","error":"{text}"}}"#),
        ))
    };
    let decode = percent_decode;
    let segments: Vec<&str> = path.split('/').collect();
    let room_after = |word: &str| {
        segments
            .iter()
            .position(|s| *s == word)
            .and_then(|i| segments.get(i + 1))
            .map(|s| decode(s))
    };
    if path.contains("/room_summary/") {
        // An older homeserver, without Matrix 1.15's room summary: the watcher asks /sync.
        return error(404, "M_UNRECOGNIZED", "Unrecognized request");
    }
    if method == "GET" && path.ends_with("/sync") {
        // The account's pending invitations (rooms invited to and not joined yet).
        let invite: serde_json::Map<String, serde_json::Value> = accounts
            .matrix_invited
            .difference(&accounts.matrix_joined)
            .map(|room| {
                (
                    room.clone(),
                    serde_json::json!({"invite_state": {"events": []}}),
                )
            })
            .collect();
        let sync = serde_json::json!({"next_batch": "s1", "rooms": {"invite": invite}});
        return Some((200, sync.to_string()));
    }
    if method == "POST" && (path.contains("/join/") || path.ends_with("/join")) {
        let room = if path.contains("/join/") {
            room_after("join")
        } else {
            room_after("rooms")
        }?;
        if accounts.matrix_invited.contains(&room) || accounts.matrix_joined.contains(&room) {
            accounts.matrix_joined.insert(room);
            return None;
        }
        return error(403, "M_FORBIDDEN", "You are not invited to this room.");
    }
    if path.contains("/send/") {
        let room = room_after("rooms")?;
        if !accounts.matrix_joined.contains(&room) {
            return error(
                403,
                "M_FORBIDDEN",
                "User @posbon:example.org not in room, and room previews are disabled",
            );
        }
        if accounts.matrix_limited > 0 {
            accounts.matrix_limited -= 1;
            return Some((
                429,
                r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":30000}"#
                    .to_string(),
            ));
        }
    }
    None
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(&s[i + 1..i + 3], 16).ok())
            .flatten();
        if let Some(b) = escaped {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
    /// What the stand-in services know of their accounts.
    pub accounts: Arc<Mutex<Accounts>>,
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
            accounts: Arc::default(),
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

    /// This person started the bot (sent it /start), so it may write to them.
    pub fn telegram_start(&self, chat: &str) {
        self.accounts
            .lock()
            .unwrap()
            .telegram_started
            .insert(chat.to_string());
    }

    /// The watcher's Matrix account is invited to `room` (it must still join).
    pub fn matrix_invite(&self, room: &str) {
        self.accounts
            .lock()
            .unwrap()
            .matrix_invited
            .insert(room.to_string());
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
        let accounts = self.accounts.clone();
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
                    let accounts = accounts.clone();
                    // In a task of its own: a real server goes on with a request whose
                    // client has hung up (hyper would drop this handler's future).
                    let handled = tokio::spawn(async move {
                        let reply = |status: u16, body: String, retry_after: Option<u32>| {
                            let mut response = axum::http::Response::builder()
                                .status(status)
                                .header("content-type", "application/json");
                            if let Some(seconds) = retry_after {
                                response = response.header("retry-after", seconds.to_string());
                            }
                            response.body(axum::body::Body::from(body)).unwrap()
                        };
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
                                if let Some((status, answer)) = service_rules(
                                    method.as_str(),
                                    uri.path(),
                                    &header_map,
                                    &body,
                                    &accounts,
                                ) {
                                    return reply(status, answer, None);
                                }
                                let styled = uri.path().ends_with("/v2/send")
                                    && accounts.lock().unwrap().signal_styled;
                                let body = if styled {
                                    signal_styled(&body)
                                } else {
                                    body.to_vec()
                                };
                                got.lock().unwrap().push(Received {
                                    method: method.to_string(),
                                    path: uri.path().to_string(),
                                    headers: header_map,
                                    body,
                                });
                                reply(200, "{\"ok\":true}".to_string(), None)
                            }
                            Mode::Status(code) => reply(code, "{\"ok\":false}".to_string(), None),
                            Mode::Reply {
                                status,
                                body,
                                retry_after,
                            } => reply(status, body.to_string(), retry_after),
                            Mode::Hang => {
                                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                                reply(200, "{\"ok\":true}".to_string(), None)
                            }
                        }
                    });
                    async move { handled.await.unwrap() }
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
