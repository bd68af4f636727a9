//! `posbon watch serve`: the tokio runtime, the HTTP listener, the escalation loop, and
//! graceful shutdown on SIGTERM or Ctrl-C.
//!
//! The escalation loop sleeps until the earliest moment a step falls due (at most a minute),
//! or until a request changes a schedule. Every step is persisted together with its queued
//! action before anything else happens, so a crash or restart fires what fell due meanwhile
//! and fires nothing twice.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tracing::{error, info};

use super::service::Watcher;

pub struct ServeOptions {
    pub data: PathBuf,
    pub listen: SocketAddr,
    /// Plans from the operator's config: (subject name, plan).
    pub plans: Vec<(String, super::plan::Plan)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the runtime failed: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Runs the watcher in the foreground until SIGTERM or Ctrl-C.
pub fn serve(options: ServeOptions) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(options))
}

async fn run(options: ServeOptions) -> Result<(), ServeError> {
    let data = options.data.clone();
    let plans = options.plans;
    let watcher = Arc::new(
        tokio::task::spawn_blocking(move || -> Result<Watcher, ServeError> {
            let watcher = Watcher::open(&data)?;
            for (name, plan) in plans {
                if !watcher.set_plan_by_name(&name, plan, crate::vault::now())? {
                    tracing::warn!(%name, "the config names a plan for a subject that is not enrolled");
                }
            }
            Ok(watcher)
        })
        .await
        .expect("open task")?,
    );
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "posbon watcher listening on http://{addr}");
        let _ = writeln!(out, "fingerprint: {}", watcher.fingerprint());
        let _ = writeln!(
            out,
            "enrol a journalist: posbon watch invite NAME --data {}   then, on their laptop: posbon enrol http://{addr} CODE",
            options.data.display()
        );
        let _ = out.flush();
    }
    info!(%addr, "listening");

    let (stop_tx, stop_rx) = watch::channel(false);
    let wake = Arc::new(Notify::new());
    let escalation = tokio::spawn(escalate(watcher.clone(), wake.clone(), stop_rx.clone()));
    let app = super::http::router(watcher).layer(axum::Extension(wake));
    let mut stop_for_server = stop_rx.clone();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        let _ = stop_for_server.changed().await;
    });
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutting down");
        let _ = stop_tx.send(true);
    });
    server.await?;
    let _ = escalation.await;
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

const LONGEST_SLEEP_MS: i64 = 60_000;

async fn escalate(watcher: Arc<Watcher>, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    loop {
        let w = watcher.clone();
        let now = crate::vault::now();
        let next = tokio::task::spawn_blocking(move || w.tick(now)).await;
        let sleep_ms = match next {
            Ok(Ok(Some(at))) => (at - crate::vault::now()).clamp(0, LONGEST_SLEEP_MS),
            Ok(Ok(None)) => LONGEST_SLEEP_MS,
            Ok(Err(e)) => {
                // Storage failed: try again soon rather than give up on the deadlines.
                error!(error = %e, "escalation could not run");
                1_000
            }
            Err(_) => 1_000,
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(sleep_ms as u64)) => {}
            _ = wake.notified() => {}
            _ = stop.changed() => return,
        }
    }
}
