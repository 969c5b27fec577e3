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
use std::sync::{Arc, Mutex, OnceLock};
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

fn queue() -> &'static Queue {
    static QUEUE: OnceLock<&'static Queue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let queue: &'static Queue = Box::leak(Box::new(Queue { requests: Mutex::new(VecDeque::new()), ready: Notify::new() }));
        for _ in 0..runtime_threads() {
            runtime().spawn(run(queue));
        }
        queue
    })
}

fn runtime_threads() -> usize {
    runtime().metrics().num_workers()
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
        match next {
            Some(request) => {
                start(request);
                tokio::task::consume_budget().await;
            }
            None => queue.ready.notified().await,
        }
    }
}

/// Polls `request` once, right here; if it must wait (a JWKS fetch), it continues as a task
/// of its own. A panic is contained: the job's drop rejects its promise (see job.rs).
fn start(request: Request) {
    let Request { core, token, channel, deferred } = request;
    let mut job = Box::pin(Job::new(verification(core, token), channel, deferred));
    // A no-op waker: if the job is not done now, the task spawned below polls it again
    // with its own waker before anything else, and every future re-checks its state there.
    let mut context = Context::from_waker(Waker::noop());
    match catch_unwind(AssertUnwindSafe(|| job.as_mut().poll(&mut context))) {
        Ok(Poll::Ready(())) | Err(_) => {}
        Ok(Poll::Pending) => {
            runtime().spawn(job);
        }
    }
}
