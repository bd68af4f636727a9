//! The outbox as the delivery loop and the operator use it: what is due to be sent (with
//! the links' tokens put in only in memory), each attempt recorded durably, deliveries given
//! up, and read-only views that never hold the watcher's lock.

use super::*;
use crate::watch::outbox::Failure;
use crate::watch::store::{OutboxView, QueuedAction};

impl Watcher {
    pub fn queued(&self) -> Result<Vec<QueuedAction>, StoreError> {
        self.store().queued()
    }

    /// Up to `limit` pending deliveries whose next attempt is due at `now_ms` (skipping
    /// `busy` ones), and the earliest later attempt.
    pub fn due_deliveries(
        &self,
        now_ms: i64,
        busy: &std::collections::HashSet<String>,
        limit: usize,
    ) -> Result<(Vec<Delivery>, Option<i64>), StoreError> {
        // Alerts of requests answered since the last round are built first, so they go out
        // in this one; a failure leaves them to the next tick, and sending goes on.
        if let Err(e) = self.stage_deferred(now_ms) {
            warn!(error = %e, "alerts could not be built yet; the next tick tries again");
        }
        // What a forgotten journalist left (links, queued actions, bundle files) goes too.
        if let Err(e) = self.forget_leftovers() {
            warn!(error = %e, "what a removed journalist left could not all be deleted; tried again next round");
        }
        let mut keys = Vec::new();
        let mut next = None;
        for (at, key) in self.retry_index().iter() {
            if *at > now_ms {
                next = Some(*at);
                break;
            }
            if keys.len() < limit && !busy.contains(key) {
                keys.push(key.clone());
            }
        }
        let store = self.store();
        let mut due = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(delivery) = store.pending_delivery(&key)? {
                due.push(delivery);
            }
        }
        drop(store);
        // The links' tokens go in now, and only in memory: the outbox keeps placeholders.
        let dispatcher = self.dispatcher();
        for delivery in &mut due {
            dispatcher.finalise(delivery);
        }
        Ok((due, next))
    }

    /// Records one attempt at a delivery; durable when this returns.
    pub fn record_attempt(
        &self,
        key: &str,
        error: Option<Failure>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.record_attempts(vec![(key.to_string(), error, now_ms)])
    }

    /// Records attempts (key, error, when) in one transaction and one fsync; durable when
    /// this returns.
    pub fn record_attempts(
        &self,
        attempts: Vec<(String, Option<Failure>, i64)>,
    ) -> Result<(), StoreError> {
        {
            let store = self.store();
            let mut updated = Vec::with_capacity(attempts.len());
            let mut moves = Vec::with_capacity(attempts.len());
            for (key, error, at_ms) in attempts {
                let Some(mut delivery) = store.pending_delivery(&key)? else {
                    continue;
                };
                match &error {
                    None => {
                        info!(delivery = %key, channel = delivery.channel.kind(), "alert delivered")
                    }
                    Some(e) => {
                        warn!(delivery = %key, channel = delivery.channel.kind(), error = %e, "delivery failed; will retry")
                    }
                }
                let unit = f64::from(u32::from_be_bytes(crate::crypto::random_array::<4>()))
                    / (f64::from(u32::MAX) + 1.0);
                let before = delivery.next_attempt_ms;
                delivery.record(at_ms, error, &self.retry, unit);
                moves.push((
                    before,
                    delivery.is_pending().then_some(delivery.next_attempt_ms),
                    key,
                ));
                updated.push(delivery);
            }
            store.update_deliveries(&updated)?;
            let mut index = self.retry_index();
            for (before, after, key) in moves {
                index.remove(&(before, key.clone()));
                if let Some(after) = after {
                    index.insert((after, key));
                }
            }
        }
        self.flusher.flush()
    }

    /// An operator gives up on a pending delivery; it is kept, marked as given up.
    pub fn give_up(&self, key: &str, now_ms: i64) -> Result<bool, StoreError> {
        let store = self.store();
        let Some(mut delivery) = store.pending_delivery(key)? else {
            return Ok(false);
        };
        delivery.state = DeliveryState::GivenUp { at_ms: now_ms };
        store.update_delivery(&delivery)?;
        self.retry_index()
            .remove(&(delivery.next_attempt_ms, key.to_string()));
        store.flush()?;
        warn!(delivery = %key, "the operator gave up on this delivery");
        Ok(true)
    }

    /// Pending deliveries (at most `pending`), and the latest settled ones (at most
    /// `settled`); read without holding the watcher's lock, so a report never holds up
    /// check-ins.
    pub fn outbox(
        &self,
        pending: usize,
        settled: usize,
    ) -> Result<(Vec<Delivery>, Vec<Delivery>), StoreError> {
        let view = self.store().outbox_view();
        Ok((view.pending(pending)?, view.delivered(settled)?))
    }

    /// The outbox (and the count of subjects), read-only and apart from the watcher's lock.
    pub fn outbox_view(&self) -> OutboxView {
        self.store().outbox_view()
    }
}
