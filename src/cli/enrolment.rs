//! Joining and leaving watchers: `posbon enrol` (the bundles sealed before are sent along)
//! and `posbon unenrol` (the watcher asked to forget the journalist, or with `--local` only
//! forgotten here). The work is done in [`crate::switch::watchers`] and
//! [`crate::switch::releases`]; the words are the same under every passphrase.

use anyhow::{Context, Result};

use crate::switch::client::{ClientError, Link};
use crate::switch::releases::{self, Resent, SealedBundles};
use crate::switch::watchers;
use crate::vault::Vault;

use super::switch::{client_text, explain};
use super::words;

/// Enrolled, but the new watcher lacks a sealed bundle (exit 12): the enrolment stands.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EnrolledWithoutBundles(String);

/// `posbon enrol URL CODE`: enrols, then sends the bundles sealed before to every watcher
/// (sealed again, as `release update` does), saying what became of each. The same path under
/// every passphrase: a decoy sends its own bundles, which the watchers only pretend to store.
pub(super) fn enrol(vault: &Vault, url: &str, code: &str) -> Result<()> {
    let link = watchers::enrol(vault, url, code).map_err(explain)?;
    println!("{}", link.fingerprint);
    let subject = format!("{:?}", link.subject);
    eprintln!(
        "{}",
        words::with(
            "enrolled-with",
            &[("url", &link.url), ("subject", &subject)]
        )
    );
    send_bundles(vault, &link)
}

/// Sends every bundle in force to every watcher after `new` was enrolled with.
fn send_bundles(vault: &Vault, new: &Link) -> Result<()> {
    let count = SealedBundles::load(vault).map_err(explain)?.in_force();
    if count == 0 {
        return Ok(());
    }
    eprintln!(
        "{}",
        words::count("enrol-bundles-sending", "count", count as i64, &[])
    );
    let mut missing = false;
    releases::send_to_all(
        vault,
        |prepared| eprint!("{}", super::release::preview(prepared)),
        |release, outcome| {
            let (id, name) = (release.id.as_str(), release.name.as_str());
            let warn = |text: String| super::switch::warn(&text);
            match outcome {
                Resent::Sealed {
                    version,
                    failed,
                    released_on,
                } => {
                    let version = version.to_string();
                    let args = [("id", id), ("name", name), ("version", version.as_str())];
                    if failed.is_empty() && released_on.is_empty() {
                        println!("{}", words::with("enrol-bundle-stored", &args));
                    } else {
                        println!("{}", words::with("enrol-bundle-stored-but", &args));
                    }
                    for url in &released_on {
                        eprintln!(
                            "{}",
                            words::with(
                                "enrol-bundle-released",
                                &[("url", url), ("id", id), ("name", name)],
                            )
                        );
                    }
                    for e in &failed {
                        missing = true;
                        warn(client_text(e));
                        let url = failed_url(e);
                        let which = if url == new.url {
                            "enrol-bundle-lacks"
                        } else {
                            "enrol-bundle-old-copy"
                        };
                        warn(words::with(
                            which,
                            &[("url", url), ("id", id), ("name", name)],
                        ));
                    }
                }
                Resent::NotSealed(e) => {
                    missing = true;
                    let reason = format!("{:#}", explain(e));
                    warn(words::with(
                        "enrol-bundle-not-sealed",
                        &[
                            ("url", &new.url),
                            ("id", id),
                            ("name", name),
                            ("reason", &reason),
                        ],
                    ));
                }
            }
        },
    )
    .map_err(explain)
    .with_context(|| words::with("enrolled-bundles-unsent", &[("url", &new.url)]))?;
    if missing {
        return Err(EnrolledWithoutBundles(words::with(
            "enrolled-without-bundles",
            &[("url", &new.url)],
        ))
        .into());
    }
    Ok(())
}

/// The watcher a request failed at.
fn failed_url(error: &ClientError) -> &str {
    match error {
        ClientError::Unreachable { url, .. }
        | ClientError::ProxyDown { url, .. }
        | ClientError::OnionWithoutProxy { url }
        | ClientError::Refused { url, .. }
        | ClientError::BadResponseSignature { url }
        | ClientError::Malformed { url, .. } => url,
    }
}

/// `posbon unenrol WATCHER`: the same words under every passphrase (under the duress one the
/// watcher only pretends, and raises the silent alarm).
pub(super) fn unenrol(vault: &Vault, url: &str) -> Result<()> {
    let url = url.trim_end_matches('/');
    match watchers::unenrol(vault, url).map_err(explain)? {
        watchers::Unenrolled::Forgotten { .. } => {
            println!("{}", words::with("unenrolled", &[("url", url)]))
        }
        watchers::Unenrolled::AnsweredAsStranger => {
            return Err(anyhow::anyhow!(words::with(
                "unenrol-unverified",
                &[("url", url)]
            )));
        }
    }
    warn_if_none_left(vault)
}

/// `posbon unenrol WATCHER --local`: forgets a watcher that is gone, without asking it to
/// forget you, and says so. The same words under every passphrase: under the duress one the
/// decoy forgets it and the real vault keeps it (and keeps checking in there).
pub(super) fn unenrol_local(vault: &Vault, url: &str) -> Result<()> {
    let url = url.trim_end_matches('/');
    let answered = watchers::unenrol_local(vault, url).map_err(explain)?;
    println!("{}", words::with("unenrolled-locally", &[("url", url)]));
    match answered {
        watchers::LeftLocally::StillWatching => super::switch::warn(&words::with(
            "unenrol-local-still-watching",
            &[("url", url)],
        )),
        watchers::LeftLocally::NotKnownThere => {
            eprintln!(
                "{}",
                words::with("unenrol-local-not-known", &[("url", url)])
            )
        }
        watchers::LeftLocally::NoAnswer(e) => eprintln!(
            "{}",
            words::with(
                "unenrol-local-no-answer",
                &[("url", url), ("reason", &client_text(&e))]
            )
        ),
    }
    warn_if_none_left(vault)
}

fn warn_if_none_left(vault: &Vault) -> Result<()> {
    if !watchers::enrolled(vault).map_err(explain)? {
        super::switch::warn(&words::t("no-watcher-left"));
    }
    Ok(())
}
