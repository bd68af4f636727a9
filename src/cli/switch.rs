//! The journalist's switch commands (plan, check in, status, history, pause, resume,
//! phones, `duress over`, `duress retract`), the unlock notices' detached sender, and how the
//! switch's errors read on a terminal. The work is [`crate::switch`]'s; this prints its answers as they come.

use anyhow::{Result, anyhow};

use crate::plan::{self, PlanSpec};
use crate::protocol::StatusResponse;
use crate::switch::client::{ClientError, Link};
use crate::switch::releases::{BundleGap, SealedBundles};
use crate::switch::{self, ReleaseRefusal, RemovalLeft, SwitchError, requests, timeline, watchers};
use crate::vault::{self, Vault};

use super::rules;
use super::words;
use super::zone::text as time_text;
use super::{PlanCommand, SetPlan, UsageError};

/// The watchers hold different plans (exit 9): one missed a change, or was tampered with.
#[derive(Debug)]
pub struct WatchersDisagree;

/// Some watcher lacks a bundle, holds an old copy, or still holds one that was removed
/// (exit 12).
#[derive(Debug)]
pub struct BundlesDiffer;

// Said in the reader's words (the English ones are those printed before).
impl std::fmt::Display for WatchersDisagree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&words::t("watchers-disagree"))
    }
}

impl std::error::Error for WatchersDisagree {}

impl std::fmt::Display for BundlesDiffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&words::t("bundles-differ"))
    }
}

impl std::error::Error for BundlesDiffer {}

/// A switch error as the command line says it: warnings for what the error lists (each
/// watcher that failed, each plan), then the error, worded with the command that mends it
/// and of the type that [`super::exit_code`] maps.
pub(super) fn explain(error: SwitchError) -> anyhow::Error {
    match error {
        SwitchError::NotEnrolled => UsageError(words::t("not-enrolled")).into(),
        SwitchError::NotEnrolledWith(url) => {
            UsageError(words::with("not-enrolled-with", &[("url", &url)])).into()
        }
        SwitchError::ProxyUnusable(e) => {
            anyhow!(words::with("proxy-unusable", &[("reason", &e.to_string())]))
        }
        SwitchError::WatchersFailed {
            first,
            failures,
            total,
        } => {
            let failed = failures.len() + 1;
            let numbers = [("failed", failed.to_string()), ("total", total.to_string())];
            let numbers: Vec<(&str, &str)> =
                numbers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let summary = if failed == total {
                words::count("watchers-failed-all", "total", total as i64, &numbers[..1])
            } else {
                words::with("watchers-failed-some", &numbers)
            };
            for e in std::iter::once(first.as_ref()).chain(&failures) {
                warn(&client_text(e));
            }
            anyhow::Error::new(*first).context(summary)
        }
        SwitchError::WatchersDisagree { plans } => {
            let none = words::t("status-none");
            for (url, plan) in &plans {
                let plan = plan.as_deref().unwrap_or(&none);
                warn(&words::with(
                    "watcher-has-plan",
                    &[("url", url), ("plan", plan)],
                ));
            }
            WatchersDisagree.into()
        }
        SwitchError::UnknownPhone(id) => {
            UsageError(words::with("unknown-phone", &[("id", &format!("{id:?}"))])).into()
        }
        SwitchError::BundlesDiffer => BundlesDiffer.into(),
        SwitchError::RemovalIncomplete { id, left, cause } => {
            let why = match left {
                RemovalLeft::Released(urls) => words::with(
                    "removal-released",
                    &[("id", &id), ("urls", &urls.join(", "))],
                ),
                RemovalLeft::Unanswered => words::with("removal-unanswered", &[("id", &id)]),
                RemovalLeft::Unknown => words::with("removal-unknown", &[("id", &id)]),
            };
            explain(*cause).context(why)
        }
        SwitchError::Release(refusal) => refused(refusal),
        SwitchError::Client(e) => {
            let text = client_text(&e);
            anyhow::Error::new(e).context(text)
        }
        SwitchError::Vault(e) => e.into(),
        SwitchError::Plan(e) => e.into(),
        SwitchError::Contact(e) => e.into(),
        SwitchError::Bundle(e) => e.into(),
        SwitchError::Json(e) => e.into(),
        SwitchError::DamagedKey(key) => anyhow!(words::with("switch-damaged-key", &[("key", key)])),
        SwitchError::Random => anyhow!(words::t("switch-random")),
        SwitchError::MissingAnswer { url, what } => anyhow!(words::with(
            "switch-missing-answer",
            &[("url", &url), ("what", what)]
        )),
        SwitchError::TestsFailed(count) => anyhow!(words::count(
            "switch-tests-failed",
            "count",
            count as i64,
            &[]
        )),
    }
}

/// A watcher's failure as the journalist reads it: a watcher that answers as to a stranger
/// is named as what it most likely is, with what to do.
pub(super) fn client_text(error: &ClientError) -> String {
    match error {
        ClientError::Refused { url, code, .. } if code == "bad_signature" => {
            words::with("watcher-forgot-you", &[("url", url)])
        }
        other => super::said::client(other),
    }
}

/// `posbon: WARNING: TEXT` on stderr, in the reader's words.
pub(super) fn warn(text: &str) {
    eprintln!("posbon: {}", words::with("warning-line", &[("text", text)]));
}

fn refused(refusal: ReleaseRefusal) -> anyhow::Error {
    let usage = |text: String| UsageError(text).into();
    match refusal {
        ReleaseRefusal::NoRecords => usage(words::t("seal-no-records")),
        ReleaseRefusal::NoContacts => usage(words::t("seal-no-contacts")),
        ReleaseRefusal::SourcesNotIncluded(sources) => usage(words::with(
            "seal-sources-not-included",
            &[("sources", &sources.to_string())],
        )),
        ReleaseRefusal::UnknownContact(name) => usage(words::with(
            "seal-unknown-contact",
            &[("name", &format!("{name:?}"))],
        )),
        ReleaseRefusal::ContactIsJournalist(name) => usage(words::with(
            "seal-contact-is-journalist",
            &[("name", &name)],
        )),
        ReleaseRefusal::ContactHasNoKey(name) => usage(words::with(
            "seal-contact-has-no-key",
            &[("name", &name), ("quoted", &format!("{name:?}"))],
        )),
        ReleaseRefusal::ShortId => usage(words::t("seal-short-id")),
        // Like a record that is not there: exit 1 (a malformed id is exit 2).
        ReleaseRefusal::UnknownBundle(id) => anyhow!(words::with(
            "seal-unknown-bundle",
            &[("id", &format!("{id:?}"))]
        )),
        ReleaseRefusal::AmbiguousBundle(id) => usage(words::with(
            "seal-ambiguous-bundle",
            &[("id", &format!("{id:?}"))],
        )),
        ReleaseRefusal::RemovalPending(id) => {
            usage(words::with("seal-removal-pending", &[("id", &id)]))
        }
    }
}

/// A bundle gap as the journalist reads it, with the command that mends it.
pub(super) fn gap_text(gap: &BundleGap) -> String {
    let (id, name) = match gap {
        BundleGap::Lacks { id, name }
        | BundleGap::OtherCopy { id, name }
        | BundleGap::StillHoldsRemoved { id, name } => (id.as_str(), name.as_str()),
    };
    let message = match gap {
        BundleGap::Lacks { .. } => "gap-lacks",
        BundleGap::OtherCopy { .. } => "gap-other-copy",
        BundleGap::StillHoldsRemoved { .. } => "gap-still-holds",
    };
    words::with(message, &[("id", id), ("name", name)])
}

fn deadline_text(status: &StatusResponse) -> String {
    match (status.deadline_ms, status.paused_until_ms) {
        (_, Some(until)) => words::with("deadline-paused", &[("time", &time_text(until))]),
        (Some(deadline), None) => {
            words::with("deadline-next", &[("time", &with_weekday(deadline))])
        }
        (None, None) => words::t("deadline-none"),
    }
}

/// `Mon 2026-12-07 11:00 Asia/Dushanbe (06:00 UTC)`: a deadline with the weekday it falls on
/// where the journalist is, since a plan may have windows on some days only.
fn with_weekday(unix_ms: i64) -> String {
    match super::zone::weekday(unix_ms) {
        Some(day) => format!("{} {}", rules::weekday(day), time_text(unix_ms)),
        None => time_text(unix_ms),
    }
}

/// Says what the plan and contacts leave uncovered (a step that alerts nobody, reminders to
/// nobody...), so the switch never fails silently. Never fails the command itself.
pub(super) fn warn_of_gaps(vault: &Vault) {
    match requests::gaps(vault) {
        Ok(found) => {
            for gap in found {
                warn(&super::said::gap(&gap));
            }
        }
        Err(e) => warn(&words::with(
            "cannot-compare-plan",
            &[("reason", &super::said(&explain(e)))],
        )),
    }
}

/// Checks in with every watcher, and says loudly if one of them would release without a
/// bundle as sealed (the check-in itself stands; exit 12), so a watcher that lost a bundle
/// is noticed long before it matters.
pub(super) fn checkin(vault: &Vault) -> Result<()> {
    warn_of_gaps(vault);
    // Nothing may stop the check-in itself, not even an unreadable list of bundles.
    let sealed = SealedBundles::load(vault).unwrap_or_else(|e| {
        warn(&words::with(
            "cannot-compare-bundles",
            &[("reason", &super::said(&explain(e)))],
        ));
        SealedBundles::none()
    });
    requests::checkin(vault, &sealed, |link, status, gaps| {
        println!(
            "{}",
            words::with(
                "checked-in",
                &[("url", &link.url), ("deadline", &deadline_text(status))]
            )
        );
        for gap in gaps {
            warn(&format!("{} {}", link.url, gap_text(gap)));
        }
    })
    .map_err(explain)
}

/// The bundles a watcher has released, and until when its recipients can download them
/// (they cannot be withdrawn or replaced until then).
pub(super) fn released_lines(status: &StatusResponse) -> Vec<String> {
    status
        .bundles
        .iter()
        .filter_map(|b| {
            b.released_until_ms.map(|until| {
                words::with(
                    "bundle-released-until",
                    &[
                        ("id", &b.id),
                        ("version", &b.version.to_string()),
                        ("time", &time_text(until)),
                    ],
                )
            })
        })
        .collect()
}

pub(super) fn status(vault: &Vault) -> Result<()> {
    warn_of_gaps(vault);
    // As at a check-in, a watcher that would release without a bundle as sealed is named
    // (a warning only: `status` changes nothing and exits as before).
    let sealed = SealedBundles::load(vault).unwrap_or_else(|_| SealedBundles::none());
    let kept = requests::kept_plan(vault).ok().flatten();
    requests::status(vault, |link, status| {
        for gap in sealed.gaps(status) {
            warn(&format!("{} {}", link.url, gap_text(&gap)));
        }
        println!(
            "{}",
            words::with(
                "status-watcher",
                &[("url", &link.url), ("fingerprint", &link.fingerprint)]
            )
        );
        let none = words::t("status-none");
        let plan = status.plan.as_deref().unwrap_or(&none);
        println!("  {}", words::with("status-plan", &[("plan", plan)]));
        let last = status
            .last_checkin_ms
            .map(time_text)
            .unwrap_or_else(|| words::t("status-never"));
        println!(
            "  {}",
            words::with("status-last-checkin", &[("time", &last)])
        );
        println!("  {}", deadline_text(status));
        // The windows and the days without one, in the reader's words, from the plan kept
        // here when the watcher holds the same.
        if let Some(kept) = &kept
            && status.plan.as_deref() == Some(kept.describe().as_str())
        {
            for line in rules::lines(kept) {
                println!("  {line}");
            }
        }
        for (label, due, fired) in &status.fired {
            let (due, fired) = (time_text(*due), time_text(*fired));
            let line = words::with(
                "status-fired",
                &[("step", label), ("due", &due), ("fired", &fired)],
            );
            println!("  {line}");
        }
        for line in released_lines(status) {
            println!("  {line}");
        }
        // Only answers to the real key carry these: the journalist learns afterwards what
        // a coercer did and was shown.
        if let Some(seen) = status.duress_seen_ms {
            let seen = time_text(seen);
            println!(
                "  {}",
                words::with("status-duress-seen", &[("time", &seen)])
            );
        }
        if let Some(pretend) = &status.pretend {
            let deadline = match (pretend.deadline_ms, pretend.paused_until_ms) {
                (_, Some(until)) => words::with("deadline-paused", &[("time", &time_text(until))]),
                (Some(deadline), None) => {
                    words::with("deadline-next", &[("time", &with_weekday(deadline))])
                }
                (None, None) => words::t("deadline-no-deadline"),
            };
            let plan = pretend.plan.as_deref().unwrap_or(&none);
            println!(
                "  {}",
                words::with("status-pretend", &[("plan", plan), ("deadline", &deadline)])
            );
        }
    })
    .map_err(explain)
}

pub(super) fn plan(vault: &Vault, command: PlanCommand) -> Result<()> {
    match command {
        PlanCommand::Set(set) => set_plan(vault, set),
        PlanCommand::Show => show_plan(vault),
    }
}

fn set_plan(vault: &Vault, set: SetPlan) -> Result<()> {
    let SetPlan {
        every,
        windows,
        tz,
        grace,
        remind_before,
        steps,
        release_on_duress,
    } = set;
    if let Some(tz) = &tz {
        super::zone::check(tz)?;
    }
    let interval_with_zone = every.is_some() && tz.is_some();
    let plan = PlanSpec {
        every,
        window: windows,
        tz: tz.clone(),
        grace,
        remind_before,
        steps,
        release_on_duress,
    }
    .build()?;
    let description = plan.describe();
    // Kept in the vault first, so that a watcher enrolled later gets the same plan.
    requests::keep_plan(vault, &plan, tz.as_deref()).map_err(explain)?;
    if let Some(tz) = &tz {
        super::zone::use_vault_zone(vault);
        if interval_with_zone {
            eprintln!("{}", words::with("plan-times-in-zone", &[("tz", tz)]));
        }
    }
    warn_of_gaps(vault);
    requests::send_plan(vault, &plan, |link, status| {
        println!(
            "{}",
            words::with(
                "plan-set",
                &[("url", &link.url), ("deadline", &deadline_text(status))]
            )
        );
        // A watcher from before weekday rules drops the days it does not know, and would
        // expect a check-in every day: say so rather than let it alert on a free day.
        if status.plan.as_deref() != Some(description.as_str()) {
            let none = words::t("status-none");
            let held = status.plan.as_deref().unwrap_or(&none);
            warn(&words::with(
                "plan-held-as",
                &[("url", &link.url), ("plan", held)],
            ));
        }
    })
    .map_err(explain)?;
    eprintln!("{}", words::with("status-plan", &[("plan", &description)]));
    for line in rules::lines(&plan) {
        eprintln!("  {line}");
    }
    Ok(())
}

/// `posbon plan show`: the plan kept in this vault, as last set here.
fn show_plan(vault: &Vault) -> Result<()> {
    match requests::kept_plan(vault).map_err(explain)? {
        Some(plan) => {
            println!(
                "{}",
                words::with("status-plan", &[("plan", &plan.describe())])
            );
            for line in rules::lines(&plan) {
                println!("  {line}");
            }
        }
        None => println!("{}", words::t("deadline-none")),
    }
    Ok(())
}

pub(super) fn pause(vault: &Vault, until: Option<String>, for_: Option<String>) -> Result<()> {
    let until_ms = match (until, for_) {
        (Some(until), _) => super::zone::parse(&until)?.as_millisecond(),
        (None, Some(duration)) => vault::now() + plan::parse_duration(&duration)?,
        (None, None) => return Err(UsageError(words::t("pause-needs-time")).into()),
    };
    requests::pause(vault, until_ms, |link, status| {
        println!("{}: {}", link.url, deadline_text(status));
    })
    .map_err(explain)
}

pub(super) fn resume(vault: &Vault) -> Result<()> {
    requests::resume(vault, |link, status| {
        let deadline = deadline_text(status);
        let args = [("url", link.url.as_str()), ("deadline", deadline.as_str())];
        println!("{}", words::with("resumed", &args));
    })
    .map_err(explain)
}

/// `posbon duress over`: ends the pretend world a coercion set up on every watcher.
pub(super) fn end_pretend(vault: &Vault) -> Result<()> {
    requests::end_pretend(vault, |link, status| {
        let deadline = deadline_text(status);
        let args = [("url", link.url.as_str()), ("deadline", deadline.as_str())];
        println!("{}", words::with("pretend-over", &args));
    })
    .map_err(explain)
}

/// `posbon duress retract`: the same words under every passphrase (under the duress one the
/// watchers take nothing back, and raise the silent alarm).
pub(super) fn retract_duress(vault: &Vault) -> Result<()> {
    // No count of contacts: the decoy gets the same answer, and must not learn how many
    // there are. `posbon history` lists each retraction sent, with your real passphrase.
    requests::retract_duress(vault, |link, sent| {
        let said = if sent {
            "retraction-sent"
        } else {
            "retraction-none"
        };
        println!("{}", words::with(said, &[("url", &link.url)]));
    })
    .map_err(explain)
}

/// `posbon history`: every watcher's history, merged, oldest first, each line naming its
/// watcher when there are several. What a watcher that failed held is missing (it is named
/// below, and the command fails).
pub(super) fn history(vault: &Vault) -> Result<()> {
    let lang = super::words::lang();
    let found = std::sync::Mutex::new(Vec::<(i64, String, String)>::new());
    let outcome = requests::history(vault, |link, entries| {
        let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
        found.extend(entries.iter().map(|e| {
            (
                e.at_ms,
                link.url.clone(),
                timeline::describe(lang, e, time_text),
            )
        }));
    });
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    // By time, then by watcher, so that the same moment on two watchers reads together.
    found.sort();
    let several = watchers::links(vault).map(|l| l.len() > 1).unwrap_or(false);
    if found.is_empty() && outcome.is_ok() {
        println!("{}", timeline::word(lang, "nothing-yet"));
    }
    for (at, url, text) in found {
        if several {
            println!("{}  {url}  {text}", time_text(at));
        } else {
            println!("{}  {text}", time_text(at));
        }
    }
    outcome.map_err(explain)
}

fn phone_lines(link: &Link, status: &StatusResponse) -> String {
    let mut out = format!("{}:", link.url);
    let phones = status.phones.as_deref().unwrap_or_default();
    if phones.is_empty() {
        out.push(' ');
        out.push_str(&words::t("phone-none"));
    }
    for phone in phones {
        let last = phone
            .last_checkin_ms
            .map(time_text)
            .unwrap_or_else(|| words::t("status-never"));
        let line = words::with(
            "phone-line",
            &[
                ("id", &phone.id),
                ("time", &time_text(phone.enrolled_ms)),
                ("last", &last),
            ],
        );
        out.push_str(&format!("\n  {line}"));
        if !phone.signs {
            out.push_str(&format!("  {}", words::t("phone-old")));
        }
        if phone.duress_only {
            out.push_str(&format!("  {}", words::t("phone-duress")));
        }
    }
    out
}

pub(super) fn phone_list(vault: &Vault) -> Result<()> {
    requests::phones(vault, |link, status| {
        println!("{}", phone_lines(link, status));
    })
    .map_err(explain)
}

/// Revokes a phone on every watcher that has it.
pub(super) fn phone_remove(vault: &Vault, id: &str) -> Result<()> {
    requests::remove_phone(vault, id, |link, status| {
        println!(
            "{}",
            words::with("phone-removed", &[("url", &link.url), ("id", id)])
        );
        println!("{}", phone_lines(link, status));
    })
    .map_err(explain)
}

/// One link that sets the phone up with every watcher (a spare, served by another watcher,
/// when there are several); each on stdout, with its QR code and what it is on stderr.
pub(super) fn enrol_phone(vault: &Vault, only: Option<&str>) -> Result<()> {
    let made = switch::phones::invite_phone(vault, only).map_err(explain)?;
    for link in &made.links {
        if link.spare {
            let spare = words::with(
                "phone-spare",
                &[("by", &link.served_by), ("first", &made.links[0].served_by)],
            );
            eprintln!("\n{spare}");
        }
        println!("{}", link.url);
        if let Ok(code) = qrcode::QrCode::new(link.url.as_bytes()) {
            let picture = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build();
            eprintln!("{picture}");
        }
        let page = words::with(
            "phone-page",
            &[
                ("by", &link.served_by),
                ("watchers", &link.watchers.join(", ")),
            ],
        );
        eprintln!("{page}");
    }
    eprintln!("{}", words::t("phone-open-link"));
    match made.unanswered {
        Some(e) => Err(explain(e).context(words::t("phone-unanswered"))),
        None => Ok(()),
    }
}

/// Sent at every unlock, under every passphrase (see [`switch::alarm`]). The notices are
/// handed to a detached copy of posbon (`NOTICE_SENDER`), so no command waits on a watcher
/// that is slow or does not answer, and nothing is printed either way.
pub(super) fn send_unlock_notices(notices: switch::alarm::Notices) {
    let spawned = spawn_notice_sender().and_then(|mut child| {
        use std::io::Write;
        let mut stdin = child.stdin.take()?;
        stdin.write_all(&notices.to_bytes()).ok()?;
        // Not waited for: the sender outlives this command and is reaped by init.
        std::mem::forget(child);
        Some(())
    });
    if spawned.is_none() {
        // No copy of posbon could be started (its file replaced or gone): send from here,
        // briefly, rather than not at all.
        notices.deliver(Some(std::time::Duration::from_secs(2)));
    }
}

/// Starts the background sender: this very program (`/proc/self/exe`, which still names it
/// if its file was replaced), in a process group of its own so that the Ctrl-C or the
/// `timeout` that ends the command does not end the sender too.
fn spawn_notice_sender() -> Option<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let start = |exe: &std::path::Path| {
        std::process::Command::new(exe)
            .arg(NOTICE_SENDER)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .ok()
    };
    start(std::path::Path::new("/proc/self/exe"))
        .or_else(|| std::env::current_exe().ok().and_then(|exe| start(&exe)))
}

/// The hidden first argument that makes posbon the background sender of unlock notices.
pub(crate) const NOTICE_SENDER: &str = "__send-unlock-notices";

/// The background sender: reads the notices from stdin and posts each, in parallel, once;
/// failures are silent.
pub(crate) fn deliver_unlock_notices() {
    use std::io::Read;
    let mut input = Vec::new();
    if std::io::stdin()
        .take(1 << 20)
        .read_to_end(&mut input)
        .is_err()
    {
        return;
    }
    if let Some(notices) = switch::alarm::Notices::from_bytes(&input) {
        notices.deliver(None);
    }
}
