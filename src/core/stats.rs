//! Counters users (and the tests and benchmark) read through `stats()`. Relaxed atomics:
//! each is an independent tally, not a synchronisation point.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Stats {
    pub verifies: AtomicU64,
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub jwks_fetches: AtomicU64,
    pub jwks_fetch_failures: AtomicU64,
    pub jwks_refetches: AtomicU64,
    pub stale_serves: AtomicU64,
}

pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Relaxed);
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub verifies: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_size: u64,
    pub jwks_fetches: u64,
    pub jwks_fetch_failures: u64,
    pub jwks_refetches: u64,
    pub stale_serves: u64,
    pub keys: u64,
}

impl Stats {
    pub fn snapshot(&self, cache_size: usize, keys: usize) -> StatsSnapshot {
        StatsSnapshot {
            verifies: self.verifies.load(Relaxed),
            succeeded: self.succeeded.load(Relaxed),
            failed: self.failed.load(Relaxed),
            cache_hits: self.cache_hits.load(Relaxed),
            cache_misses: self.cache_misses.load(Relaxed),
            cache_size: cache_size as u64,
            jwks_fetches: self.jwks_fetches.load(Relaxed),
            jwks_fetch_failures: self.jwks_fetch_failures.load(Relaxed),
            jwks_refetches: self.jwks_refetches.load(Relaxed),
            stale_serves: self.stale_serves.load(Relaxed),
            keys: keys as u64,
        }
    }
}
