//! One verification on the tokio pool, as the completion channel sees it.
//!
//! The channel holds finished results back while other verifications are still running,
//! so that one wake-up of the JS thread settles many (see wake.rs). That is only safe if
//! "running" means CPU work that ends in microseconds: a job that awaits a JWKS fetch may
//! wait for seconds. So a job counts as running except while its future is parked
//! (`Poll::Pending`): in verification, waiting on the JWKS fetch or its lock, or tokio's
//! cooperative yield. A park that was not needed only wakes the JS thread sooner.
//!
//! A job also settles its promise with an internal error if it ends without a result (a
//! panic inside verification): a promise must never hang and a panic must never reach Node.

use crate::binding::claims_plan::ClaimsPlan;
use crate::binding::completion::{Channel, Deferred};
use crate::binding::hot_path::internal_error;
use crate::core::errors::VerifyError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What a verification hands back: the claims JSON (or why not) and how to build it in JS.
pub type Outcome = (Result<Arc<str>, VerifyError>, Option<ClaimsPlan>);

/// Where a job reports: the completion channel (see completion.rs). A trait only so that the
/// unit tests below can watch what a job reports, including from its drop, without Node.
pub trait JobChannel {
    /// The job finished (it was running) with this outcome.
    fn complete(&self, deferred: Deferred, result: Result<Arc<str>, VerifyError>, plan: Option<ClaimsPlan>);
    /// The running job now waits on I/O.
    fn park(&self);
    /// The parked job runs again.
    fn unpark(&self);
}

impl JobChannel for Channel {
    fn complete(&self, deferred: Deferred, result: Result<Arc<str>, VerifyError>, plan: Option<ClaimsPlan>) {
        Channel::complete(self, deferred, result, plan)
    }
    fn park(&self) {
        Channel::park(self)
    }
    fn unpark(&self) {
        Channel::unpark(self)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Parked,
    Settled,
}

/// `work` wrapped so the channel knows when it runs, parks and finishes. The channel must
/// have counted it as running (`Channel::begin_job`) before it is submitted (see dispatch).
pub struct Job<F, C: JobChannel = Channel> {
    work: F,
    channel: Arc<C>,
    deferred: Deferred,
    state: State,
}

impl<F: Future<Output = Outcome>, C: JobChannel> Job<F, C> {
    pub fn new(work: F, channel: Arc<C>, deferred: Deferred) -> Job<F, C> {
        Job { work, channel, deferred, state: State::Running }
    }
}

impl<F: Future<Output = Outcome>, C: JobChannel> Future for Job<F, C> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `work` is never moved out of the pinned Job (the other fields are plain
        // data), so projecting the pin to it is sound.
        let this = unsafe { self.get_unchecked_mut() };
        if this.state == State::Settled {
            return Poll::Ready(());
        }
        if this.state == State::Parked {
            this.channel.unpark();
            this.state = State::Running;
        }
        let work = unsafe { Pin::new_unchecked(&mut this.work) };
        match work.poll(cx) {
            Poll::Pending => {
                this.state = State::Parked;
                this.channel.park();
                Poll::Pending
            }
            Poll::Ready((result, plan)) => {
                this.state = State::Settled;
                this.channel.complete(this.deferred, result, plan);
                Poll::Ready(())
            }
        }
    }
}

impl<F, C: JobChannel> Drop for Job<F, C> {
    fn drop(&mut self) {
        // Dropped unfinished: a panic while polling (unwinding), or the pool shutting down.
        match self.state {
            State::Settled => return,
            // Counted as running again, so that `complete` lowers the count once.
            State::Parked => self.channel.unpark(),
            State::Running => {}
        }
        self.state = State::Settled;
        self.channel.complete(self.deferred, Err(internal_error()), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::errors::ErrorKind;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::Mutex;
    use std::task::Waker;

    /// One report: the deferred's id and the claims JSON or the error kind.
    type Report = (usize, Result<Arc<str>, ErrorKind>);

    /// Records what a job reports, and keeps the running count the real channel keeps.
    #[derive(Default)]
    struct Recorder {
        running: Mutex<i64>,
        completed: Mutex<Vec<Report>>,
    }

    impl JobChannel for Recorder {
        fn complete(&self, deferred: Deferred, result: Result<Arc<str>, VerifyError>, _plan: Option<ClaimsPlan>) {
            *self.running.lock().unwrap() -= 1;
            self.completed.lock().unwrap().push((deferred.test_id(), result.map_err(|e| e.kind)));
        }
        fn park(&self) {
            *self.running.lock().unwrap() -= 1;
        }
        fn unpark(&self) {
            *self.running.lock().unwrap() += 1;
        }
    }

    impl Recorder {
        /// As `Channel::begin_job` does before a job is submitted.
        fn begin(&self) {
            *self.running.lock().unwrap() += 1;
        }
    }

    fn poll_once<F: Future<Output = Outcome>>(job: &mut Pin<Box<Job<F, Recorder>>>) -> Poll<()> {
        job.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_finished_job_reports_once_and_its_drop_adds_nothing() {
        let channel = Arc::new(Recorder::default());
        channel.begin();
        let mut job = Box::pin(Job::new(async { (Ok::<_, VerifyError>(Arc::from("{}")), None) }, channel.clone(), Deferred::for_test(7)));
        assert_eq!(poll_once(&mut job), Poll::Ready(()));
        drop(job);
        assert_eq!(*channel.completed.lock().unwrap(), vec![(7, Ok(Arc::from("{}")))]);
        assert_eq!(*channel.running.lock().unwrap(), 0);
    }

    #[test]
    fn a_job_that_panics_while_polled_rejects_its_promise_with_an_internal_error() {
        let channel = Arc::new(Recorder::default());
        channel.begin();
        let work = std::future::poll_fn(|_| -> Poll<Outcome> { panic!("verification bug (expected in this test)") });
        let mut job = Box::pin(Job::new(work, channel.clone(), Deferred::for_test(3)));
        // As the runner does: the panic unwinds out of the poll, dropping the job on the way.
        let outcome = catch_unwind(AssertUnwindSafe(move || poll_once(&mut job)));
        assert!(outcome.is_err());
        assert_eq!(*channel.completed.lock().unwrap(), vec![(3, Err(ErrorKind::Internal))]);
        assert_eq!(*channel.running.lock().unwrap(), 0, "the channel must not wait for the dead job");
    }

    #[test]
    fn a_parked_job_dropped_unfinished_is_counted_running_again_then_rejected() {
        // Pool shutdown drops tasks that wait on a JWKS fetch: the promise must still settle,
        // and the running count must come back to zero, not below it.
        let channel = Arc::new(Recorder::default());
        channel.begin();
        let mut job = Box::pin(Job::new(std::future::pending::<Outcome>(), channel.clone(), Deferred::for_test(5)));
        assert_eq!(poll_once(&mut job), Poll::Pending);
        assert_eq!(*channel.running.lock().unwrap(), 0, "parked: not running");
        assert!(channel.completed.lock().unwrap().is_empty());
        drop(job);
        assert_eq!(*channel.completed.lock().unwrap(), vec![(5, Err(ErrorKind::Internal))]);
        assert_eq!(*channel.running.lock().unwrap(), 0);
    }

    #[test]
    fn a_parked_job_polled_again_runs_then_reports_once() {
        let channel = Arc::new(Recorder::default());
        channel.begin();
        let mut first = true;
        let work = std::future::poll_fn(move |_| {
            if std::mem::take(&mut first) {
                Poll::Pending
            } else {
                Poll::Ready((Ok::<_, VerifyError>(Arc::from("{}")), None))
            }
        });
        let mut job = Box::pin(Job::new(work, channel.clone(), Deferred::for_test(9)));
        assert_eq!(poll_once(&mut job), Poll::Pending);
        assert_eq!(poll_once(&mut job), Poll::Ready(()));
        drop(job);
        assert_eq!(*channel.completed.lock().unwrap(), vec![(9, Ok(Arc::from("{}")))]);
        assert_eq!(*channel.running.lock().unwrap(), 0);
    }
}
