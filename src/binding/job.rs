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

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Parked,
    Settled,
}

/// `work` wrapped so the channel knows when it runs, parks and finishes. The channel must
/// have counted it as running (`Channel::begin_job`) before it is submitted (see dispatch).
pub struct Job<F> {
    work: F,
    channel: Arc<Channel>,
    deferred: Deferred,
    state: State,
}

impl<F: Future<Output = Outcome>> Job<F> {
    pub fn new(work: F, channel: Arc<Channel>, deferred: Deferred) -> Job<F> {
        Job { work, channel, deferred, state: State::Running }
    }
}

impl<F: Future<Output = Outcome>> Future for Job<F> {
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

impl<F> Drop for Job<F> {
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
