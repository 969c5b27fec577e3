//! Settling verify promises on the JavaScript thread.
//!
//! Verification runs on the tokio pool; results come back through ONE thread-safe
//! function per verifier. Workers push results into a queue, and the JS thread is woken
//! once per batch (when: see wake.rs), so under load one wake-up settles many.
//! Promises are raw `napi_deferred`s (no per-call thread-safe function), claims become JS
//! objects from compiled payload shapes or V8's own `JSON.parse`, and the `authorizeUser`
//! hook is called right there on the JS thread: no second hop.
//!
//! Lifetimes: `Shared` is the TSFN's context and lives until Node finalizes the TSFN.
//! `Channel` owns the TSFN; every in-flight job holds an `Arc<Channel>`, so the TSFN is
//! released only after the verifier object is gone AND no job can still call it. If Node
//! tears the environment down first (process.exit, worker termination), `alive` turns
//! false and workers stop touching the TSFN.

use crate::binding::claims_builder::ClaimsBuilder;
use crate::binding::claims_plan::ClaimsPlan;
use crate::binding::claims_templates::{self, ClaimsTemplates};
use crate::binding::js::{self, RawEnv, RawValue};
use crate::binding::wake::{self, Running, Waiting};
use crate::core::errors::{ErrorKind, VerifyError};
use napi::sys;
use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex, RwLock};

/// A verify promise waiting to be settled (a `napi_deferred`, only touched on the JS thread).
#[derive(Clone, Copy)]
pub struct Deferred(usize);

#[cfg(test)]
impl Deferred {
    /// A stand-in for unit tests that never reach N-API.
    pub fn for_test(id: usize) -> Deferred {
        Deferred(id)
    }
    pub fn test_id(self) -> usize {
        self.0
    }
}

pub struct Done {
    deferred: Deferred,
    result: Result<Arc<str>, VerifyError>,
    /// How to build the claims without `JSON.parse` (see claims_plan), when possible.
    plan: Option<ClaimsPlan>,
}

/// Where a settled result comes from, which decides how its claims object is made.
pub enum Source<'a> {
    /// The token cache (its claims may have a template: see claims_templates).
    CacheHit,
    /// A verification on the pool, or input refused before it (see claims_plan).
    Verified(Option<&'a ClaimsPlan>),
}

/// JS-thread state, only ever read or written on the JS thread.
struct JsState {
    /// The hook holder (see `Channel::holder`): weak, except while a hook is set and jobs
    /// are pending.
    holder: sys::napi_ref,
    /// Whether the holder has a hook (read on every verifyCached).
    has_hook: bool,
    /// Whether `holder` is a strong reference right now.
    holder_strong: bool,
    json: sys::napi_ref,
    json_parse: sys::napi_ref,
    settle_async: sys::napi_ref,
    copy_claims: sys::napi_ref,
    templates: ClaimsTemplates,
    builder: ClaimsBuilder,
    /// Jobs handed to the pool and not yet settled; the TSFN keeps the event loop alive
    /// only while this is non-zero.
    pending: usize,
    /// The last batch's vector, emptied, to become the next queue (see call_js).
    spare: Vec<Done>,
}

impl JsState {
    /// Keeps the hook reachable exactly while a pending job may still need it. Between
    /// jobs the holder is only held from JS (the verifier and its bound methods), so a hook
    /// that refers back to its verifier does not keep either alive forever, as a strong
    /// reference (a GC root) would.
    unsafe fn hold_hook_while_pending(&mut self, env: RawEnv) {
        let strong = self.has_hook && self.pending > 0;
        if strong != self.holder_strong {
            let mut count = 0u32;
            if strong {
                sys::napi_reference_ref(env, self.holder, &mut count);
            } else {
                sys::napi_reference_unref(env, self.holder, &mut count);
            }
            self.holder_strong = strong;
        }
    }
}

/// The holder's property for the hook.
const HOOK: &std::ffi::CStr = c"hook";

/// A batch vector grown past this by a burst is freed rather than kept.
const MAX_SPARE: usize = 1024;

pub struct Shared {
    queue: Mutex<Waiting<Done>>,
    running: Running,
    alive: RwLock<bool>,
    tsfn: Mutex<usize>,
    realm: String,
    js: JsThreadOnly<JsState>,
}

/// Marks data that is only accessed on the JS thread (N-API guarantees the callbacks
/// that touch it run there), which is what makes the `Sync` below sound.
struct JsThreadOnly<T>(std::cell::RefCell<T>);
unsafe impl<T> Sync for JsThreadOnly<T> {}
unsafe impl<T> Send for JsThreadOnly<T> {}

pub struct Channel {
    shared: Arc<Shared>,
    tsfn: sys::napi_threadsafe_function,
}
unsafe impl Send for Channel {}
unsafe impl Sync for Channel {}

/// Runs in the JS thread for every batch; settles everything queued.
unsafe extern "C" fn call_js(env: RawEnv, _js_callback: RawValue, context: *mut c_void, _data: *mut c_void) {
    if env.is_null() || context.is_null() {
        return;
    }
    let shared = &*(context as *const Shared);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Swap in the emptied vector of the previous batch, so workers push into kept capacity
        // instead of growing a fresh vector for every batch.
        let mut batch = std::mem::take(&mut shared.js.0.borrow_mut().spare);
        shared.lock_queue().take(&mut batch);
        let settled = batch.len();
        for done in batch.drain(..) {
            let mut scope = ptr::null_mut();
            sys::napi_open_handle_scope(env, &mut scope);
            shared.settle(env, done.deferred, done.result, Source::Verified(done.plan.as_ref()));
            sys::napi_close_handle_scope(env, scope);
        }
        let mut state = shared.js.0.borrow_mut();
        if batch.capacity() <= MAX_SPARE {
            state.spare = batch;
        }
        state.pending = state.pending.saturating_sub(settled);
        state.hold_hook_while_pending(env);
        if state.pending == 0 && settled > 0 {
            let tsfn = *shared.tsfn.lock().unwrap_or_else(|e| e.into_inner());
            sys::napi_unref_threadsafe_function(env, tsfn as sys::napi_threadsafe_function);
        }
    }));
}

/// Node is done with the TSFN (released by us, or the environment is shutting down).
unsafe extern "C" fn finalize(env: RawEnv, _data: *mut c_void, context: *mut c_void) {
    let shared = Arc::from_raw(context as *const Shared);
    *shared.alive.write().unwrap_or_else(|e| e.into_inner()) = false;
    if !env.is_null() {
        let mut state = shared.js.0.borrow_mut();
        for r in [state.holder, state.json, state.json_parse, state.settle_async, state.copy_claims] {
            sys::napi_delete_reference(env, r);
        }
        state.templates.clear(env);
        state.builder.clear(env);
    }
}

/// `Promise.resolve(hookResult).then(ok => ok === true ? claims : throw denied)`: the
/// async-hook path, compiled once per verifier instead of wiring native callbacks.
const SETTLE_ASYNC_SOURCE: &str = "(function settleAuthorizeUser(result, claims, denied) {\n  return Promise.resolve(result).then(function (allowed) {\n    if (allowed === true) return claims;\n    throw denied;\n  });\n})";

impl Channel {
    /// `templates`: the most parsed claims objects of cache hits to keep (see claims_templates).
    pub unsafe fn new(env: RawEnv, realm: String, templates: usize) -> napi::Result<Channel> {
        let global = {
            let mut g = ptr::null_mut();
            sys::napi_get_global(env, &mut g);
            g
        };
        let json = js::get(env, global, c"JSON");
        let json_parse = js::get(env, json, c"parse");
        let settle_async = js::compile(env, SETTLE_ASYNC_SOURCE)
            .ok_or_else(|| napi::Error::from_reason("could not compile the authorizeUser helper"))?;
        let copy_claims = js::compile(env, claims_templates::CLONE_SOURCE)
            .ok_or_else(|| napi::Error::from_reason("could not compile the claims copier"))?;
        let mut holder = ptr::null_mut();
        sys::napi_create_object(env, &mut holder);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Waiting::new()),
            running: Running::new(&wake::POOL_RUNNING),
            alive: RwLock::new(true),
            tsfn: Mutex::new(0),
            realm,
            js: JsThreadOnly(std::cell::RefCell::new(JsState {
                holder: js::weak_reference(env, holder),
                has_hook: false,
                holder_strong: false,
                json: js::reference(env, json),
                json_parse: js::reference(env, json_parse),
                settle_async: js::reference(env, settle_async),
                copy_claims: js::reference(env, copy_claims),
                templates: ClaimsTemplates::new(templates),
                builder: ClaimsBuilder::new(),
                pending: 0,
                spare: Vec::new(),
            })),
        });
        let context = Arc::into_raw(shared.clone()) as *mut c_void;
        let mut tsfn = ptr::null_mut();
        let status = sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            js::string(env, "auth0-native:verify"),
            0,
            1,
            ptr::null_mut(),
            Some(finalize),
            context,
            Some(call_js),
            &mut tsfn,
        );
        if !js::ok(status) {
            drop(Arc::from_raw(context as *const Shared));
            return Err(napi::Error::from_reason("could not create the completion channel"));
        }
        // Idle verifiers must not keep the process alive.
        sys::napi_unref_threadsafe_function(env, tsfn);
        *shared.tsfn.lock().unwrap() = tsfn as usize;
        Ok(Channel { shared, tsfn })
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The object that holds the `authorizeUser` hook. The verifier object and its bound
    /// methods must keep it alive (see bound_methods::install): the channel holds it weakly.
    pub unsafe fn holder(&self, env: RawEnv) -> Option<RawValue> {
        self.shared.holder(env)
    }

    /// Registers a new pending promise (JS thread). Returns the promise to hand back.
    pub unsafe fn create_promise(&self, env: RawEnv) -> (Deferred, RawValue) {
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        sys::napi_create_promise(env, &mut deferred, &mut promise);
        (Deferred(deferred as usize), promise)
    }

    /// Marks `deferred` as handed to the pool (JS thread): keeps the loop alive until done.
    pub unsafe fn begin_job(&self, env: RawEnv) {
        let mut state = self.shared.js.0.borrow_mut();
        if state.pending == 0 {
            sys::napi_ref_threadsafe_function(env, self.tsfn);
        }
        state.pending += 1;
        state.hold_hook_while_pending(env);
        // Raised before the job exists, so no result can wait for it in vain: it will
        // lower the count again (complete or park) and look at the queue then.
        self.shared.running.start();
    }

    /// Called from any thread when a job finishes (it was running).
    pub fn complete(&self, deferred: Deferred, result: Result<Arc<str>, VerifyError>, plan: Option<ClaimsPlan>) {
        self.stop_running(Some(Done { deferred, result, plan }));
    }

    /// A running job now waits on I/O (a JWKS fetch): results held back for it must not wait.
    pub fn park(&self) {
        self.stop_running(None);
    }

    /// One job stops running (finished with `done`, or parked); wakes the JS thread if the
    /// results now waiting should not wait any longer.
    fn stop_running(&self, done: Option<Done>) {
        let wake = {
            let mut waiting = self.shared.lock_queue();
            let counts = self.shared.running.stop();
            waiting.stopped(done, counts)
        };
        if wake && !self.wake() {
            self.shared.lock_queue().wake_failed();
        }
    }

    /// A parked job is being polled again.
    pub fn unpark(&self) {
        self.shared.running.start();
    }

    /// Signals the JS thread; false if it cannot be (the environment is closing).
    fn wake(&self) -> bool {
        let alive = self.shared.alive.read().unwrap_or_else(|e| e.into_inner());
        *alive
            && js::ok(unsafe {
                sys::napi_call_threadsafe_function(self.tsfn, ptr::null_mut(), sys::ThreadsafeFunctionCallMode::nonblocking)
            })
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        let alive = self.shared.alive.read().unwrap_or_else(|e| e.into_inner());
        if *alive {
            unsafe { sys::napi_release_threadsafe_function(self.tsfn, sys::ThreadsafeFunctionReleaseMode::release) };
        }
    }
}

impl Shared {
    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Waiting<Done>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets or clears the `authorizeUser` hook (JS thread). Called by the constructor and
    /// by `setAuthorizeUser` on the verifier, which hold the holder alive meanwhile.
    pub unsafe fn set_hook(&self, env: RawEnv, hook: Option<RawValue>) -> Result<(), &'static str> {
        let holder = self.holder(env).ok_or("the verifier's authorizeUser holder is gone")?;
        js::set(env, holder, HOOK, hook.unwrap_or_else(|| js::undefined(env)));
        let mut state = self.js.0.borrow_mut();
        state.has_hook = hook.is_some();
        state.hold_hook_while_pending(env);
        Ok(())
    }

    /// The hook holder, unless it was collected (JS thread).
    unsafe fn holder(&self, env: RawEnv) -> Option<RawValue> {
        let holder = js::deref(env, self.js.0.borrow().holder);
        (!holder.is_null()).then_some(holder)
    }

    /// Whether an `authorizeUser` hook is set (JS thread).
    pub fn has_hook(&self) -> bool {
        self.js.0.borrow().has_hook
    }

    /// The hook, when one is set. Err: one is set but cannot be reached, which the holder's
    /// lifetime rules out (see `hold_hook_while_pending`); the verify then fails closed.
    unsafe fn hook(&self, env: RawEnv) -> Result<Option<RawValue>, ()> {
        if !self.has_hook() {
            return Ok(None);
        }
        let holder = self.holder(env).ok_or(())?;
        let hook = js::get(env, holder, HOOK);
        (js::type_of(env, hook) == sys::ValueType::napi_function).then_some(Some(hook)).ok_or(())
    }

    /// A fresh JS object from verified claims JSON, through V8's own `JSON.parse` (JS
    /// thread). Err: the error to hand to JS (cannot happen for JSON the core accepted).
    pub unsafe fn parse_claims(&self, env: RawEnv, claims_json: &str) -> Result<RawValue, RawValue> {
        // Not borrowed during the call: an app may have replaced the global JSON.parse before
        // creating the verifier, and its code may call verify() (which borrows) re-entrantly.
        let (parse, json) = {
            let state = self.js.0.borrow();
            (js::deref(env, state.json_parse), js::deref(env, state.json))
        };
        js::call(env, json, parse, &[js::text(env, claims_json)]).map_err(|thrown| {
            thrown.unwrap_or_else(|| {
                js::verify_error(env, &VerifyError::new(ErrorKind::Internal, "could not convert claims"), &self.realm)
            })
        })
    }

    /// The claims of a cache hit as a fresh object: a copy of the kept template when there is
    /// one, else parsed (and a template kept for the next hit). JS thread.
    pub unsafe fn claims_of_hit(&self, env: RawEnv, claims_json: &Arc<str>) -> Result<RawValue, RawValue> {
        let (template, copy) = {
            let state = self.js.0.borrow();
            (state.templates.get(env, claims_json), js::deref(env, state.copy_claims))
        };
        let copy_of = |source: RawValue| {
            js::call(env, js::undefined(env), copy, &[source]).map_err(|thrown| thrown.unwrap_or_else(|| js::undefined(env)))
        };
        if let Some((template, shape)) = template {
            // The shape's own copier when there is one (several times faster), else generic.
            let fast = shape.and_then(|key| self.js.0.borrow().builder.copy(env, key, template));
            return fast.map_or_else(|| copy_of(template), Ok);
        }
        let parsed = self.parse_claims(env, claims_json)?;
        // The parsed object goes to the caller; a copy nobody else sees becomes the template.
        if let Ok(template) = copy_of(parsed) {
            let mut state = self.js.0.borrow_mut();
            let shape = state.builder.copier(env, claims_json);
            state.templates.insert(env, claims_json, template, shape);
        }
        Ok(parsed)
    }

    /// A fresh claims object for a verification that just ran on the pool: built from its
    /// compiled shape when there is one, else parsed. JS thread.
    unsafe fn claims_of_verified(&self, env: RawEnv, claims_json: &str, plan: Option<&ClaimsPlan>) -> Result<RawValue, RawValue> {
        if let Some(plan) = plan {
            // Borrowed while the shape's function runs: it only evaluates an object literal
            // (no user code), so nothing can re-enter this state meanwhile.
            if let Some(claims) = self.js.0.borrow_mut().builder.build(env, claims_json, plan) {
                return Ok(claims);
            }
        }
        self.parse_claims(env, claims_json)
    }

    /// Resolves or rejects one verify promise (JS thread). Runs the hook on success.
    pub unsafe fn settle(&self, env: RawEnv, deferred: Deferred, result: Result<Arc<str>, VerifyError>, source: Source) {
        let deferred = deferred.0 as sys::napi_deferred;
        let claims_json = match result {
            Ok(json) => json,
            Err(error) => {
                sys::napi_reject_deferred(env, deferred, js::verify_error(env, &error, &self.realm));
                return;
            }
        };
        let claims = match source {
            Source::CacheHit => self.claims_of_hit(env, &claims_json),
            Source::Verified(plan) => self.claims_of_verified(env, &claims_json, plan),
        };
        let claims = match claims {
            Ok(claims) => claims,
            Err(error) => {
                sys::napi_reject_deferred(env, deferred, error);
                return;
            }
        };
        let hook = match self.hook(env) {
            Ok(Some(hook)) => hook,
            Ok(None) => {
                sys::napi_resolve_deferred(env, deferred, claims);
                return;
            }
            Err(()) => {
                let error = VerifyError::new(ErrorKind::Internal, "the authorizeUser hook could not be reached");
                sys::napi_reject_deferred(env, deferred, js::verify_error(env, &error, &self.realm));
                return;
            }
        };

        // The hook may replace itself or throw; state is not borrowed while it runs.
        let outcome = match js::call(env, js::undefined(env), hook, &[claims]) {
            Ok(outcome) => outcome,
            Err(thrown) => {
                sys::napi_reject_deferred(env, deferred, thrown.unwrap_or_else(|| js::undefined(env)));
                return;
            }
        };
        let denied = || js::verify_error(env, &VerifyError::new(ErrorKind::AccessDenied, "Access denied"), &self.realm);
        if js::type_of(env, outcome) == sys::ValueType::napi_boolean {
            let mut allowed = false;
            sys::napi_get_value_bool(env, outcome, &mut allowed);
            if allowed {
                sys::napi_resolve_deferred(env, deferred, claims);
            } else {
                sys::napi_reject_deferred(env, deferred, denied());
            }
            return;
        }
        let settle_async = js::deref(env, self.js.0.borrow().settle_async);
        match js::call(env, js::undefined(env), settle_async, &[outcome, claims, denied()]) {
            Ok(chained) => sys::napi_resolve_deferred(env, deferred, chained),
            Err(thrown) => sys::napi_reject_deferred(env, deferred, thrown.unwrap_or_else(|| js::undefined(env))),
        };
    }
}
