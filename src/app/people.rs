//! The journalist's contacts in the app: who is alerted at which tier, through which
//! channels, in which language, with the lawyers' keys for sealed material, and the
//! instructions they all read. Kept in the vault first, then sent to every watcher (without
//! the keys), as `posbon contact add|remove` and `posbon instructions`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::Zeroize;

use super::pages::{Frame, form, html, take, with_vault};
use super::text::Tr;
use super::watchers::switch_error;
use super::{Flash, Shared};
use crate::lang::Lang;
use crate::protocol::contacts::{Channel, Contact, Directory};
use crate::release::names::displayable;
use crate::switch::{SwitchError, contacts, watchers};
use crate::vault::Vault;

/// One contact as the page lists it.
struct Row {
    /// The name as stored, which the remove form sends back.
    name: String,
    /// The name as shown: hidden characters made visible.
    shown: String,
    role: String,
    lang: String,
    tiers: String,
    channels: String,
    /// What their keys for sealed material are, in words.
    keys: String,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    f: Frame,
    rows: Vec<Row>,
    instructions: String,
}

/// A language by its own name ("Тоҷикӣ", "Русский", "English"), as a reader knows it.
fn lang_name(lang: Lang) -> String {
    Tr { lang }.get("lang-name")
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let shown = with_vault(&app, contacts::directory).await;
    match shown {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => app.after_post("/", Some(Flash::Error(switch_error(t, &e)))),
        Some(Ok(dir)) => html(&ContactsPage {
            f: Frame::new(&app),
            rows: dir
                .contacts
                .iter()
                .map(|c| Row {
                    name: c.name.clone(),
                    shown: displayable(&c.name),
                    role: c.role.clone(),
                    lang: lang_name(c.lang),
                    tiers: c
                        .tiers
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    channels: c
                        .channels
                        .iter()
                        .map(Channel::describe)
                        .collect::<Vec<_>>()
                        .join(", "),
                    keys: t.count("contacts-keys", "n", c.age_recipients.len() as i64),
                })
                .collect(),
            instructions: dir.instructions.clone(),
        }),
    }
}

/// Keeps `dir` in the vault, then sends it to every watcher (if enrolled).
fn keep_and_send(vault: &Vault, dir: &Directory) -> Result<(), SwitchError> {
    contacts::keep(vault, dir)?;
    if watchers::enrolled(vault)? {
        contacts::sync(vault, dir, |_| {})?;
    }
    Ok(())
}

/// Several values of one field, separated by commas, spaces or lines.
fn values(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n', '\r'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

fn contact_of(pairs: &mut [(String, String)]) -> Result<Contact, String> {
    let mut channels = Vec::new();
    for (field, make) in [
        ("email", Channel::Email as fn(String) -> Channel),
        ("webhook", Channel::Webhook),
        ("telegram", Channel::Telegram),
        ("signal", Channel::Signal),
        ("ntfy", Channel::Ntfy),
        ("matrix", Channel::Matrix),
    ] {
        channels.extend(values(&take(pairs, field)).into_iter().map(make));
    }
    let mut tiers: Vec<u8> = Vec::new();
    for tier in values(&take(pairs, "tiers")) {
        tiers.push(tier.parse().map_err(|_| tier.clone())?);
    }
    tiers.sort_unstable();
    tiers.dedup();
    // A key is one line: an SSH key has spaces in it.
    let keys = take(pairs, "keys")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Contact {
        name: take(pairs, "name").trim().to_string(),
        role: take(pairs, "role").trim().to_string(),
        lang: Lang::parse(&take(pairs, "lang")).unwrap_or(Lang::En),
        tiers,
        channels,
        tz: Some(take(pairs, "tz").trim().to_string()).filter(|tz| !tz.is_empty()),
        age_recipients: keys,
        email_attach: take(pairs, "email_attach") == "on",
    })
}

pub(super) async fn add(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let contact = contact_of(&mut pairs);
    pairs.zeroize();
    let contact = match contact {
        Ok(contact) => contact,
        Err(tier) => {
            return app.after_post(
                "/contacts",
                Some(Flash::Error(t.with("contacts-bad-tier", "tier", &tier))),
            );
        }
    };
    let name = contact.name.clone();
    let saved = with_vault(&app, move |vault| {
        let mut dir = contacts::directory(vault)?;
        contacts::put(&mut dir, contact);
        keep_and_send(vault, &dir)
    })
    .await;
    match saved {
        None => Redirect::to("/").into_response(),
        Some(Ok(())) => app.after_post(
            "/contacts",
            Some(Flash::Notice(t.with("contacts-saved", "name", &name))),
        ),
        Some(Err(e)) => app.after_post("/contacts", Some(Flash::Error(switch_error(t, &e)))),
    }
}

pub(super) async fn remove(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let name = take(&mut pairs, "name");
    let gone = name.clone();
    let removed = with_vault(&app, move |vault| {
        let mut dir = contacts::directory(vault)?;
        contacts::remove(&mut dir, &gone);
        keep_and_send(vault, &dir)
    })
    .await;
    match removed {
        None => Redirect::to("/").into_response(),
        Some(Ok(())) => app.after_post(
            "/contacts",
            Some(Flash::Notice(t.with("contacts-removed", "name", &name))),
        ),
        Some(Err(e)) => app.after_post("/contacts", Some(Flash::Error(switch_error(t, &e)))),
    }
}

pub(super) async fn instructions(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let text = take(&mut pairs, "instructions").replace("\r\n", "\n");
    let saved = with_vault(&app, move |vault| {
        let mut dir = contacts::directory(vault)?;
        dir.instructions = text;
        keep_and_send(vault, &dir)
    })
    .await;
    match saved {
        None => Redirect::to("/").into_response(),
        Some(Ok(())) => app.after_post(
            "/contacts",
            Some(Flash::Notice(t.get("contacts-instructions-saved"))),
        ),
        Some(Err(e)) => app.after_post("/contacts", Some(Flash::Error(switch_error(t, &e)))),
    }
}

/// Asks every watcher to send the contact (or every contact) a marked test alert through
/// each channel, as `posbon contact test`: the way to learn that an address works before a
/// real alert depends on it. Each service's answer is shown, one line per channel.
pub(super) async fn test(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let name = take(&mut pairs, "name");
    pairs.zeroize();
    let only = (!name.is_empty()).then_some(name);
    let tested = with_vault(&app, move |vault| {
        let lines = std::sync::Mutex::new(Vec::new());
        let result = contacts::test_alerts(vault, only, |link, result| {
            let about = [
                ("url", link.url.as_str()),
                ("contact", result.contact.as_str()),
                ("channel", result.channel.as_str()),
            ];
            let line = match &result.error {
                None if result.accepted => t.args("contacts-test-accepted", &about),
                error => {
                    let not_accepted = t.get("contacts-test-not-accepted");
                    let mut args = about.to_vec();
                    args.push(("reason", error.as_deref().unwrap_or(&not_accepted)));
                    t.args("contacts-test-failed", &args)
                }
            };
            lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        });
        let mut lines = lines.into_inner().unwrap_or_else(|p| p.into_inner());
        lines.sort();
        (lines, result)
    })
    .await;
    let flash = match tested {
        None => return Redirect::to("/").into_response(),
        Some((lines, Ok(()))) if lines.is_empty() => Flash::Error(t.get("contacts-test-none")),
        Some((lines, Ok(()))) => Flash::Notice(lines.join(" · ")),
        Some((lines, Err(SwitchError::TestsFailed(_)))) => Flash::Error(lines.join(" · ")),
        Some((lines, Err(e))) => {
            let mut text = switch_error(t, &e);
            for line in lines {
                text.push_str(" · ");
                text.push_str(&line);
            }
            Flash::Error(text)
        }
    };
    app.after_post("/contacts", Some(flash))
}
