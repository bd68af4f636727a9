//! What opening the vault tells the journalist (`vault::Notice`), in the app's words: shown
//! once, after Unlock or after making the vault, with times in the journalist's zone.

use jiff::tz::TimeZone;

use super::Flash;
use super::text::Tr;
use super::when::when;
use crate::fsprotect::Filesystem;
use crate::vault::Notice;

/// One notice as the app says it.
pub(super) fn said(t: Tr, zone: &TimeZone, notice: &Notice) -> String {
    match notice {
        Notice::SlotChecksum => t.get("notice-slot-checksum"),
        Notice::SlotUpgradeFailed(why) => t.with("notice-slot-upgrade-failed", "why", why),
        Notice::SlotTablesFailed(why) => t.with("notice-slot-tables-failed", "why", why),
        Notice::KeepsOldCopies(filesystem) => t.args(
            "notice-old-copies",
            &[
                ("filesystem", &filesystem.to_string()),
                (
                    "btrfs",
                    if *filesystem == Filesystem::Btrfs {
                        "yes"
                    } else {
                        "no"
                    },
                ),
            ],
        ),
        Notice::CapturesImported(count) => {
            t.count("notice-captures-imported", "count", *count as i64)
        }
        Notice::CaptureKept { file, why } => {
            t.args("notice-capture-kept", &[("file", file), ("why", why)])
        }
        Notice::InboxFailed(why) => t.with("notice-inbox-failed", "why", why),
        Notice::DuressUsed { at_ms } => t.with("notice-duress-used", "when", &when(zone, *at_ms)),
    }
}

/// The notices of one unlock as the message shown above the page: a warning when any of
/// them is one (everything but captures turned into records), `None` when there are none.
pub(super) fn flash(t: Tr, zone: &TimeZone, notices: &[Notice]) -> Option<Flash> {
    if notices.is_empty() {
        return None;
    }
    let mut said_once: Vec<String> = Vec::new();
    for notice in notices {
        let text = said(t, zone, notice);
        // Every unlock under the duress passphrase is one event: several read as one line.
        if !said_once.contains(&text) {
            said_once.push(text);
        }
    }
    let text = said_once.join(" ");
    Some(
        if notices
            .iter()
            .all(|n| matches!(n, Notice::CapturesImported(_)))
        {
            Flash::Notice(text)
        } else {
            Flash::Error(text)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn a_duress_use_is_a_warning_in_the_readers_language_and_repeats_are_said_once() {
        let t = Tr { lang: Lang::Ru };
        let used = Notice::DuressUsed {
            at_ms: 1_764_579_600_000,
        };
        let Some(Flash::Error(text)) = flash(
            t,
            &TimeZone::get("Asia/Dushanbe").unwrap(),
            &[Notice::CapturesImported(2), used.clone(), used],
        ) else {
            panic!("a duress use must be shown as a warning");
        };
        assert_eq!(
            text,
            "Добавленное без открытия хранилища стало записями: 2. \
             Внимание: это хранилище открывали фразой под принуждением: 2025-12-01 14:00 (UTC+05:00)."
        );
    }

    #[test]
    fn captures_alone_are_news_and_no_notice_is_no_message() {
        let t = Tr { lang: Lang::Tg };
        assert!(flash(t, &TimeZone::UTC, &[]).is_none());
        let Some(Flash::Notice(text)) = flash(t, &TimeZone::UTC, &[Notice::CapturesImported(1)])
        else {
            panic!("captures turned into records are news, not a warning");
        };
        assert!(text.contains("сабт аст: 1"), "{text}");
    }

    #[test]
    fn the_old_copies_warning_names_the_filesystem_and_the_btrfs_way_only_on_btrfs() {
        let t = Tr { lang: Lang::En };
        let btrfs = said(
            t,
            &TimeZone::UTC,
            &Notice::KeepsOldCopies(Filesystem::Btrfs),
        );
        assert!(
            btrfs.contains("on btrfs, which keeps") && btrfs.contains("chattr +C"),
            "{btrfs}"
        );
        let zfs = said(t, &TimeZone::UTC, &Notice::KeepsOldCopies(Filesystem::Zfs));
        assert!(zfs.contains("on ZFS,") && !zfs.contains("chattr"), "{zfs}");
        assert!(zfs.contains("“Panic”"), "{zfs}");
    }
}
