//! The `Auth0Verifier` class as JavaScript sees it. Conversion only: every decision is
//! made in `crate::core`.

use crate::binding::completion::{Channel, Deferred};
use crate::binding::js::{self, RawValue};
use crate::binding::options;
use crate::binding::runtime::runtime;
use crate::core::errors::{ErrorKind, VerifyError};
use crate::core::options::Config;
use crate::core::verifier::Verifier;
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use std::sync::Arc;

/// Verifies Auth0-issued JWT access tokens (RS256 by default) against the tenant's JWKS.
#[napi]
pub struct Auth0Verifier {
    core: Arc<Verifier>,
    channel: Arc<Channel>,
}

/// Counters since this verifier was created.
#[napi(object)]
pub struct VerifierStats {
    /// verify() calls that reached verification (cache hits included), plus verifyCached() hits.
    pub verifies: f64,
    /// Verifications that succeeded (before the authorizeUser hook).
    pub succeeded: f64,
    /// Verifications that failed.
    pub failed: f64,
    pub cache_hits: f64,
    pub cache_misses: f64,
    /// Entries now in the verified-token cache.
    pub cache_size: f64,
    /// JWKS HTTP requests made (successful or not).
    pub jwks_fetches: f64,
    pub jwks_fetch_failures: f64,
    /// Fetches triggered by an unknown `kid`.
    pub jwks_refetches: f64,
    /// Verifications that used keys past their freshness because a refresh was pending or failing.
    pub stale_serves: f64,
    /// Usable signing keys in the cached JWKS.
    pub keys: f64,
}

#[napi]
impl Auth0Verifier {
    /// Validates `options` (see Auth0VerifierOptions) and prepares the JWKS cache. Throws
    /// an Error with `code: 'ERR_INVALID_OPTIONS'` for bad options; makes no network call.
    #[napi(constructor, catch_unwind, ts_args_type = "options?: Auth0VerifierOptions")]
    pub fn new(env: Env, options: Unknown) -> Result<Self> {
        let raw_env = env.raw();
        let invalid = |message: String| {
            unsafe { js::throw_with_code(raw_env, "ERR_INVALID_OPTIONS", &format!("Auth0Verifier: {message}")) };
            Error::from_status(Status::PendingException)
        };
        let parsed = unsafe { options::read(raw_env, options.raw()) }.map_err(invalid)?;
        let config = Config::from_options(parsed.raw, |name| std::env::var(name).ok()).map_err(invalid)?;
        let realm = config.realm.clone();
        // Parsed-claims templates live as long as their cache entries (see claims_templates).
        let templates = config.token_cache_size;
        // reqwest's client wants a tokio context for its connection pool timers.
        let _guard = runtime().enter();
        let core = Verifier::new(config).map_err(invalid)?;
        let channel = unsafe { Channel::new(raw_env, realm, templates)? };
        if let Some(hook) = parsed.authorize_user {
            unsafe { channel.shared().set_hook(raw_env, Some(hook)) };
        }
        Ok(Auth0Verifier { core: Arc::new(core), channel: Arc::new(channel) })
    }

    /// Verifies `token` (the bare JWT, without "Bearer "). Resolves with the verified
    /// claims; rejects with an Auth0VerifyError, or with whatever authorizeUser threw.
    /// Never throws synchronously.
    #[napi(catch_unwind, ts_args_type = "token: string", ts_return_type = "Promise<JwtClaims>")]
    pub fn verify<'env>(&self, env: &'env Env, token: Unknown<'env>) -> Result<Unknown<'env>> {
        let raw_env = env.raw();
        unsafe {
            let (deferred, promise) = self.channel.create_promise(raw_env);
            match self.read_token(raw_env, token.raw()) {
                Err(error) => {
                    self.core.count_refused_input();
                    self.channel.shared().settle(raw_env, deferred, Err(error), false);
                }
                Ok(token) => {
                    if let Some(claims) = self.core.verify_cached(&token) {
                        self.channel.shared().settle(raw_env, deferred, Ok(claims), true);
                    } else {
                        self.channel.begin_job(raw_env);
                        self.spawn(token, deferred);
                    }
                }
            }
            Ok(Unknown::from_raw_unchecked(raw_env, promise))
        }
    }

    /// The synchronous fast path of `verify`: the claims (a fresh object) when `token` is in
    /// the verified-token cache and would pass a fresh verification right now, `null`
    /// otherwise. `null` says nothing about validity: call `verify` for the answer. Always
    /// `null` while an authorizeUser hook is set (the hook may be async). Never throws.
    #[napi(catch_unwind, ts_args_type = "token: string", ts_return_type = "JwtClaims | null")]
    pub fn verify_cached<'env>(&self, env: &'env Env, token: Unknown<'env>) -> Result<Unknown<'env>> {
        let raw_env = env.raw();
        unsafe {
            let shared = self.channel.shared();
            // Refused input is neither answered nor counted here: the verify() that follows does.
            let value = token.raw();
            let claims = if shared.has_hook()
                || js::type_of(raw_env, value) != sys::ValueType::napi_string
                || js::utf16_len(raw_env, value) > self.core.config.max_token_length
            {
                None
            } else {
                js::with_utf8(raw_env, value, |token| self.core.verify_cached(token))
                    .flatten()
                    .and_then(|json| shared.claims_of_hit(raw_env, &json).ok())
            };
            Ok(Unknown::from_raw_unchecked(raw_env, claims.unwrap_or_else(|| js::null(raw_env))))
        }
    }

    /// Sets (or with null/undefined, removes) the hook run after every successful
    /// verification: only a return value (or resolution) of exactly `true` allows.
    #[napi(catch_unwind, ts_args_type = "hook: ((claims: JwtClaims) => boolean | Promise<boolean>) | null | undefined")]
    pub fn set_authorize_user(&self, env: Env, hook: Unknown) -> Result<()> {
        let raw_env = env.raw();
        unsafe {
            match options::function_or_nothing(raw_env, hook.raw(), "authorizeUser") {
                Ok(hook) => {
                    self.channel.shared().set_hook(raw_env, hook);
                    Ok(())
                }
                Err(message) => {
                    js::throw_with_code(raw_env, "ERR_INVALID_OPTIONS", &message);
                    Err(Error::from_status(Status::PendingException))
                }
            }
        }
    }

    /// Counters for monitoring: verifications, cache hits/misses, JWKS fetches.
    #[napi]
    pub fn stats(&self) -> VerifierStats {
        let s = self.core.stats();
        VerifierStats {
            verifies: s.verifies as f64,
            succeeded: s.succeeded as f64,
            failed: s.failed as f64,
            cache_hits: s.cache_hits as f64,
            cache_misses: s.cache_misses as f64,
            cache_size: s.cache_size as f64,
            jwks_fetches: s.jwks_fetches as f64,
            jwks_fetch_failures: s.jwks_fetch_failures as f64,
            jwks_refetches: s.jwks_refetches as f64,
            stale_serves: s.stale_serves as f64,
            keys: s.keys as f64,
        }
    }

    /// The exact `iss` value tokens must carry.
    #[napi(getter)]
    pub fn issuer(&self) -> String {
        self.core.config.issuer.clone()
    }

    /// Accepted audiences; a token passes when its `aud` holds any one of them.
    #[napi(getter)]
    pub fn audiences(&self) -> Vec<String> {
        self.core.config.audiences.clone()
    }

    /// The realm used in WWW-Authenticate challenges.
    #[napi(getter)]
    pub fn realm(&self) -> String {
        self.core.config.realm.clone()
    }

    /// Where keys are fetched from.
    #[napi(getter)]
    pub fn jwks_uri(&self) -> String {
        self.core.config.jwks.uri.clone()
    }
}

impl Auth0Verifier {
    /// Copies the token out of JS, refusing oversized strings before copying them.
    unsafe fn read_token(&self, env: js::RawEnv, value: RawValue) -> std::result::Result<String, VerifyError> {
        match js::type_of(env, value) {
            sys::ValueType::napi_string => {}
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => {
                return Err(VerifyError::new(ErrorKind::TokenMissing, "no access token was provided"))
            }
            _ => return Err(VerifyError::malformed("token must be a string")),
        }
        let max = self.core.config.max_token_length;
        // The O(1) length first, so a huge string is refused without being scanned.
        if js::utf16_len(env, value) > max {
            return Err(VerifyError::too_long(max));
        }
        let len = js::utf8_len(env, value);
        if len > max {
            return Err(VerifyError::too_long(max));
        }
        js::read_utf8(env, value, len).ok_or_else(|| VerifyError::malformed("token is not valid UTF-8"))
    }

    fn spawn(&self, token: String, deferred: Deferred) {
        let core = self.core.clone();
        let guard = CompletionGuard { channel: self.channel.clone(), deferred, done: false };
        runtime().spawn(async move {
            let mut guard = guard;
            let result = core.verify(&token).await;
            guard.done = true;
            guard.channel.complete(guard.deferred, result);
        });
    }
}

/// Settles the promise with an internal error if a job ends without a result (a panic
/// inside verification): a promise must never hang and a panic must never reach Node.
struct CompletionGuard {
    channel: Arc<Channel>,
    deferred: Deferred,
    done: bool,
}

impl Drop for CompletionGuard {
    fn drop(&mut self) {
        if !self.done {
            self.channel.complete(
                self.deferred,
                Err(VerifyError::new(ErrorKind::Internal, "internal error while verifying the token")),
            );
        }
    }
}
