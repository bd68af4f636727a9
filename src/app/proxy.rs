//! The route to the watchers in the app, as `posbon proxy set|clear`: through Tor (or
//! another SOCKS5 proxy that resolves names), so that the local network does not see whom
//! the journalist talks to, and `.onion` watchers can be reached. Once set, no request goes
//! straight: one fails when the proxy does not answer, and the page says so.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::Zeroize;

use super::pages::{Frame, form, html, take, with_vault};
use super::text::Tr;
use super::watchers::switch_error;
use super::{Flash, Shared};
use crate::route::{Route, RouteError, SocksProxy};
use crate::switch::settings;

#[derive(Template)]
#[template(path = "proxy.html")]
struct ProxyPage {
    f: Frame,
    /// The proxy kept, as shown (without a user name or password); empty when none.
    proxy: String,
    /// A proxy is kept but no longer reads as one (requests fail rather than go straight).
    unusable: bool,
}

pub(super) async fn page(State(app): State<Shared>) -> Response {
    let t = app.tr();
    // A kept proxy that no longer reads as one is said so: requests then fail rather than go
    // straight, and the page must not say they go straight.
    let kept = with_vault(&app, |vault| {
        settings::kept_proxy(vault).and_then(|kept| match kept {
            None => Ok(String::new()),
            Some(url) => SocksProxy::parse(&url)
                .map(|proxy| proxy.to_string())
                .map_err(crate::switch::SwitchError::ProxyUnusable),
        })
    })
    .await;
    match kept {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => {
            let mut f = Frame::new(&app);
            f.add_error(switch_error(t, &e));
            html(&ProxyPage {
                f,
                proxy: String::new(),
                unusable: true,
            })
        }
        Some(Ok(proxy)) => html(&ProxyPage {
            f: Frame::new(&app),
            proxy,
            unusable: false,
        }),
    }
}

pub(super) async fn set(State(app): State<Shared>, body: Bytes) -> Response {
    let t = app.tr();
    let mut pairs = form(body);
    let url = take(&mut pairs, "url");
    pairs.zeroize();
    let proxy = match SocksProxy::parse(&url) {
        Ok(proxy) => proxy,
        Err(e) => return app.after_post("/proxy", Some(Flash::Error(route_error(t, &e)))),
    };
    let shown = proxy.to_string();
    let kept = with_vault(&app, move |vault| {
        settings::set_proxy(vault, Some(&proxy))?;
        Ok::<_, crate::switch::SwitchError>(Route::Socks(Box::new(proxy)).down().is_some())
    })
    .await;
    match kept {
        None => Redirect::to("/").into_response(),
        Some(Err(e)) => app.after_post("/proxy", Some(Flash::Error(switch_error(t, &e)))),
        Some(Ok(false)) => app.after_post(
            "/proxy",
            Some(Flash::Notice(t.with("proxy-set", "proxy", &shown))),
        ),
        Some(Ok(true)) => app.after_post(
            "/proxy",
            Some(Flash::Error(format!(
                "{} {}",
                t.with("proxy-set", "proxy", &shown),
                t.with("proxy-not-answering", "proxy", &shown)
            ))),
        ),
    }
}

pub(super) async fn clear(State(app): State<Shared>) -> Response {
    let t = app.tr();
    let cleared = with_vault(&app, |vault| settings::set_proxy(vault, None)).await;
    match cleared {
        None => Redirect::to("/").into_response(),
        Some(Ok(())) => app.after_post("/proxy", Some(Flash::Notice(t.get("proxy-cleared")))),
        Some(Err(e)) => app.after_post("/proxy", Some(Flash::Error(switch_error(t, &e)))),
    }
}

/// Why a proxy address cannot be used, in the app's words.
fn route_error(t: Tr, error: &RouteError) -> String {
    match error {
        RouteError::NotAUrl(text) => t.with("proxy-not-a-url", "text", text),
        RouteError::LocalDns(address) => t.with("proxy-local-dns", "address", address),
        RouteError::Scheme(scheme) => t.with("proxy-scheme", "scheme", scheme),
        RouteError::NoPort => t.get("proxy-no-port"),
        RouteError::Trailing => t.get("proxy-trailing"),
    }
}
