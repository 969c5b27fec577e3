//! When to wake the JS thread for finished verifications (used by completion.rs).
//!
//! Waking a sleeping JS thread (epoll return, eventfd read, two context switches) costs
//! more than settling a result. So a finished result may wait for the verifications still
//! running (tens of microseconds of CPU each) to share one wake-up: until as many results
//! wait as still run, or `MAX_HELD` do. A lone verify, or the last of a burst, wakes it at
//! once. With 64 in flight on 2 cores this took the JS thread's cost per miss from about
//! 12.7 to 7.6 us and throughput up by a quarter, with no worse latency at lower loads
//! (BENCHMARKS.md).
//!
//! Two things would make a held result wait far longer than that, so neither may count:
//! - a job parked on I/O (a JWKS fetch can take seconds): "running" leaves it out (job.rs
//!   reports parking);
//! - other verifiers' jobs: the tokio pool is one per process, so a result held for this
//!   verifier's next completion would also wait out a backlog of theirs. While any other
//!   verifier has jobs running, results are not held at all. (This is checked when a job of
//!   this verifier stops: a result held just before another verifier's burst waits for this
//!   verifier's next stop, a job handed to the pool before that burst.)

use std::sync::atomic::{AtomicUsize, Ordering};

/// The most results held back to share one wake-up.
pub const MAX_HELD: usize = 32;

/// Jobs of every verifier in the process that run or are ready to run on the shared pool.
pub static POOL_RUNNING: AtomicUsize = AtomicUsize::new(0);

/// One verifier's jobs that run or are ready to run: handed to the pool, not finished, not
/// parked on I/O. Raised on the JS thread before a job exists (or when a parked one resumes),
/// lowered by the job under the queue's lock, so the job that lowers it to a count the
/// queue satisfies is the one that sees it, and no result waits for a job that never comes.
pub struct Running {
    here: AtomicUsize,
    pool: &'static AtomicUsize,
}

/// Running jobs right after one stopped: this verifier's, and the whole pool's.
#[derive(Clone, Copy, Debug)]
pub struct Counts {
    pub here: usize,
    pub pool: usize,
}

impl Running {
    pub fn new(pool: &'static AtomicUsize) -> Running {
        Running { here: AtomicUsize::new(0), pool }
    }

    pub fn start(&self) {
        self.here.fetch_add(1, Ordering::SeqCst);
        self.pool.fetch_add(1, Ordering::SeqCst);
    }

    /// One job stopped running (finished or parked); call under the queue's lock.
    pub fn stop(&self) -> Counts {
        // Every stop follows its own start, so these never go below zero.
        let here = self.here.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        let pool = self.pool.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        Counts { here, pool }
    }
}

/// Finished results waiting for the JS thread, and whether it has been woken for them.
pub struct Waiting<T> {
    done: Vec<T>,
    woken: bool,
}

impl<T> Waiting<T> {
    pub fn new() -> Waiting<T> {
        Waiting { done: Vec::new(), woken: false }
    }

    /// Adds a finished result (if any) after a job stopped running; true when the JS thread
    /// must be woken now (it is then counted as woken until it takes the queue).
    pub fn stopped(&mut self, result: Option<T>, counts: Counts) -> bool {
        self.done.extend(result);
        let others_running = counts.pool > counts.here;
        let wake = !self.woken && !self.done.is_empty() && (others_running || self.done.len() >= counts.here.min(MAX_HELD));
        self.woken |= wake;
        wake
    }

    /// The JS thread takes everything waiting, leaving `spare`'s capacity for the next batch.
    pub fn take(&mut self, spare: &mut Vec<T>) {
        std::mem::swap(&mut self.done, spare);
        self.woken = false;
    }

    /// Waking failed: let a later result try again. (It only fails while the environment
    /// is closing, for good, so results queued meanwhile are lost with it, as before.)
    pub fn wake_failed(&mut self) {
        self.woken = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> &'static AtomicUsize {
        Box::leak(Box::new(AtomicUsize::new(0)))
    }

    /// Starts `n` jobs of one verifier.
    fn started(running: &Running, n: usize) {
        for _ in 0..n {
            running.start();
        }
    }

    #[test]
    fn a_lone_verify_wakes_at_once() {
        let running = Running::new(pool());
        let mut waiting = Waiting::new();
        started(&running, 1);
        assert!(waiting.stopped(Some(1), running.stop()));
    }

    #[test]
    fn results_wait_until_as_many_wait_as_still_run() {
        let running = Running::new(pool());
        let mut waiting = Waiting::new();
        started(&running, 8);
        let wakes: Vec<bool> = (0..8).map(|i| waiting.stopped(Some(i), running.stop())).collect();
        // 1 waits / 7 run, 2/6, 3/5, then 4/4 wakes; the rest join the woken batch.
        assert_eq!(wakes, [false, false, false, true, false, false, false, false]);
        let mut batch = Vec::new();
        waiting.take(&mut batch);
        assert_eq!(batch, (0..8).collect::<Vec<_>>());
        // After the JS thread took them, a new result decides afresh.
        started(&running, 1);
        assert!(waiting.stopped(Some(8), running.stop()));
    }

    #[test]
    fn at_most_max_held_wait() {
        let running = Running::new(pool());
        let mut waiting = Waiting::new();
        started(&running, 1000);
        let first_wake = (0..1000).position(|i| waiting.stopped(Some(i), running.stop()));
        assert_eq!(first_wake, Some(MAX_HELD - 1));
    }

    #[test]
    fn a_parked_job_is_not_waited_for() {
        let running = Running::new(pool());
        let mut waiting = Waiting::new();
        started(&running, 4);
        // Three park on a JWKS fetch; the fourth finishes: nothing else runs.
        for _ in 0..3 {
            assert!(!waiting.stopped(None, running.stop()), "parking with nothing waiting wakes nobody");
        }
        assert!(waiting.stopped(Some(1), running.stop()));
        let mut batch = Vec::new();
        waiting.take(&mut batch);
        // And a result held for a job that then parks is released by the parking.
        started(&running, 3);
        assert!(!waiting.stopped(Some(2), running.stop()), "held: 1 waits, 2 run");
        let parked = running.stop();
        assert_eq!(parked.here, 1);
        assert!(waiting.stopped(None, parked), "released: 1 waits, 1 runs, 1 parked");
    }

    #[test]
    fn nothing_is_held_while_another_verifier_has_jobs_running() {
        let shared = pool();
        let (mine, theirs) = (Running::new(shared), Running::new(shared));
        let mut waiting = Waiting::new();
        started(&mine, 3);
        started(&theirs, 500);
        assert!(waiting.stopped(Some(1), mine.stop()), "held behind another verifier's backlog");
        let mut batch = Vec::new();
        waiting.take(&mut batch);
        // Once theirs are done, mine batch again.
        for _ in 0..500 {
            theirs.stop();
        }
        started(&mine, 2);
        assert!(!waiting.stopped(Some(2), mine.stop()));
    }

    #[test]
    fn one_wake_until_the_queue_is_taken_unless_the_wake_failed() {
        let running = Running::new(pool());
        let mut waiting = Waiting::new();
        started(&running, 3);
        assert!(!waiting.stopped(Some(1), running.stop()));
        assert!(waiting.stopped(Some(2), running.stop()));
        waiting.wake_failed();
        assert!(waiting.stopped(Some(3), running.stop()), "a failed wake is tried again");
        assert!(!waiting.stopped(None, Counts { here: 0, pool: 0 }), "already woken");
    }
}
