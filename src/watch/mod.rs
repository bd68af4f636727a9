//! The watcher: a daemon away from the journalist that expects check-ins and escalates when
//! one is missed.
//!
//! - `plan`: what a subject's plan says (schedule, grace, reminders, ladder), parsed and checked.
//! - `schedule`: the pure state machine over (plan, state, now).
pub mod plan;
pub mod schedule;
