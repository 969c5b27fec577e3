//! One tokio runtime for the process, shared by every verifier (and every Node worker
//! thread that loads the addon): verification is CPU-bound and short, so one worker per
//! core is the right size; JWKS fetches are async and share it.

use std::sync::OnceLock;
use tokio::runtime::{Builder, Runtime};

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("auth0-native")
            .enable_all()
            .build()
            .expect("could not start the verifier thread pool")
    })
}
