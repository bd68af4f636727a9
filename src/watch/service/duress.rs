//! The silent alarm: raised by anything the duress key signs, and rationed to one alert per
//! coercion episode, so that a coerced session of many commands reads to the contacts as
//! the one event it is.

use super::*;

/// The silent alarm a request signed with the duress key raises (rationed per episode by
/// `ration_duress`); nothing for the real key.
pub(super) fn alarm_if(duress: bool, subject: &Subject, at_ms: i64) -> Vec<Emitted> {
    if duress {
        vec![Emitted::Duress {
            cycle: subject.state.cycle,
            at_ms,
        }]
    } else {
        Vec::new()
    }
}

/// A silent duress alert is not sent again within this long of the last one, unless a
/// request signed with the real device key (or a check-in with the phone's real PIN) came
/// in between.
pub const DURESS_REPEAT_MS: i64 = 12 * 3_600_000;

/// One silent alert per coercion episode. Every command run under the duress passphrase
/// signs a request with the duress key (the unlock itself raises the alarm), so one episode
/// would otherwise send the contacts a new "duress" alert for each command, each with its
/// own id, when the lawyer's guide teaches that a new id is a new event. A request that
/// falls within [`DURESS_REPEAT_MS`] after the last duress alert, with no real request since,
/// raises none. A mark far in the future (a watcher clock that ran fast, since corrected)
/// silences nothing: only requests from the last one's moment (less the allowed clock skew)
/// onwards count as repeats. Every watcher sees the same requests and decides alike.
pub(super) fn ration_duress(
    subject: &mut Subject,
    mut emitted: Vec<Emitted>,
    at_ms: i64,
) -> Vec<Emitted> {
    emitted.retain(|event| {
        if !matches!(event, Emitted::Duress { .. }) {
            return true;
        }
        let repeat = subject.duress_alerted_ms.is_some_and(|last| {
            at_ms >= last - protocol::MAX_SKEW_MS && at_ms - last < DURESS_REPEAT_MS
        });
        if !repeat {
            subject.duress_alerted_ms = Some(at_ms);
        }
        !repeat
    });
    emitted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            state: crate::plan::schedule::State::starting(0),
            ..Subject::enrolled("s".into(), "n".into(), vec![1; 32], vec![2; 32], 0)
        }
    }

    fn duress(at_ms: i64) -> Vec<Emitted> {
        vec![Emitted::Duress { cycle: 1, at_ms }]
    }

    #[test]
    fn one_coercion_episode_raises_one_silent_alert() {
        let mut s = subject();
        let hour = 3_600_000;
        assert_eq!(ration_duress(&mut s, duress(hour), hour), duress(hour));
        // The commands that follow (a check-in, a pause, a look) raise nothing more.
        for later in [hour + 1, 2 * hour, hour + DURESS_REPEAT_MS - 1] {
            assert!(ration_duress(&mut s, duress(later), later).is_empty());
        }
        // Other events pass untouched.
        let clear = vec![Emitted::AllClear {
            tiers: vec![1],
            cycle: 2,
        }];
        assert_eq!(ration_duress(&mut s, clear.clone(), 2 * hour), clear);
        // Still coerced half a day later: the contacts hear it again.
        let next = hour + DURESS_REPEAT_MS;
        assert_eq!(ration_duress(&mut s, duress(next), next), duress(next));
        // After a real request (which clears the mark), at once.
        s.duress_alerted_ms = None;
        assert_eq!(
            ration_duress(&mut s, duress(next + 1), next + 1),
            duress(next + 1)
        );
        // A mark days ahead (a clock that ran fast) silences nothing.
        s.duress_alerted_ms = Some(next + 3 * 24 * hour);
        assert_eq!(
            ration_duress(&mut s, duress(next + 2), next + 2),
            duress(next + 2)
        );
        assert_eq!(s.duress_alerted_ms, Some(next + 2));
    }
}
