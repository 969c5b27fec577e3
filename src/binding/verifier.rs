//! The `Auth0Verifier` class as JavaScript sees it. Conversion only: every decision is
//! made in `crate::core`.

use crate::binding::bound_methods;
use crate::binding::completion::Channel;
use crate::binding::hot_path::VerifierHandle;
use crate::binding::js;
use crate::binding::options;
use crate::binding::runtime::runtime;
use crate::core::options::Config;
use crate::core::verifier::Verifier;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// Verifies Auth0-issued JWT access tokens (RS256 by default) against the tenant's JWKS.
#[napi]
pub struct Auth0Verifier {
    handle: Arc<VerifierHandle>,
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
    /// Verifications (cache hits included) answered with keys past their freshness because a refresh was pending or failing.
    pub stale_serves: f64,
    /// Usable signing keys in the cached JWKS.
    pub keys: f64,
}

#[napi]
impl Auth0Verifier {
    /// Validates `options` (see Auth0VerifierOptions) and prepares the JWKS cache. Throws
    /// an Error with `code: 'ERR_INVALID_OPTIONS'` for bad options; makes no network call.
    #[napi(constructor, catch_unwind, ts_args_type = "options?: Auth0VerifierOptions")]
    pub fn new(env: Env, this: This, options: Unknown) -> Result<Self> {
        let raw_env = env.raw();
        let invalid = |message: String| {
            unsafe { js::throw_with_code(raw_env, "ERR_INVALID_OPTIONS", &format!("Auth0Verifier: {message}")) };
            Error::from_status(Status::PendingException)
        };
        let parsed = unsafe { options::read(raw_env, options.raw()) };
        // A getter or proxy trap of the options threw: that exception, not ours, is the answer.
        if unsafe { js::exception_pending(raw_env) } {
            return Err(Error::from_status(Status::PendingException));
        }
        let parsed = parsed.map_err(invalid)?;
        let config = Config::from_options(parsed.raw, |name| std::env::var(name).ok()).map_err(invalid)?;
        let realm = config.realm.clone();
        // Parsed-claims templates live as long as their cache entries (see claims_templates).
        let templates = config.token_cache_size;
        // reqwest's client wants a tokio context for its connection pool timers.
        let _guard = runtime().enter();
        let core = Verifier::new(config).map_err(invalid)?;
        let channel = unsafe { Channel::new(raw_env, realm, templates)? };
        let handle = Arc::new(VerifierHandle { core: Arc::new(core), channel: Arc::new(channel) });
        unsafe { bound_methods::install(raw_env, this.raw(), &handle)? };
        if let Some(hook) = parsed.authorize_user {
            unsafe { handle.channel.shared().set_hook(raw_env, Some(hook)) }.map_err(Error::from_reason)?;
        }
        Ok(Auth0Verifier { handle })
    }

    /// Verifies `token` (the bare JWT, without "Bearer "). Resolves with the verified
    /// claims; rejects with an Auth0VerifyError, or with whatever authorizeUser threw.
    /// Never throws synchronously when called on a verifier (on another receiver, napi-rs
    /// throws a TypeError, as built-in class methods do).
    #[napi(catch_unwind, ts_args_type = "token: string", ts_return_type = "Promise<JwtClaims>")]
    pub fn verify<'env>(&self, env: &'env Env, token: Unknown<'env>) -> Result<Unknown<'env>> {
        // Instances call the bound copy (bound_methods); this one serves odd receivers.
        unsafe { Ok(Unknown::from_raw_unchecked(env.raw(), self.handle.verify(env.raw(), token.raw()))) }
    }

    /// The synchronous fast path of `verify`: the claims (a fresh object) when `token` is in
    /// the verified-token cache and would pass a fresh verification right now, `null`
    /// otherwise. `null` says nothing about validity: call `verify` for the answer. Always
    /// `null` while an authorizeUser hook is set (the hook may be async). Never throws when
    /// called on a verifier.
    #[napi(catch_unwind, ts_args_type = "token: string", ts_return_type = "JwtClaims | null")]
    pub fn verify_cached<'env>(&self, env: &'env Env, token: Unknown<'env>) -> Result<Unknown<'env>> {
        unsafe { Ok(Unknown::from_raw_unchecked(env.raw(), self.handle.verify_cached(env.raw(), token.raw()))) }
    }

    /// Sets (or with null/undefined, removes) the hook run after every successful
    /// verification: only a return value (or resolution) of exactly `true` allows.
    #[napi(catch_unwind, ts_args_type = "hook: ((claims: JwtClaims) => boolean | Promise<boolean>) | null | undefined")]
    pub fn set_authorize_user(&self, env: Env, hook: Unknown) -> Result<()> {
        let raw_env = env.raw();
        unsafe {
            match options::function_or_nothing(raw_env, hook.raw(), "authorizeUser") {
                Ok(hook) => self.handle.channel.shared().set_hook(raw_env, hook).map_err(Error::from_reason),
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
        let s = self.handle.core.stats();
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
        self.handle.core.config.issuer.clone()
    }

    /// Accepted audiences; a token passes when its `aud` holds any one of them.
    #[napi(getter)]
    pub fn audiences(&self) -> Vec<String> {
        self.handle.core.config.audiences.clone()
    }

    /// Seconds of clock skew allowed for `exp`, `nbf` and `iat`.
    #[napi(getter)]
    pub fn clock_tolerance(&self) -> f64 {
        self.handle.core.config.clock_tolerance_secs
    }

    /// The realm used in WWW-Authenticate challenges.
    #[napi(getter)]
    pub fn realm(&self) -> String {
        self.handle.core.config.realm.clone()
    }

    /// Where keys are fetched from.
    #[napi(getter)]
    pub fn jwks_uri(&self) -> String {
        self.handle.core.config.jwks.uri.clone()
    }
}
