//! The time zone the journalist reads times in: the one given to `plan set --tz` (kept in the
//! vault), else the system's. Times are shown in it with UTC beside them, and typed times
//! (`pause --until`) are read in it unless they name their own offset.

use std::sync::RwLock;

use anyhow::Result;
use jiff::tz::TimeZone;

use super::UsageError;
use crate::vault::Vault;

/// Set from the vault once it is open; the system's until then.
static ZONE: RwLock<Option<TimeZone>> = RwLock::new(None);

/// Takes the time zone from the open vault, for the rest of this command.
pub(super) fn use_vault_zone(vault: &Vault) {
    let named = crate::switch::settings::timezone(vault).ok().flatten();
    if let Some(zone) = named.and_then(|name| TimeZone::get(&name).ok()) {
        *ZONE.write().unwrap_or_else(|p| p.into_inner()) = Some(zone);
    }
}

fn zone() -> TimeZone {
    ZONE.read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_else(|| TimeZone::try_system().unwrap_or(TimeZone::UTC))
}

/// Whether `zone` is UTC by another name (a server's or a container's usual setting).
fn is_utc(zone: &TimeZone) -> bool {
    matches!(
        zone.iana_name(),
        None | Some("UTC" | "Etc/UTC" | "Etc/Universal" | "Universal" | "Zulu" | "Etc/Zulu")
    ) && zone.to_offset(jiff::Timestamp::UNIX_EPOCH) == jiff::tz::Offset::UTC
}

/// Checks that `name` is a time zone, for `plan set --tz`.
pub(super) fn check(name: &str) -> Result<()> {
    TimeZone::get(name).map_err(|_| {
        UsageError(super::words::with(
            "time-zone-unknown",
            &[("name", &format!("{name:?}"))],
        ))
    })?;
    Ok(())
}

/// `unix_ms` as the journalist reads it: `2026-12-01 11:00 Asia/Dushanbe (06:00 UTC)`, or
/// `2026-12-01 06:00 UTC` when their zone is UTC.
pub(super) fn text(unix_ms: i64) -> String {
    text_in(unix_ms, &zone())
}

fn text_in(unix_ms: i64, zone: &TimeZone) -> String {
    let Ok(at) = jiff::Timestamp::from_millisecond(unix_ms) else {
        return "?".into();
    };
    let utc = at.to_zoned_datetime(TimeZone::UTC);
    if is_utc(zone) {
        return utc.strftime("%Y-%m-%d %H:%M UTC").to_string();
    }
    let local = at.to_zoned_datetime(zone.clone());
    let name = zone
        .iana_name()
        .map_or_else(|| super::words::t("local-time"), str::to_string);
    let utc_part = if local.date() == utc.date() {
        utc.strftime("%H:%M UTC").to_string()
    } else {
        utc.strftime("%Y-%m-%d %H:%M UTC").to_string()
    };
    format!("{} {name} ({utc_part})", local.strftime("%Y-%m-%d %H:%M"))
}

/// The weekday `unix_ms` falls on where the journalist is.
pub(super) fn weekday(unix_ms: i64) -> Option<jiff::civil::Weekday> {
    let at = jiff::Timestamp::from_millisecond(unix_ms).ok()?;
    Some(at.to_zoned_datetime(zone()).weekday())
}

/// A time as typed: `2026-12-03 18:00` (or with `T`, or seconds) in the journalist's zone, or
/// a time with its own offset (`2026-12-03T18:00:00+05:00`, `...Z`).
pub(super) fn parse(text: &str) -> Result<jiff::Timestamp> {
    parse_in(text, &zone())
}

fn parse_in(text: &str, zone: &TimeZone) -> Result<jiff::Timestamp> {
    let text = text.trim();
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Ok(at);
    }
    let civil = text
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", text));
    match civil {
        Ok(civil) => Ok(civil
            .to_zoned_datetime(zone.clone())
            .map_err(|e| UsageError(format!("{text:?}: {e}")))?
            .timestamp()),
        Err(_) => {
            let local = super::words::t("local-time");
            let zone = zone.iana_name().unwrap_or(&local);
            let given = format!("{text:?}");
            let args = [("given", given.as_str()), ("zone", zone)];
            Err(UsageError(super::words::with("time-bad", &args)).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_the_journalists_zone_with_utc_beside_them() {
        let dushanbe = TimeZone::get("Asia/Dushanbe").unwrap();
        let at = parse_in("2026-12-01 11:00", &dushanbe).unwrap();
        assert_eq!(at.to_string(), "2026-12-01T06:00:00Z");
        assert_eq!(
            text_in(at.as_millisecond(), &dushanbe),
            "2026-12-01 11:00 Asia/Dushanbe (06:00 UTC)"
        );
        // Across midnight the UTC side carries its own date.
        let late = parse_in("2026-12-01T02:30", &dushanbe).unwrap();
        assert_eq!(
            text_in(late.as_millisecond(), &dushanbe),
            "2026-12-01 02:30 Asia/Dushanbe (2026-11-30 21:30 UTC)"
        );
        // A time with its own offset is taken as it is.
        let z = parse_in("2026-12-01T06:00:00Z", &dushanbe).unwrap();
        assert_eq!(z, at);
        assert_eq!(
            text_in(at.as_millisecond(), &TimeZone::UTC),
            "2026-12-01 06:00 UTC"
        );
        assert!(parse_in("tomorrow", &dushanbe).is_err());
    }

    #[test]
    fn daylight_saving_is_followed() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let winter = parse_in("2026-01-15 12:00", &berlin).unwrap();
        let summer = parse_in("2026-07-15 12:00", &berlin).unwrap();
        assert_eq!(winter.to_string(), "2026-01-15T11:00:00Z");
        assert_eq!(summer.to_string(), "2026-07-15T10:00:00Z");
        assert_eq!(
            text_in(summer.as_millisecond(), &berlin),
            "2026-07-15 12:00 Europe/Berlin (10:00 UTC)"
        );
    }
}
