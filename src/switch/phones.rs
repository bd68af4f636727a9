//! Phone links: one link that sets a phone up with every watcher, and a spare.
//!
//! Each watcher gives one-time tokens (`phone-invite`); a link carries one token per watcher
//! in its fragment, which no browser sends to a server: `SERVED/p#enrol=TOKEN` for the
//! watcher that serves the page, then `&URL=TOKEN` for each other watcher, its address
//! percent-encoded (see `docs/protocol.md`). The page makes a key pair and a PIN key for
//! each watcher and enrols with each, the others by cross-origin requests.
//!
//! A page is served by one watcher; if that one is down, the page does not open. So with
//! two watchers or more there is a spare link, served by the second, that sets the phone up
//! again with every watcher (its own keys: a page's keys never leave its origin). The
//! journalist bookmarks both and uses the spare when the first does not open.

use super::SwitchError;
use super::client::{self, ClientError};
use super::keys::signing_key;
use super::settings;
use super::watchers::{links, save_links};
use crate::protocol::ops;
use crate::vault::{self, Vault};

/// Pages made at most: the link and one spare.
const PAGES: usize = 2;

/// A one-time link that sets a phone up with every watcher it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneLink {
    /// The watcher that serves the page.
    pub served_by: String,
    /// The page's address, with the one-time tokens after `#` (never sent to a server).
    pub url: String,
    /// Served by another watcher than the first link, for when that one cannot be reached.
    pub spare: bool,
    /// Every watcher it sets the phone up with, the one that serves it first.
    pub watchers: Vec<String>,
}

/// The links made, and the watchers that gave no token (the phone will not be set up with
/// them: the face must say so).
pub struct PhoneLinks {
    pub links: Vec<PhoneLink>,
    pub unanswered: Option<SwitchError>,
}

/// Asks each watcher (or only the one at `only`) for one-time tokens, one per page, and
/// makes the links. Fails only if no watcher gave one.
///
/// With every watcher, the pages are served by the first two that answer. With `only` (a
/// watcher enrolled with later, or one that did not answer before), the link adds that one
/// watcher to the pages the phone already has: those served by the first two watchers
/// enrolled, which need not answer now.
pub fn invite_phone(vault: &Vault, only: Option<&str>) -> Result<PhoneLinks, SwitchError> {
    let key = signing_key(vault)?;
    let mut links = links(vault)?;
    let route = settings::route(vault)?;
    let chosen: Vec<usize> = (0..links.len())
        .filter(|i| only.is_none_or(|url| url.trim_end_matches('/') == links[*i].url))
        .collect();
    if chosen.is_empty() {
        return Err(SwitchError::NotEnrolledWith(
            only.unwrap_or("any watcher").to_string(),
        ));
    }
    let pages = match only {
        Some(_) => links.len().min(PAGES),
        None => chosen.len().min(PAGES),
    };
    // (watcher, one token per page), for the watchers that gave every one.
    let mut tokens: Vec<(String, Vec<String>)> = Vec::new();
    let mut failures = Vec::new();
    for index in chosen.iter().copied() {
        let link = &mut links[index];
        let mut got = Vec::new();
        for _ in 0..pages {
            let asked = client::call(
                &route,
                link,
                &key,
                ops::PHONE_INVITE,
                "{}".into(),
                vault::now(),
            );
            match asked {
                Ok((status, counter)) => {
                    link.last_counter = counter;
                    match status.phone_token {
                        Some(token) => got.push(token),
                        None => {
                            failures.push(ClientError::Malformed {
                                url: link.url.clone(),
                                reason: "the answer holds no phone link".into(),
                            });
                            break;
                        }
                    }
                }
                Err(e) => {
                    failures.push(e);
                    break;
                }
            }
        }
        if got.len() == pages {
            tokens.push((link.url.clone(), got));
        }
    }
    // The counters used are kept whatever happened after.
    save_links(vault, &links)?;
    let unanswered = (!failures.is_empty()).then(|| {
        let first = failures.remove(0);
        SwitchError::WatchersFailed {
            first: Box::new(first),
            failures,
            total: chosen.len(),
        }
    });
    if tokens.is_empty() {
        return Err(unanswered.unwrap_or(SwitchError::NotEnrolled));
    }
    let served: Vec<String> = match only {
        Some(_) => links.iter().take(pages).map(|l| l.url.clone()).collect(),
        None => tokens.iter().take(pages).map(|(u, _)| u.clone()).collect(),
    };
    let made = served
        .into_iter()
        .enumerate()
        .map(|(page, served_by)| {
            let mut order: Vec<(String, String)> = tokens
                .iter()
                .map(|(url, t)| (url.clone(), t[page].clone()))
                .collect();
            // The page's own watcher first, the others in the same order after it.
            if let Some(own) = order.iter().position(|(url, _)| *url == served_by) {
                order.rotate_left(own);
            }
            PhoneLink {
                url: page_link(&served_by, &order),
                served_by,
                spare: page > 0,
                watchers: order.iter().map(|(url, _)| url.clone()).collect(),
            }
        })
        .collect();
    Ok(PhoneLinks {
        links: made,
        unanswered,
    })
}

/// The link to the page of the watcher at `served`, with every token in the fragment
/// ((watcher URL, token) each): `SERVED/p#enrol=T1&URL2=T2&URL3=T3`, the served watcher's
/// own token (if it gives one) as `enrol`. A link with one watcher is the link posbon has
/// always made, `URL/p#enrol=TOKEN`.
pub fn page_link(served: &str, tokens: &[(String, String)]) -> String {
    let parts: Vec<String> = tokens
        .iter()
        .map(|(url, token)| {
            if url == served {
                format!("enrol={token}")
            } else {
                format!("{}={token}", percent_encode(url))
            }
        })
        .collect();
    format!("{served}/p#{}", parts.join("&"))
}

/// Every byte but the unreserved ones (RFC 3986) as `%XX`, so that a watcher's address
/// holds no `&`, `=` or `#` in the fragment.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_for_one_watcher_is_the_link_posbon_always_made() {
        let a = "https://a.example";
        let link = page_link(a, &[(a.into(), "ab12".into())]);
        assert_eq!(link, "https://a.example/p#enrol=ab12");
    }

    #[test]
    fn a_link_for_several_carries_each_watchers_token_in_the_fragment() {
        let link = page_link(
            "https://a.example/w",
            &[
                ("https://a.example/w".into(), "aa".into()),
                ("http://b.onion".into(), "bb".into()),
                ("https://c.example:8443/x&y=z".into(), "cc".into()),
            ],
        );
        assert_eq!(
            link,
            "https://a.example/w/p#enrol=aa&http%3A%2F%2Fb.onion=bb\
             &https%3A%2F%2Fc.example%3A8443%2Fx%26y%3Dz=cc"
        );
        let (path, fragment) = link.split_once('#').unwrap();
        assert!(
            !path.contains("bb") && !path.contains("cc"),
            "tokens only after #"
        );
        assert_eq!(fragment.matches('&').count(), 2);
    }

    #[test]
    fn a_link_that_adds_a_watcher_to_a_page_carries_only_that_watchers_token() {
        let link = page_link(
            "https://a.example",
            &[("https://c.example".into(), "cc".into())],
        );
        assert_eq!(link, "https://a.example/p#https%3A%2F%2Fc.example=cc");
    }
}
