//! The lawyer's side of a release, as an attacker would try it: links per contact and
//! channel whose tokens are nowhere in the watcher's data, downloads a stranger cannot use
//! up (and that are reported), released bundles that cannot be swapped or withdrawn, and
//! versions that cannot go back. A watcher in a temporary directory, on the real clock.

use super::*;
use crate::alert::message;
use crate::protocol::contacts::{Channel, Contact, Directory, Lang};

const H: i64 = 3_600_000;
const D: i64 = 24 * H;

use super::test_support::enrolled_at;

struct Journalist {
    watcher: Watcher,
    data: tempfile::TempDir,
    subject: String,
    device: Ed25519KeyPair,
    counter: u64,
    /// When the plan started: the release falls due a day and an hour later.
    t0: i64,
    /// The lawyer's public key, which an old client sends along.
    lawyer_key: String,
}

impl Journalist {
    fn send(&mut self, op: &str, payload: &str, now_ms: i64) -> Result<StatusResponse, Refusal> {
        self.counter += 1;
        let request = protocol::sign_request(
            &self.device,
            &self.subject,
            op,
            now_ms,
            self.counter,
            payload.into(),
        );
        self.watcher.handle(&request, now_ms).map(|h| h.status)
    }

    fn put(&mut self, body: &[u8], version: u64, now_ms: i64) -> Result<StatusResponse, Refusal> {
        let put = protocol::BundlePut {
            id: BUNDLE.into(),
            name: "Case 12-2026".into(),
            size: body.len() as u64,
            sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, body)),
            recipients: vec!["Dilnoza".into()],
            version,
        };
        self.counter += 1;
        let request = protocol::sign_request(
            &self.device,
            &self.subject,
            ops::BUNDLE_PUT,
            now_ms,
            self.counter,
            serde_json::to_string(&put).unwrap(),
        );
        self.watcher
            .handle_with_body(&request, Some(body), now_ms)
            .map(|h| h.status)
    }

    fn remove(&mut self, now_ms: i64) -> Result<StatusResponse, Refusal> {
        let payload = format!(r#"{{"id":"{BUNDLE}"}}"#);
        self.send(ops::BUNDLE_REMOVE, &payload, now_ms)
    }

    /// Every byte of every file in the data directory.
    fn raw_files(&self) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.data.path(), &mut out);
        out
    }

    fn holds(&self, needle: &str) -> Vec<std::path::PathBuf> {
        self.raw_files()
            .into_iter()
            .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .map(|(path, _)| path)
            .collect()
    }
}

const BUNDLE: &str = "0123456789abcdef0123456789abcdef";

/// A journalist with a lawyer reached by e-mail and a webhook, a bundle (version 2) sealed
/// for her, and a plan whose one step is the release.
fn journalist() -> Journalist {
    let (watcher, data, subject, device, _duress, t0) = enrolled_at(Watcher::now_ms);
    let mut j = Journalist {
        watcher,
        data,
        subject,
        device,
        counter: 0,
        t0,
        lawyer_key: age::x25519::Identity::generate().to_public().to_string(),
    };
    let directory = Directory {
        contacts: vec![
            Contact {
                name: "Dilnoza".into(),
                role: "lawyer".into(),
                lang: Lang::Ru,
                tiers: vec![2],
                channels: vec![
                    Channel::Email("dilnoza@example.org".into()),
                    Channel::Webhook("https://hooks.example.org/dilnoza".into()),
                ],
                tz: None,
                // An old client still sends her public key: the watcher must not keep it.
                age_recipients: vec![j.lawyer_key.clone()],
                email_attach: false,
            },
            Contact {
                name: "Farrukh".into(),
                role: "editor".into(),
                lang: Lang::En,
                tiers: vec![2],
                channels: vec![Channel::Webhook("https://hooks.example.org/farrukh".into())],
                tz: None,
                age_recipients: vec![],
                email_attach: false,
            },
        ],
        instructions: String::new(),
    };
    j.send(
        ops::CONTACTS,
        &serde_json::to_string(&directory).unwrap(),
        t0,
    )
    .unwrap();
    let plan = r#"{"schedule":{"kind":"every","every_ms":86400000},"grace_ms":3600000,"reminders_ms":[],"steps":[{"action":"release","after_ms":0}]}"#;
    j.send(ops::PLAN, plan, t0).unwrap();
    j.put(b"version one of the sealed file", 1, t0).unwrap();
    j.put(b"version two of the sealed file", 2, t0).unwrap();
    j
}

/// The release falls due; its deliveries as they are sent (tokens in), e-mail first.
fn released(j: &Journalist) -> (i64, Vec<Delivery>) {
    let at = j.t0 + D + H + 1;
    j.watcher.tick(at).unwrap();
    let (mut due, _) = j
        .watcher
        .due_deliveries(at, &Default::default(), 100)
        .unwrap();
    due.retain(|d| d.contact == "Dilnoza");
    due.sort_by_key(|d| d.channel.kind() != "email");
    assert_eq!(due.len(), 2, "one delivery per channel");
    (at, due)
}

/// The token at the end of a link.
fn token(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

#[test]
fn each_channel_carries_its_own_links_whose_tokens_are_nowhere_in_the_data() {
    let j = journalist();
    let (at, sent) = released(&j);
    let (email, hook) = (&sent[0], &sent[1]);
    let links = |d: &Delivery| (d.ack_url.clone().unwrap(), d.bundles[0].url.clone());
    let (email_ack, email_download) = links(email);
    let (hook_ack, hook_download) = links(hook);
    assert_ne!(token(&email_ack), token(&hook_ack));
    assert_ne!(token(&email_download), token(&hook_download));
    for link in [&email_ack, &email_download] {
        assert!(email.alert.text.contains(link.as_str()), "{link}");
        assert!(!hook.alert.text.contains(link.as_str()), "{link}");
        assert_eq!(token(link).len(), 32);
    }
    // What is sent verifies: the text was signed as it reads, tokens in.
    let fingerprint = j.watcher.fingerprint();
    for delivery in &sent {
        let verified = message::verify(delivery.alert.armored().as_bytes(), &fingerprint)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verified.header.step, "release");
        // It states the version and the SHA-256, so lawyers can compare watchers.
        let sha = hex::encode(ring::digest::digest(
            &ring::digest::SHA256,
            b"version two of the sealed file",
        ));
        assert!(delivery.alert.text.contains(&sha));
        assert!(delivery.alert.text.contains("версия 2 ("));
        // The same bytes on a retry: Ed25519 is deterministic.
        let (again, _) = j
            .watcher
            .due_deliveries(at, &Default::default(), 100)
            .unwrap();
        let again = again.iter().find(|d| d.key == delivery.key).unwrap();
        assert_eq!(again.alert, delivery.alert);
    }
    // Nor the e-mail's attachment: she did not ask for one.
    assert!(email.bundles.iter().all(|b| !b.attach));
    // No token anywhere in the data directory, in any file (database, WAL, report).
    for link in [&email_ack, &email_download, &hook_ack, &hook_download] {
        assert_eq!(j.holds(&token(link)), Vec::<std::path::PathBuf>::new());
    }
    // And the lawyer's public key, sent by an old client, was never kept.
    assert!(j.holds(&j.lawyer_key).is_empty());
    let stored = j.watcher.store().subject(&j.subject).unwrap().unwrap();
    assert!(stored.directory.contacts[0].age_recipients.is_empty());
    // Both links work, and one acknowledgement counts once, whichever channel it came by.
    let first = j.watcher.acknowledge(&token(&hook_ack), at + 5).unwrap();
    assert!(!first.already);
    assert!(
        j.watcher
            .acknowledge(&token(&email_ack), at + 6)
            .unwrap()
            .already
    );
    assert!(
        j.watcher
            .peek_ack(&token(&email_ack), at + 7)
            .unwrap()
            .already
    );
}

#[test]
fn a_stranger_with_the_link_cannot_use_it_up_and_every_download_is_reported() {
    let j = journalist();
    let (at, sent) = released(&j);
    let link = token(&sent[1].bundles[0].url);
    let notices = || -> Vec<Delivery> {
        j.pending()
            .into_iter()
            .filter(|d| d.alert.header().unwrap().step == "download")
            .collect()
    };
    // Whoever read the webhook's log downloads it again and again.
    for n in 0..40 {
        let bytes = j.watcher.download(&link, at + n).unwrap().bytes();
        assert_eq!(bytes, b"version two of the sealed file");
    }
    // She was told at once, on both her channels, and not forty times.
    let first = notices();
    assert_eq!(first.len(), 2, "one notice per channel of hers");
    assert!(first.iter().all(|d| d.contact == "Dilnoza"));
    let text = &first[0].alert.text;
    assert!(
        text.contains("Скачиваний: 1;") && text.contains("webhook"),
        "{text}"
    );
    // The lawyer still can, as often as she needs, by either of her links.
    for own in [&sent[0].bundles[0].url, &sent[1].bundles[0].url] {
        assert!(j.watcher.download(&token(own), at + 100).is_ok());
    }
    // The rest are reported together when the hour is up.
    j.watcher.tick(at + downloads::notice_after(1) + 1).unwrap();
    let all = notices();
    assert!(
        all.iter().any(|d| d.alert.text.contains("Скачиваний: 40;")),
        "{:?}",
        all.iter().map(|d| &d.alert.text).collect::<Vec<_>>()
    );
    // A guessed token is refused like an expired one, and the link ends with its time.
    assert_eq!(
        j.watcher.download(&"0".repeat(32), at).unwrap_err().code,
        "unknown_link"
    );
    let expired = j
        .watcher
        .download(&link, at + DOWNLOAD_DAYS * D)
        .unwrap_err();
    assert_eq!(expired.code, "unknown_link");
}

#[test]
fn a_released_bundle_is_neither_removed_nor_replaced_until_its_links_expire() {
    let mut j = journalist();
    let (at, sent) = released(&j);
    let link = token(&sent[0].bundles[0].url);
    let removed = j.remove(at + 10).unwrap_err();
    assert_eq!(removed.code, "bundle_released");
    assert!(
        removed.message.contains("was released on")
            && removed
                .message
                .contains("stays available to its recipients until"),
        "{}",
        removed.message
    );
    let swapped = j.put(b"a different file", 3, at + 11).unwrap_err();
    assert_eq!(swapped.code, "bundle_released");
    // The link still serves exactly what the signed alert names.
    let bytes = j.watcher.download(&link, at + 12).unwrap().bytes();
    assert_eq!(bytes, b"version two of the sealed file");
    let status = j.send(ops::STATUS, "{}", at + 13).unwrap();
    assert!(status.bundles[0].released_until_ms.is_some());
    assert_eq!(status.bundles[0].version, 2);
    // Once the links have expired, the journalist may change it again, but never back to
    // an older version (a stale client, or a replay of an old seal).
    let later = at + DOWNLOAD_DAYS * D + 1;
    assert_eq!(
        j.put(b"version one of the sealed file", 1, later)
            .unwrap_err()
            .code,
        "stale_version"
    );
    j.put(b"version three", 3, later + 1).unwrap();
    j.remove(later + 2).unwrap();
}

#[test]
fn a_lower_version_is_refused_before_any_release() {
    let mut j = journalist();
    let refused = j
        .put(b"version one of the sealed file", 1, j.t0 + 1)
        .unwrap_err();
    assert_eq!(refused.code, "stale_version");
    assert!(refused.message.contains("version 2"), "{}", refused.message);
    // The same version again (a retried upload) and a newer one are accepted.
    j.put(b"version two of the sealed file", 2, j.t0 + 2)
        .unwrap();
    j.put(b"version three", 3, j.t0 + 3).unwrap();
    // Another file under a version already held: refused, so one version is one file.
    let swapped = j.put(b"another version three", 3, j.t0 + 4).unwrap_err();
    assert_eq!(swapped.code, "stale_version");
}

impl Journalist {
    fn pending(&self) -> Vec<Delivery> {
        self.watcher.store().pending().unwrap()
    }

    /// The pending deliveries of `step`, as (contact, channel kind, text).
    fn sent(&self, step: &str) -> Vec<(String, String, String)> {
        self.pending()
            .into_iter()
            .filter(|d| d.alert.header().unwrap().step == step)
            .map(|d| {
                (
                    d.contact.clone(),
                    d.channel.kind().to_string(),
                    d.alert.text,
                )
            })
            .collect()
    }
}

#[test]
fn download_notices_back_off_to_one_a_day_per_link_each_counting_the_downloads_since() {
    let j = journalist();
    let (at, sent) = released(&j);
    let link = token(&sent[1].bundles[0].url);
    let notices = || j.sent("download").len() / 2;
    // A stranger downloads through the webhook's link every ten minutes for three days.
    let mut downloads = 0;
    let mut t = at;
    while t < at + 3 * D {
        j.watcher.download(&link, t).unwrap();
        downloads += 1;
        j.watcher.tick(t + 1).unwrap();
        t += 10 * 60_000;
    }
    j.watcher.tick(t + D).unwrap();
    // At once, an hour later, then once a day: not once an hour (72 times).
    assert!(notices() <= 5, "{} notices", notices());
    // And every download was counted in one of them.
    let counted: u32 = j
        .sent("download")
        .iter()
        .filter(|(_, channel, _)| channel == "email")
        .map(|(_, _, text)| {
            let at = text.find("Скачиваний: ").unwrap() + "Скачиваний: ".len();
            text[at..]
                .split(';')
                .next()
                .unwrap()
                .parse::<u32>()
                .unwrap()
        })
        .sum();
    assert_eq!(counted, downloads);
}

#[test]
fn a_stranger_who_confirms_through_the_webhook_is_named_as_the_webhook_and_she_is_told() {
    let j = journalist();
    let (at, sent) = released(&j);
    let (email_ack, hook_ack) = (
        token(sent[0].ack_url.as_ref().unwrap()),
        token(sent[1].ack_url.as_ref().unwrap()),
    );
    // Whoever read the webhook's log confirms in her name.
    let confirmed = j.watcher.acknowledge(&hook_ack, at + 5).unwrap();
    assert_eq!(confirmed.confirmed, Some((at + 5, "webhook".into())));
    // The editor is told it came through her webhook's link.
    let others = j.sent("ack");
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].0, "Farrukh");
    assert!(
        others[0]
            .2
            .contains("through the link sent to them by webhook"),
        "{}",
        others[0].2
    );
    // She is told too, on both her channels, in her language, naming the webhook.
    let hers = j.sent("ack-confirmed");
    assert_eq!(hers.len(), 2, "{hers:?}");
    assert!(hers.iter().all(|(who, _, text)| who == "Dilnoza"
        && text.contains("через webhook")
        && text.contains("Если это были не Вы")));
    // Her own e-mail link, opened later, says when and through which channel.
    let page = j.watcher.peek_ack(&email_ack, at + 60_000).unwrap();
    assert!(page.already);
    assert_eq!(page.confirmed, Some((at + 5, "webhook".into())));
    let again = j.watcher.acknowledge(&email_ack, at + 60_000).unwrap();
    assert!(again.already);
    assert_eq!(again.confirmed, Some((at + 5, "webhook".into())));
    // Nothing more was sent by that.
    assert_eq!(j.sent("ack-confirmed").len(), 2);
}

#[test]
fn expired_links_are_deleted_from_the_database() {
    let j = journalist();
    let (at, sent) = released(&j);
    let hashes: Vec<(String, String)> = sent
        .iter()
        .map(|d| {
            (
                token_hash(&token(&d.bundles[0].url)),
                token_hash(&token(d.ack_url.as_ref().unwrap())),
            )
        })
        .collect();
    // A download whose notice is still owed keeps its link until the notice is sent.
    j.watcher
        .download(&token(&sent[0].bundles[0].url), at + 1)
        .unwrap();
    j.watcher
        .download(&token(&sent[0].bundles[0].url), at + 2)
        .unwrap();
    let store = || j.watcher.store();
    for (download, ack) in &hashes {
        assert!(store().download(download).unwrap().is_some());
        assert!(store().ack(ack).unwrap().is_some());
    }
    let expired = at + DOWNLOAD_DAYS * D + 1;
    assert!(
        j.watcher
            .acknowledge(&token(sent[0].ack_url.as_ref().unwrap()), expired)
            .is_err()
    );
    j.watcher.tick(expired).unwrap();
    j.watcher.tick(expired + 1).unwrap();
    for (download, ack) in &hashes {
        assert!(store().download(download).unwrap().is_none(), "{download}");
        assert!(store().ack(ack).unwrap().is_none(), "{ack}");
    }
    // The last download was reported (the second notice) before its link went.
    let by_email = j
        .sent("download")
        .into_iter()
        .filter(|(_, channel, _)| channel == "email")
        .count();
    assert_eq!(by_email, 2);
}
