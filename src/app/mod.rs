//! `posbon app`: the vault and the switch as a local web app, for journalists who never open a
//! terminal. A face like `cli`: every action is a library call (`vault`, `switch`); this
//! module serves pages, keeps the unlocked vault between requests, and forgets it on lock.
//!
//! - `peer`: only connections from the journalist's own user are accepted at all.
//! - `session`: the unlocked vault between requests, and locking that never waits on it.
//! - `gate`: who may talk to the app (launch token → session cookie, Host and Origin, the
//!   form token, the headers on every answer), as pure decisions.
//! - `pages`: unlock, lock, language, and the records (list, search, read, add, edit, delete).
//! - `files`: attachments streamed in and out of the vault.
//! - `phones`: a link (and its QR code) that sets a phone up with every watcher; each
//!   watcher's phones, and removing one.
//! - `people`: the contacts and their instructions, kept in the vault and sent to every
//!   watcher.
//! - `planning`: the plan, kept in the vault and sent to every watcher.
//! - `proxy`: the route to the watchers (through Tor), as `posbon proxy`.
//! - `sealing`: material sealed for the lawyers, shown before it is sealed.
//! - `watchers`: check-in, each watcher's status, pauses; `enrolment`: joining a watcher with
//!   the operator's one-time code, and leaving one.
//! - `history`: what the watchers saw while the journalist was away; taking back a false
//!   duress alarm.
//! - `backups`: the whole vault as one `age` file, streamed to the downloads.
//! - `emergency`: what works without unlocking: adding a note, and `panic`.
//! - `keys`: a new passphrase, the duress passphrase, a recovery key shown once.
//! - `forms`: what a posted form holds (wiped once read), and a new passphrase as every form
//!   takes it (twice, strength checked).
//! - `lawyer`: verifying an alert and opening a released bundle, with no vault needed.
//! - `when`: times in the journalist's time zone; `notices`: what an unlock has to tell.
//! - `text`: the app's words in Tajik, Russian and English (Fluent, `ftl/`).
//!
//! Pages are rendered on the server (askama templates in `templates/`, escaped by default)
//! and carry no script at all: the Content-Security-Policy forbids any, so nothing injected
//! into a record could run, and the app works on an old laptop with no network.

mod backups;
mod emergency;
mod enrolment;
mod files;
mod forms;
mod gate;
mod history;
mod keys;
mod lawyer;
mod notices;
mod pages;
mod peer;
mod people;
mod phones;
mod planning;
mod proxy;
mod sealing;
mod session;
mod text;
mod watchers;
mod when;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use zeroize::{Zeroize, Zeroizing};

use crate::lang::Lang;
use gate::{Gate, Refused};
use text::Tr;

/// How `posbon app` runs.
pub struct Options {
    pub vault_dir: PathBuf,
    /// Where to listen: loopback only. Port 0 takes a free one.
    pub listen: SocketAddr,
    /// Open the launch link in the default browser (else only print it).
    pub open_browser: bool,
    pub lang: Lang,
    /// The vault locks itself after this long without a request.
    pub lock_after: Duration,
    /// The key derivation of a vault made in the app.
    pub kdf: crate::vault::keyslots::KdfParams,
}

/// Why the app did not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(
        "the app listens on this computer only (127.0.0.1 or ::1), not on {0}: anyone on the network could reach the vault's pages"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the app: {0}")]
    Runtime(#[source] std::io::Error),
}

/// One run of the app: its gate, and the vault while it is unlocked.
struct App {
    gate: Gate,
    vault_dir: PathBuf,
    /// The key derivation of a vault made here.
    kdf: crate::vault::keyslots::KdfParams,
    /// The unlocked vault, if it is.
    session: session::Session,
    last_request: Mutex<Instant>,
    lock_after: Duration,
    lang: Mutex<Lang>,
    /// What the page after a post says (the post itself is answered with a redirect).
    flash: Mutex<Option<Flash>>,
    /// The words of the last search, shown by `GET /search`; wiped on lock.
    search: Mutex<Zeroizing<String>>,
    /// The answers to the last check-in, shown once by `GET /switch`.
    checked_in: Mutex<Option<watchers::Answers>>,
    /// What the lawyer's last verification or opening found, shown once.
    finding: Mutex<Option<lawyer::Finding>>,
    /// A bundle prepared and shown, waiting for the journalist to confirm it.
    sealing: Mutex<Option<crate::switch::releases::Prepared>>,
    /// A recovery key just made, for the one page that shows it.
    recovery_key: Mutex<Option<Zeroizing<String>>>,
    /// The passphrase of the backup about to be downloaded (zeroized on drop).
    backup_passphrase: Mutex<Option<crate::secret::Passphrase>>,
    /// Phone links just made, for the one page that shows them (their tokens work once).
    phone_links: Mutex<Option<Vec<phones::ShownLink>>>,
}

/// A line for the next page: news, or trouble.
pub(super) enum Flash {
    Notice(String),
    Error(String),
}

impl App {
    fn tr(&self) -> Tr {
        Tr {
            lang: *self.lang.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Whether the vault is unlocked; never waits on work using it.
    fn unlocked(&self) -> bool {
        self.session.is_open()
    }

    /// Forgets the vault: the session ends at once (transfers stop, pages show it locked),
    /// then its keys are zeroized as it drops and its lock on the directory is released as
    /// soon as the work in hand lets go of it (see [`session`]). A transfer lets go within a
    /// chunk; a call to a watcher in flight may take its whole timeout (minutes, for a bundle
    /// on a slow line). The keys must not outlive a lock by that long, so if they are not gone
    /// within [`LOCK_WAIT`] the app stops: the process ends, and its memory with it.
    async fn lock(self: &Arc<Self>) {
        self.end_session();
        let app = self.clone();
        let forgetting = tokio::task::spawn_blocking(move || app.session.forget());
        if tokio::time::timeout(LOCK_WAIT, forgetting).await.is_err() {
            eprintln!(
                "posbon: a call to a watcher still held the vault when it was locked; the app \
                 stops so that the keys go now (start it again)"
            );
            std::process::exit(EXIT_LOCKED_BY_STOPPING);
        }
    }

    /// Stores `value` for the pages of the session `session`, unless that session ended
    /// meanwhile (what work found after a lock belongs to no page: a decoy session opened
    /// later must not show the real vault's answers).
    pub(super) fn keep<T>(&self, session: u64, slot: &Mutex<Option<T>>, value: T) {
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if self.session.still(session) {
            *slot = Some(value);
        }
    }

    /// Ends the session without waiting for anything: the vault is no longer handed to any
    /// work, streamed transfers stop, and what the pages kept between requests is wiped.
    fn end_session(&self) {
        self.session.end();
        self.wipe_pages();
    }

    /// Wipes what the pages kept between requests: at every end of a session, and at every
    /// start of one, so that nothing of one session is ever shown in another.
    fn wipe_pages(&self) {
        self.flash.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.search
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .zeroize();
        self.checked_in
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.finding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.sealing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.recovery_key
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.backup_passphrase
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.phone_links
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    fn take_flash(&self) -> Option<Flash> {
        self.flash.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// The answer to every post: a redirect to `to`, whose page says `flash`. So the browser
    /// keeps no post (with what was typed in it) in its history or its session files, and
    /// Back or a reload never sends one again.
    pub(super) fn after_post(&self, to: &str, flash: Option<Flash>) -> Response {
        *self.flash.lock().unwrap_or_else(|p| p.into_inner()) = flash;
        Redirect::to(to).into_response()
    }

    fn touch(&self) {
        *self.last_request.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_request
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }
}

type Shared = Arc<App>;

/// Starts the app and serves until Ctrl-C (or SIGTERM); the vault is locked on the way out.
pub fn run(options: Options) -> Result<(), AppError> {
    if !options.listen.ip().is_loopback() {
        return Err(AppError::NotLoopback(options.listen));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(AppError::Runtime)?;
    let served = runtime.block_on(serve(options));
    // A call to a watcher still running on a blocking thread must not hold the process (and
    // the keys in it) until its timeout: the process ends, and its memory with it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

async fn serve(options: Options) -> Result<(), AppError> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| AppError::Listen {
            addr: options.listen,
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| AppError::Listen {
        addr: options.listen,
        source,
    })?;
    // A file being added without unlocking when the app last stopped left an unreadable
    // spool: it goes now, not at the next unlock, which may be days away.
    crate::vault::capture::shred_abandoned_spools(&options.vault_dir.join(crate::vault::INBOX_DIR));
    let app = Arc::new(App {
        gate: Gate::new(bound),
        vault_dir: options.vault_dir,
        kdf: options.kdf,
        session: session::Session::new(),
        last_request: Mutex::new(Instant::now()),
        lock_after: options.lock_after,
        lang: Mutex::new(options.lang),
        flash: Mutex::new(None),
        search: Mutex::new(Zeroizing::new(String::new())),
        checked_in: Mutex::new(None),
        finding: Mutex::new(None),
        sealing: Mutex::new(None),
        recovery_key: Mutex::new(None),
        backup_passphrase: Mutex::new(None),
        phone_links: Mutex::new(None),
    });
    let url = app.gate.launch_url();
    let words = app.tr();
    // The link is printed either way: a browser that does not start is not a dead end.
    println!("{}", words.with("started", "url", &url));
    if options.open_browser {
        open_in_browser(&url);
    }
    tokio::spawn(lock_when_idle(app.clone()));
    let routes = router(app.clone());
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let ender = app.clone();
    let shutdown = async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        // Transfers in flight stop now, so that their connections close and the keys go.
        ender.end_session();
        let _ = stopping.send(true);
    };
    let serving = axum::serve(peer::OwnUserOnly::new(listener), routes)
        .with_graceful_shutdown(shutdown)
        .into_future();
    // A connection that never finishes (a browser that stopped reading) must not keep the
    // app, and the vault with it, alive after a stop: it gets a few seconds.
    let served = tokio::select! {
        served = serving => served,
        _ = async {
            let _ = stopped.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => Ok(()),
    };
    app.lock().await;
    served.map_err(AppError::Runtime)
}

/// How long a stop waits for connections still open before it goes anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How long Lock waits for the vault to be dropped (a transfer lets go within a chunk; a
/// call to a watcher may take its whole timeout, and then the app stops instead).
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The exit status of an app that stopped because a lock could not drop the keys at once.
const EXIT_LOCKED_BY_STOPPING: i32 = 0;

fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/style.css", get(style))
        .route("/unlock", post(pages::unlock))
        .route("/create", post(pages::create_vault))
        .route("/lock", post(pages::lock))
        .route("/lang", post(pages::set_lang))
        .route("/search", get(pages::found).post(pages::search))
        .route("/new/{kind}", get(pages::new_form).post(pages::create))
        .route("/r/{id}", get(pages::show))
        .route("/r/{id}/edit", get(pages::edit_form).post(pages::save))
        .route(
            "/r/{id}/delete",
            get(pages::confirm_delete).post(pages::delete),
        )
        .route(
            "/r/{id}/attach",
            post(files::attach).layer(DefaultBodyLimit::disable()),
        )
        .route("/r/{id}/file/{index}", get(files::extract))
        .route("/r/{id}/file/{index}/remove", post(files::detach))
        .route("/switch", get(watchers::page))
        .route("/checkin", post(watchers::checkin))
        .route("/enrol", post(enrolment::enrol))
        .route(
            "/watchers/{leave}/leave",
            get(enrolment::confirm_leave).post(enrolment::leave),
        )
        .route(
            "/watchers/{leave}/forget",
            get(enrolment::confirm_forget).post(enrolment::forget),
        )
        .route("/pause", post(watchers::pause))
        .route("/resume", post(watchers::resume))
        .route("/pretend-over", post(watchers::end_pretend))
        .route("/proxy", get(proxy::page).post(proxy::set))
        .route("/proxy/clear", post(proxy::clear))
        .route("/history", get(history::page))
        .route("/phones", get(phones::page))
        .route("/phones/invite", post(phones::invite))
        .route(
            "/phones/{id}/remove",
            get(phones::confirm_remove).post(phones::remove),
        )
        .route("/history/retract", post(history::retract))
        .route("/plan", get(planning::page).post(planning::set))
        .route("/contacts", get(people::page).post(people::add))
        .route("/contacts/remove", post(people::remove))
        .route("/contacts/test", post(people::test))
        .route("/contacts/instructions", post(people::instructions))
        .route("/keys", get(keys::page).post(keys::change))
        .route("/backup", get(backups::page).post(backups::prepare))
        .route("/backup/download", get(backups::download))
        .route(
            "/backup/restore",
            post(backups::restore).layer(DefaultBodyLimit::disable()),
        )
        .route("/keys/recovery", post(keys::recovery))
        .route(
            "/keys/remove/{which}",
            get(keys::confirm_remove).post(keys::remove),
        )
        .route("/seal", get(sealing::page).post(sealing::prepare))
        .route("/seal/review", get(sealing::review))
        .route("/seal/confirm", post(sealing::confirm))
        .route("/seal/{id}/update", post(sealing::update))
        .route(
            "/seal/{id}/withdraw",
            get(sealing::confirm_withdraw).post(sealing::withdraw),
        )
        .route(
            "/capture",
            get(emergency::capture_form).post(emergency::capture),
        )
        .route(
            "/capture/file",
            post(files::capture).layer(DefaultBodyLimit::disable()),
        )
        .route("/panic", get(emergency::panic_form).post(emergency::panic))
        .route("/lawyer", get(lawyer::page))
        .route("/lawyer/verify", post(lawyer::verify))
        .route(
            "/lawyer/open",
            post(lawyer::open).layer(DefaultBodyLimit::max(lawyer::MAX_FORM)),
        )
        // Forms are small; only attachments are streamed past this.
        .layer(DefaultBodyLimit::max(1 << 20))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("style.css"),
    )
}

/// Every request passes here first: the Host, the launch token, the session, and for every
/// change the origin and the form token. Every answer, refused or not, leaves with the
/// headers of [`gate::HEADERS`].
async fn guard(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let mut response = admit(&app, request, next).await;
    for (name, value) in gate::HEADERS {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn admit(app: &Shared, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if !app.gate.host_ok(text(header::HOST.as_str())) {
        return refused(app, Refused::WrongHost);
    }
    if app.gate.fetched_from_elsewhere(text("sec-fetch-site")) {
        return refused(app, Refused::CrossSite);
    }
    if let Some(token) = query_value(request.uri().query(), "token") {
        return match app.gate.exchange(&token) {
            Ok(cookie) => Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::SET_COOKIE, cookie)
                // The token leaves the address bar (and the history entry) at once.
                .header(header::LOCATION, "/")
                .body(Body::empty())
                .expect("a valid redirect"),
            Err(why) => refused(app, why),
        };
    }
    if request.uri().path() == "/style.css" {
        return next.run(request).await;
    }
    if !app.gate.session_ok(text(header::COOKIE.as_str())) {
        return refused(app, Refused::NoSession);
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let form_token = query_value(request.uri().query(), "csrf");
        if !app.gate.form_ok(
            text(header::ORIGIN.as_str()),
            text("sec-fetch-site"),
            form_token.as_deref(),
        ) {
            return refused(app, Refused::CrossSite);
        }
    }
    app.touch();
    next.run(request).await
}

/// The value of `name` in a query string.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

fn refused(app: &Shared, why: Refused) -> Response {
    let words = app.tr();
    let (status, id) = match why {
        Refused::WrongHost => (StatusCode::FORBIDDEN, "refused-host"),
        Refused::NoSession => (StatusCode::UNAUTHORIZED, "refused-session"),
        Refused::LinkUsed => (StatusCode::FORBIDDEN, "refused-link"),
        Refused::CrossSite => (StatusCode::FORBIDDEN, "refused-cross-site"),
    };
    let page = pages::Refused {
        t: words,
        text: words.get(id),
    };
    (status, pages::html(&page)).into_response()
}

/// Locks the vault once no request came for [`Options::lock_after`].
async fn lock_when_idle(app: Shared) {
    let every = (app.lock_after / 4).clamp(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        tokio::time::sleep(every).await;
        if app.idle_for() >= app.lock_after && app.unlocked() {
            app.lock().await;
            tracing::info!("locked after {:?} without a request", app.lock_after);
        }
    }
}

/// Asks the desktop to open `url` in the default browser; the printed link is the fallback.
fn open_in_browser(url: &str) {
    let started = std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if started.is_err() {
        eprintln!("posbon: no browser could be started; open the link above in one");
    }
}
