//! Why a plan is refused, in the reader's language: one Fluent catalogue (`ftl/plan.*.ftl`)
//! for the command line, the app and the watcher's config checker, so that a journalist
//! who types `пн-пт/09:00-11:00` wrong is told why in Russian or Tajik. The English is also
//! [`PlanError`]'s `Display`, from the same file.

use std::sync::OnceLock;

use crate::lang::Lang;
use crate::lang::catalogue::{Arg, Catalogue};

use super::PlanError;

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "plan",
            [
                (Lang::Tg, include_str!("ftl/plan.tg.ftl")),
                (Lang::Ru, include_str!("ftl/plan.ru.ftl")),
                (Lang::En, include_str!("ftl/plan.en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the plan's message catalogue: {e}"))
    })
}

/// Why the plan is refused, in `lang`. What was typed is quoted and escaped as Rust's `{:?}`
/// does, so that a control character typed by mistake is seen, not obeyed.
pub fn said(lang: Lang, error: &PlanError) -> String {
    let (id, typed) = match error {
        PlanError::NotAStep(text) => ("plan-not-a-step", Some(text)),
        PlanError::NotActionDelay(text) => ("plan-not-action-delay", Some(text)),
        PlanError::NotADuration(text) => ("plan-not-a-duration", Some(text)),
        PlanError::NotAWindow(text) => ("plan-not-a-window", Some(text)),
        PlanError::WindowEndsWhenItStarts(text) => ("plan-window-ends-when-it-starts", Some(text)),
        PlanError::NotADay(text) => ("plan-not-a-day", Some(text)),
        PlanError::UnknownZone(text) => ("plan-unknown-zone", Some(text)),
        PlanError::WindowsNeedZone => ("plan-windows-need-zone", None),
        PlanError::EveryOrWindows => ("plan-every-or-windows", None),
        PlanError::IntervalTooShort => ("plan-interval-too-short", None),
        PlanError::NoWindow => ("plan-no-window", None),
        PlanError::WindowSameTime => ("plan-window-same-time", None),
        PlanError::WindowNoDays => ("plan-window-no-days", None),
        PlanError::NotPositive => ("plan-not-positive", None),
        PlanError::NoSteps => ("plan-no-steps", None),
        PlanError::StepBeforeMiss => ("plan-step-before-miss", None),
        PlanError::StepTwice(action) => {
            let step = action.label();
            return catalogue().text(lang, "plan-step-twice", &[("step", Arg::Text(&step))]);
        }
    };
    let quoted = typed.map(|text| format!("{text:?}"));
    let args: Vec<(&str, Arg<'_>)> = quoted
        .iter()
        .map(|text| ("text", Arg::Text(text)))
        .collect();
    catalogue().text(lang, id, &args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

    fn every_error() -> Vec<PlanError> {
        let typed = || "пн-пт/9-11".to_string();
        vec![
            PlanError::NotAStep(typed()),
            PlanError::NotActionDelay(typed()),
            PlanError::NotADuration(typed()),
            PlanError::NotAWindow(typed()),
            PlanError::WindowEndsWhenItStarts(typed()),
            PlanError::NotADay(typed()),
            PlanError::UnknownZone(typed()),
            PlanError::WindowsNeedZone,
            PlanError::EveryOrWindows,
            PlanError::IntervalTooShort,
            PlanError::NoWindow,
            PlanError::WindowSameTime,
            PlanError::WindowNoDays,
            PlanError::NotPositive,
            PlanError::NoSteps,
            PlanError::StepBeforeMiss,
            PlanError::StepTwice(Action::AlertTier(2)),
        ]
    }

    #[test]
    fn every_refusal_is_said_in_tajik_and_russian_with_no_english_sentence_left() {
        let english = [
            "is not", "must", "need", "give", "window", "appears", "positive", "known", "interval",
            "schedule", "before", "either", "like",
        ];
        for error in every_error() {
            for lang in [Lang::Tg, Lang::Ru] {
                let text = said(lang, &error);
                for word in english {
                    assert!(!text.contains(word), "{lang:?} {error:?}: {text}");
                }
                if let Some(typed) = match &error {
                    PlanError::NotAStep(t) | PlanError::NotADay(t) | PlanError::UnknownZone(t) => {
                        Some(t)
                    }
                    _ => None,
                } {
                    assert!(text.contains(&format!("{typed:?}")), "{text}");
                }
            }
            assert_eq!(error.to_string(), said(Lang::En, &error));
        }
    }

    #[test]
    fn english_is_what_scripts_and_operators_already_read() {
        assert_eq!(
            PlanError::NotADuration("2x".into()).to_string(),
            "\"2x\" is not a duration (like 10s, 90m, 2h, 1d, 1h30m)"
        );
        assert_eq!(
            PlanError::StepTwice(Action::AlertTier(2)).to_string(),
            "the step tier2 appears twice"
        );
        assert_eq!(
            said(Lang::Ru, &PlanError::StepTwice(Action::Release)),
            "шаг release указан дважды"
        );
        // A control character typed by mistake is shown escaped, not sent to the terminal.
        assert!(said(Lang::Tg, &PlanError::NotADay("a\u{1b}[2J".into())).contains("\\u{1b}"));
    }
}
