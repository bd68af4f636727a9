//! The days of the week a window applies on: `mon-fri`, `sat`, `mon,wed,fri`, in English,
//! Russian or Tajik (`пн-пт`, `душанбе-ҷумъа`), as people type them; on the wire, a list of
//! English three-letter names (`["mon","tue"]`). A window without days applies every day.

use jiff::civil::Weekday;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::PlanError;

/// A set of weekdays (bit 0 is Monday, bit 6 Sunday).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Days(u8);

/// The names on the wire and in descriptions, Monday first.
const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Every name a day may be typed as, Monday first: English, Russian, Tajik (with and
/// without the Tajik letters, for keyboards that lack them).
const TYPED: [&[&str]; 7] = [
    &["mon", "monday", "пн", "пон", "понедельник", "душанбе"],
    &["tue", "tues", "tuesday", "вт", "вторник", "сешанбе"],
    &["wed", "wednesday", "ср", "среда", "чоршанбе"],
    &[
        "thu",
        "thur",
        "thurs",
        "thursday",
        "чт",
        "четверг",
        "панҷшанбе",
        "панчшанбе",
    ],
    &[
        "fri",
        "friday",
        "пт",
        "пятница",
        "ҷумъа",
        "чумъа",
        "ҷума",
        "чума",
    ],
    &["sat", "saturday", "сб", "суббота", "шанбе"],
    &["sun", "sunday", "вс", "воскресенье", "якшанбе"],
];

impl Days {
    pub const EVERY: Days = Days(0x7f);
    pub const NONE: Days = Days(0);

    fn bit(day: Weekday) -> u8 {
        1 << day.to_monday_zero_offset()
    }

    pub fn only(day: Weekday) -> Days {
        Days(Self::bit(day))
    }

    /// From the bits themselves (bit 0 is Monday); bits above Sunday are dropped.
    pub fn from_bits(bits: u8) -> Days {
        Days(bits & 0x7f)
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & Self::bit(day) != 0
    }

    pub fn is_every_day(&self) -> bool {
        *self == Days::EVERY
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: Days) -> Days {
        Days(self.0 | other.0)
    }

    /// The days not in this set.
    pub fn others(self) -> Days {
        Days(!self.0 & 0x7f)
    }

    /// The days in the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        (0..7)
            .filter(move |i| self.0 & (1 << i) != 0)
            .filter_map(|i| Weekday::from_monday_zero_offset(i).ok())
    }

    /// Runs of consecutive days, Monday first: `mon-fri,sun` is `[(Mon, Fri), (Sun, Sun)]`.
    pub fn runs(self) -> Vec<(Weekday, Weekday)> {
        let mut runs: Vec<(Weekday, Weekday)> = Vec::new();
        for day in self.iter() {
            match runs.last_mut() {
                Some((_, last)) if last.next() == day => *last = day,
                _ => runs.push((day, day)),
            }
        }
        runs
    }

    /// The days for people, with each day's `name` in their language: `Mon–Fri, Sun`; two
    /// days in a row are listed, not a range.
    pub fn list_with(self, name: impl Fn(Weekday) -> String) -> String {
        let mut parts = Vec::new();
        for (from, to) in self.runs() {
            match to.since(from) {
                0 => parts.push(name(from)),
                1 => parts.extend([name(from), name(to)]),
                _ => parts.push(format!("{}–{}", name(from), name(to))),
            }
        }
        parts.join(", ")
    }

    /// Reads `mon-fri`, `sat`, `mon,wed,fri`, `fri-mon` (a range may wrap past Sunday), in
    /// any of the names in [`TYPED`], any case.
    pub fn parse(text: &str) -> Result<Days, PlanError> {
        let mut days = Days::NONE;
        for part in text.split(',').map(str::trim) {
            let part_days = match part.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (day(from)?, day(to)?);
                    let mut run = Days::only(from);
                    let mut at = from;
                    while at != to {
                        at = at.next();
                        run = run.union(Days::only(at));
                    }
                    run
                }
                None => Days::only(day(part)?),
            };
            days = days.union(part_days);
        }
        Ok(days)
    }
}

impl Default for Days {
    /// A window without days applies every day (as every plan did before days existed).
    fn default() -> Self {
        Days::EVERY
    }
}

/// One day's name, as typed.
fn day(text: &str) -> Result<Weekday, PlanError> {
    let lower = text.trim().to_lowercase();
    TYPED
        .iter()
        .position(|names| names.contains(&lower.as_str()))
        .and_then(|i| Weekday::from_monday_zero_offset(i as i8).ok())
        .ok_or_else(|| PlanError::NotADay(text.to_string()))
}

/// The short English name (`mon`), as on the wire.
pub fn name(day: Weekday) -> &'static str {
    NAMES[day.to_monday_zero_offset() as usize]
}

/// `mon-fri,sun`: runs of three days or more as ranges, the rest listed.
impl std::fmt::Display for Days {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (from, to) in self.runs() {
            match to.since(from) {
                0 => parts.push(name(from).to_string()),
                1 => parts.extend([name(from).to_string(), name(to).to_string()]),
                _ => parts.push(format!("{}-{}", name(from), name(to))),
            }
        }
        f.write_str(&parts.join(","))
    }
}

impl std::fmt::Debug for Days {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Days({self})")
    }
}

impl Serialize for Days {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(name))
    }
}

/// Strict, as anything that arrives over the wire: only the English three-letter names, each
/// at most once. An empty list reads as no days, which [`super::Plan::validate`] refuses.
impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        let mut days = Days::NONE;
        for text in &names {
            let i = NAMES.iter().position(|n| n == text).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "{text:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"
                ))
            })?;
            if days.0 & (1 << i) != 0 {
                return Err(serde::de::Error::custom(format!(
                    "the day {text} appears twice"
                )));
            }
            days.0 |= 1 << i;
        }
        Ok(days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_in_english_russian_and_tajik() {
        let weekdays = Days::parse("mon-fri").unwrap();
        assert_eq!(weekdays.to_string(), "mon-fri");
        assert_eq!(Days::parse("Пн-Пт").unwrap(), weekdays);
        assert_eq!(Days::parse("душанбе-ҷумъа").unwrap(), weekdays);
        assert_eq!(Days::parse("Monday-Friday").unwrap(), weekdays);
        assert_eq!(Days::parse("sat").unwrap(), Days::only(Weekday::Saturday));
        assert_eq!(Days::parse("шанбе").unwrap(), Days::only(Weekday::Saturday));
        assert_eq!(Days::parse("якшанбе").unwrap(), Days::only(Weekday::Sunday));
        assert_eq!(
            Days::parse("mon, wed ,fri").unwrap().to_string(),
            "mon,wed,fri"
        );
        // A range may wrap past Sunday; two days in a row are listed, not a range.
        assert_eq!(Days::parse("fri-mon").unwrap().to_string(), "mon,fri-sun");
        assert_eq!(Days::parse("sat-sun").unwrap().to_string(), "sat,sun");
        assert_eq!(Days::parse("mon-sun").unwrap(), Days::EVERY);
        assert_eq!(Days::EVERY.others(), Days::NONE);
        assert_eq!(weekdays.others().to_string(), "sat,sun");
    }

    #[test]
    fn a_bad_day_is_named_with_the_days_that_exist() {
        for bad in ["", "mnday", "mon-", "-fri", "mon,,fri", "1-5", "mon/fri"] {
            let error = Days::parse(bad).unwrap_err().to_string();
            assert!(error.contains("is not a day of the week"), "{bad}: {error}");
            assert!(error.contains("mon, tue, wed"), "{error}");
        }
    }

    #[test]
    fn on_the_wire_days_are_a_strict_list_of_english_names() {
        let days = Days::parse("mon-fri,sun").unwrap();
        let json = serde_json::to_string(&days).unwrap();
        assert_eq!(json, r#"["mon","tue","wed","thu","fri","sun"]"#);
        assert_eq!(serde_json::from_str::<Days>(&json).unwrap(), days);
        assert!(serde_json::from_str::<Days>(r#"["mon","mon"]"#).is_err());
        assert!(serde_json::from_str::<Days>(r#"["monday"]"#).is_err());
        assert!(serde_json::from_str::<Days>(r#"["пн"]"#).is_err());
        assert!(serde_json::from_str::<Days>(r#"[1]"#).is_err());
        assert!(serde_json::from_str::<Days>("[]").unwrap().is_empty());
    }
}
