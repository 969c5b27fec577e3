//! Hands cache misses from the JS thread to the pool without a tokio task per verify.
//!
//! Why: `tokio::spawn` from the JS thread allocates a task (an aligned allocation that the
//! worker frees, so glibc's slow path every time) and registers it in the runtime's task
//! list under a lock the workers also take: 11-15 % of the JS thread's time per miss in a
//! perf profile of distinct tokens. Here the JS thread only pushes the request onto a queue
//! and, when a runner sleeps, wakes it. One long-lived runner task per pool thread takes
//! requests off the queue and verifies them in place.
//!
//! A verify that cannot finish at once (it waits for a JWKS fetch) becomes a task of its
//! own, so it never holds up the requests behind it. Runners give the pool thread back to
//! tokio's other tasks (JWKS fetches, timers) whenever their cooperative budget runs out.

use crate::binding::claims_plan;
use crate::binding::completion::{Channel, Deferred};
use crate::binding::job::{Job, Outcome};
use crate::binding::runtime::runtime;
use crate::core::verifier::Verifier;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Waker};
use tokio::sync::Notify;

/// A cache miss waiting for a runner. Plain data: the job's future is built on the pool
/// thread, so that its allocation is made and freed there.
pub struct Request {
    pub core: Arc<Verifier>,
    /// The token copy (from the verifier's recycled buffers).
    pub token: String,
    /// Settles `deferred`; has counted this request as running (`Channel::begin_job`).
    pub channel: Arc<Channel>,
    pub deferred: Deferred,
}

/// The pool's side of a miss: verify, then work out how the JS thread builds the claims
/// without `JSON.parse` (see claims_plan).
async fn verification(core: Arc<Verifier>, token: String) -> Outcome {
    let result = core.verify(token).await;
    let plan = result.as_ref().ok().and_then(|json| claims_plan::plan(json));
    (result, plan)
}

/// Work waiting for a runner (generic only so that tests can run runners on other items).
struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    /// Wakes a runner that found the queue empty (a missed wake-up is kept as a permit).
    ready: Notify,
}

impl<T> Queue<T> {
    const fn new() -> Queue<T> {
        Queue { items: Mutex::new(VecDeque::new()), ready: Notify::const_new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<T>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, item: T) {
        self.lock().push_back(item);
        self.ready.notify_one();
    }
}

static QUEUE: Queue<Request> = Queue::new();

/// The queue, with its runners started on first use: one per pool thread.
fn queue() -> &'static Queue<Request> {
    static RUNNERS: Once = Once::new();
    RUNNERS.call_once(|| {
        for _ in 0..runtime().metrics().num_workers() {
            runtime().spawn(run(&QUEUE, start));
        }
    });
    &QUEUE
}

/// Queues `request` for the pool (any thread; the channel has counted it as running).
pub fn submit(request: Request) {
    queue().push(request);
}

/// One runner: hands queued items to `start` until the process ends. `start` returns true
/// when the item continues as a task of its own.
async fn run<T>(queue: &'static Queue<T>, start: fn(T) -> bool) {
    loop {
        let next = queue.lock().pop_front();
        let Some(item) = next else {
            queue.ready.notified().await;
            continue;
        };
        // A panic anywhere in a job (its drop included) is contained here, so a runner never
        // dies; the job's drop has rejected its promise by then (see job.rs).
        let spawned = catch_unwind(AssertUnwindSafe(|| start(item))).unwrap_or(false);
        if spawned {
            // The new task sits in this thread's run queue until this runner yields, and
            // until then its wake-ups go to the no-op waker (see `start`): yield now, so it
            // is polled with its own waker at once (rare: only misses that wait on a JWKS fetch).
            tokio::task::yield_now().await;
        } else {
            tokio::task::consume_budget().await;
        }
    }
}

/// Polls `request` once, right here. True if it must wait (a JWKS fetch) and continues as
/// a task of its own.
fn start(request: Request) -> bool {
    let Request { core, token, channel, deferred } = request;
    let mut job = Box::pin(Job::new(verification(core, token), channel, deferred));
    // A no-op waker: if the job is not done now, the task spawned below polls it again with
    // its own waker (the runner yields for that right away), and every future re-checks its
    // state when polled.
    let mut context = Context::from_waker(Waker::noop());
    match job.as_mut().poll(&mut context) {
        Poll::Ready(()) => false,
        Poll::Pending => {
            runtime().spawn(job);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    static ITEMS: Queue<u32> = Queue::new();
    static DONE: AtomicUsize = AtomicUsize::new(0);
    static SPAWNED_DONE: AtomicUsize = AtomicUsize::new(0);

    /// Odd items panic; multiples of 4 continue as a task of their own that waits first.
    fn start_test_item(item: u32) -> bool {
        if !item.is_multiple_of(2) {
            panic!("test item {item} panics (expected in this test)");
        }
        if item.is_multiple_of(4) {
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                SPAWNED_DONE.fetch_add(1, Ordering::SeqCst);
            });
            return true;
        }
        DONE.fetch_add(1, Ordering::SeqCst);
        false
    }

    #[test]
    fn runners_survive_panicking_items_and_keep_serving() {
        let pool = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        for _ in 0..2 {
            pool.spawn(run(&ITEMS, start_test_item));
        }
        // 0..40: 20 panic, 10 finish in place, 10 continue as tasks; then more after a pause,
        // when the runners sleep on the queue.
        for item in 0..40 {
            ITEMS.push(item);
        }
        std::thread::sleep(Duration::from_millis(20));
        for item in 40..80 {
            ITEMS.push(item);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while (DONE.load(Ordering::SeqCst), SPAWNED_DONE.load(Ordering::SeqCst)) != (20, 20) {
            assert!(Instant::now() < deadline, "runners stopped serving: {DONE:?} in place, {SPAWNED_DONE:?} spawned");
            std::thread::sleep(Duration::from_millis(2));
        }
        pool.shutdown_timeout(Duration::from_secs(1));
    }
}
