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

struct Queue {
    requests: Mutex<VecDeque<Request>>,
    /// Wakes a runner that found the queue empty (a missed wake-up is kept as a permit).
    ready: Notify,
}

static QUEUE: Queue = Queue { requests: Mutex::new(VecDeque::new()), ready: Notify::const_new() };

/// The queue, with its runners started on first use: one per pool thread.
fn queue() -> &'static Queue {
    static RUNNERS: Once = Once::new();
    RUNNERS.call_once(|| {
        for _ in 0..runtime().metrics().num_workers() {
            runtime().spawn(run(&QUEUE));
        }
    });
    &QUEUE
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Request>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Queues `request` for the pool (any thread; the channel has counted it as running).
pub fn submit(request: Request) {
    let queue = queue();
    queue.lock().push_back(request);
    queue.ready.notify_one();
}

/// One runner: verifies queued requests until the process ends.
async fn run(queue: &'static Queue) {
    loop {
        let next = queue.lock().pop_front();
        let Some(request) = next else {
            queue.ready.notified().await;
            continue;
        };
        // A panic anywhere in a job (its drop included) is contained here, so a runner never
        // dies; the job's drop has rejected its promise by then (see job.rs).
        let spawned = catch_unwind(AssertUnwindSafe(|| start(request))).unwrap_or(false);
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
