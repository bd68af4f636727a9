//! Times as the journalist reads them: in the time zone kept in the vault (else the
//! system's), with the offset from UTC beside them.

use jiff::civil::Weekday;
use jiff::tz::TimeZone;

use super::text::Tr;
use crate::switch::settings;
use crate::vault::Vault;

/// The journalist's time zone: the one kept in the vault, else the system's.
pub(super) fn zone(vault: &Vault) -> TimeZone {
    settings::timezone(vault)
        .ok()
        .flatten()
        .and_then(|name| TimeZone::get(&name).ok())
        .unwrap_or_else(|| TimeZone::try_system().unwrap_or(TimeZone::UTC))
}

/// A time in `zone` with its offset from UTC, the same in every language:
/// `2026-11-30 15:07 (UTC+05:00)`.
pub(super) fn when(zone: &TimeZone, ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(at) => {
            let local = at.to_zoned_datetime(zone.clone());
            format!(
                "{} (UTC{})",
                local.strftime("%Y-%m-%d %H:%M"),
                local.strftime("%:z")
            )
        }
        Err(_) => ms.to_string(),
    }
}

/// The day's short name in the journalist's language (`Mon`, `пн`, `душанбе`).
pub(super) fn day_name(t: Tr, day: Weekday) -> String {
    t.get(&format!("weekday-{}", crate::plan::days::name(day)))
}

/// A deadline with the weekday it falls on in `zone`, since a plan may have windows on some
/// days only: `Mon 2026-12-07 11:00 (UTC+05:00)`.
pub(super) fn when_with_day(t: Tr, zone: &TimeZone, ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(at) => format!(
            "{} {}",
            day_name(t, at.to_zoned_datetime(zone.clone()).weekday()),
            when(zone, ms)
        ),
        Err(_) => when(zone, ms),
    }
}
