//! A stop a simulated robot obeys within one physics step: set from any thread (an emergency
//! stop, a dead-man switch), looked at by the world before every step of a motion. The world
//! also writes its clock here at every step, so that whoever sets the stop can later tell how
//! much simulated motion happened after it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// Shared between a world and the threads that may stop it.
#[derive(Debug)]
pub struct StopSignal {
    stopped: AtomicBool,
    /// The world's clock (f64 bits), written at every physics step.
    clock: AtomicU64,
    /// The world's clock when the stop was set (f64 bits; NaN: not set).
    stopped_at: AtomicU64,
    /// When a world last halted a motion on this stop (wall clock).
    halted_at: Mutex<Option<Instant>>,
}

impl Default for StopSignal {
    fn default() -> Self {
        Self {
            stopped: AtomicBool::new(false),
            clock: AtomicU64::new(0f64.to_bits()),
            stopped_at: AtomicU64::new(f64::NAN.to_bits()),
            halted_at: Mutex::new(None),
        }
    }
}

impl StopSignal {
    /// Stop: every motion halts at its next physics step. Setting it again keeps the time of
    /// the first.
    pub fn stop(&self) {
        if !self.stopped.swap(true, Ordering::SeqCst) {
            self.stopped_at.store(self.clock.load(Ordering::SeqCst), Ordering::SeqCst);
        }
    }

    /// Clear the stop: motions may run again.
    pub fn clear(&self) {
        self.stopped.store(false, Ordering::SeqCst);
        self.stopped_at.store(f64::NAN.to_bits(), Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// The world's clock, at a physics step.
    pub fn tick(&self, sim_seconds: f64) {
        self.clock.store(sim_seconds.to_bits(), Ordering::SeqCst);
    }

    /// A world halted a motion on this stop, now.
    pub fn halted(&self) {
        *self.halted_at.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// When a world last halted a motion on this stop (taken: asked again, None).
    pub fn take_halted_at(&self) -> Option<Instant> {
        self.halted_at.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// The simulated seconds from the stop to `now` (None: not stopped).
    pub fn motion_after_stop(&self, now: f64) -> Option<f64> {
        let at = f64::from_bits(self.stopped_at.load(Ordering::SeqCst));
        (self.is_stopped() && at.is_finite()).then(|| (now - at).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stop_keeps_the_clock_of_its_first_setting() {
        let s = StopSignal::default();
        assert_eq!(s.motion_after_stop(1.0), None);
        s.tick(2.0);
        s.stop();
        s.tick(2.5);
        s.stop();
        assert!(s.is_stopped());
        assert_eq!(s.motion_after_stop(2.5), Some(0.5));
        s.clear();
        assert!(!s.is_stopped());
        assert_eq!(s.motion_after_stop(3.0), None);
    }
}
