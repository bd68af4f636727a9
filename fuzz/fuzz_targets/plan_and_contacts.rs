//! Plans and contact lists arrive over the wire from clients; a plan then drives the schedule
//! machine. Validation must refuse what the machine cannot handle, and the machine must
//! never panic on a plan that passed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posbon::plan::Plan;
use posbon::plan::schedule::State;

fuzz_target!(|data: &[u8]| {
    if let Ok(plan) = serde_json::from_slice::<Plan>(data)
        && plan.validate().is_ok()
    {
        let mut state = State::starting(1_795_586_400_000);
        for step in [0i64, 1_000, 86_400_000, 8 * 86_400_000] {
            let now = 1_795_586_400_000 + step;
            let _ = state.outlook(&plan, now);
            let _ = state.fire_due(&plan, now);
        }
        let _ = state.check_in(1_795_586_400_000 + 9 * 86_400_000, true);
        let _ = plan.describe();
    }
    if let Ok(dir) = serde_json::from_slice::<posbon::protocol::contacts::Directory>(data) {
        let _ = dir.validate();
    }
});
