//! The plan in the app: what the watchers expect (a check-in every so often, or inside
//! windows in the journalist's time zone, every day or on some days of the week), the grace,
//! reminders and steps; kept in the vault and sent to every watcher, as `posbon plan set`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::Zeroize;

use super::pages::{Frame, form, html, take, with_vault};
use super::watchers::{Answers, switch_error, watcher_view};
use super::when::{day_name, zone};
use super::{Flash, Shared};
use crate::plan::{Days, Plan, PlanSpec, Schedule, split_windows};
use crate::switch::{requests, settings};

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    f: Frame,
    current: String,
    /// The windows and the days without one, in the journalist's words.
    rules: Vec<String>,
    tz: String,
}

/// One line per window (`Check-in window: Mon–Fri 09:00-11:00`), then the days that have none, if any.
fn rules(t: super::text::Tr, plan: &Plan) -> Vec<String> {
    let Schedule::Daily { windows, .. } = &plan.schedule else {
        return Vec::new();
    };
    let name = |day| day_name(t, day);
    let days = |days: Days| {
        if days.is_every_day() {
            t.get("days-every")
        } else {
            days.list_with(name)
        }
    };
    let mut lines: Vec<String> = windows
        .iter()
        .map(|w| {
            let (from, to) = w.times();
            let id = if w.crosses_midnight() {
                "plan-window-night"
            } else {
                "plan-window"
            };
            t.args(id, &[("days", &days(w.days)), ("from", &from), ("to", &to)])
        })
        .collect();
    let free = plan.days_without_window();
    if !free.is_empty() {
        lines.push(t.with("plan-no-window", "days", &days(free)));
    }
    lines
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let shown = with_vault(&app, move |vault| {
        let plan: Option<Plan> = vault.setting(settings::PLAN).ok().flatten();
        let tz = zone(vault).iana_name().unwrap_or("UTC").to_string();
        (
            plan.as_ref()
                .map(|p| p.describe())
                .unwrap_or_else(|| t.get("status-no-plan")),
            plan.as_ref().map(|p| rules(t, p)).unwrap_or_default(),
            tz,
        )
    })
    .await;
    match shown {
        Some((current, rules, tz)) => html(&PlanPage {
            f: Frame::new(&app),
            current,
            rules,
            tz,
        }),
        None => Redirect::to("/").into_response(),
    }
}

/// A form field of several values, separated by commas or spaces.
fn list(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) async fn set(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let how = take(&mut pairs, "how");
    let every = take(&mut pairs, "every");
    let spec = PlanSpec {
        every: (how == "every").then(|| every.trim().to_string()),
        window: if how == "windows" {
            split_windows(&take(&mut pairs, "windows"))
        } else {
            Vec::new()
        },
        tz: Some(take(&mut pairs, "tz").trim().to_string()).filter(|tz| !tz.is_empty()),
        grace: take(&mut pairs, "grace").trim().to_string(),
        remind_before: list(&take(&mut pairs, "remind_before")),
        steps: list(&take(&mut pairs, "steps")),
        release_on_duress: take(&mut pairs, "release_on_duress") == "on",
    };
    pairs.zeroize();
    if let Some(tz) = &spec.tz
        && jiff::tz::TimeZone::get(tz).is_err()
    {
        return app.after_post(
            "/plan",
            Some(Flash::Error(t.with("plan-bad-zone", "zone", tz))),
        );
    }
    let plan = match spec.build() {
        Ok(plan) => plan,
        Err(e) => {
            return app.after_post(
                "/plan",
                Some(Flash::Error(t.with(
                    "plan-invalid",
                    "detail",
                    &crate::plan::words::said(t.lang, &e),
                ))),
            );
        }
    };
    let tz = spec.tz.clone();
    let session = app.session.current();
    let sent = with_vault(&app, move |vault| {
        requests::keep_plan(vault, &plan, tz.as_deref())?;
        let zone = zone(vault);
        let described = plan.describe();
        let seen = std::sync::Mutex::new(Vec::new());
        let differ = std::sync::Mutex::new(Vec::new());
        let result = requests::send_plan(vault, &plan, |link, status| {
            seen.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(watcher_view(t, &zone, link, status));
            // A watcher from before weekday rules drops the days and would expect a
            // check-in every day: said, as `posbon plan set` says it.
            if status.plan.as_deref() != Some(described.as_str()) {
                differ
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(t.args(
                        "plan-watcher-differs",
                        &[
                            ("url", &link.url),
                            ("plan", status.plan.as_deref().unwrap_or("-")),
                        ],
                    ));
            }
        });
        let mut watchers = seen.into_inner().unwrap_or_else(|p| p.into_inner());
        watchers.sort_by(|a, b| a.url.cmp(&b.url));
        let mut warnings = differ.into_inner().unwrap_or_else(|p| p.into_inner());
        warnings.sort();
        Ok::<_, crate::switch::SwitchError>((result, watchers, warnings, described))
    })
    .await;
    match sent {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => app.after_post("/plan", Some(Flash::Error(switch_error(t, &e)))),
        Some(Ok((result, watchers, warnings, described))) => {
            let failure = result.err().map(|e| switch_error(t, &e));
            let flash = failure
                .is_none()
                .then(|| Flash::Notice(t.with("plan-set", "plan", &described)));
            app.keep(
                session,
                &app.checked_in,
                Answers {
                    failure,
                    warnings,
                    watchers,
                },
            );
            app.after_post("/switch", flash)
        }
    }
}
