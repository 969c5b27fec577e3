//! `verify` and `verifyCached` as raw N-API work, shared by the class methods and the
//! per-instance bound functions (see bound_methods). Everything here runs once per request
//! on the JavaScript thread, so it talks to N-API directly and allocates only on a miss.

use crate::binding::completion::{Channel, Deferred, Source};
use crate::binding::dispatch::{self, Request};
use crate::binding::js::{self, RawEnv, RawValue};
use crate::core::errors::{ErrorKind, VerifyError};
use crate::core::verifier::Verifier;
use napi::sys;
use std::sync::Arc;

/// One verifier as the JS thread sees it: the core and its completion channel.
pub struct VerifierHandle {
    pub core: Arc<Verifier>,
    pub channel: Arc<Channel>,
}

impl VerifierHandle {
    /// `verify(token)`: a promise, settled right away on a cache hit or a refused input,
    /// else after verification on the pool. Never throws.
    pub unsafe fn verify(&self, env: RawEnv, token: RawValue) -> RawValue {
        let (deferred, promise) = self.channel.create_promise(env);
        let shared = self.channel.shared();
        // Input refused before the pipeline: answered now, still counted.
        let refuse = |error: VerifyError| {
            self.core.count_refused_input();
            shared.settle(env, deferred, Err(error), Source::Verified(None));
        };
        let units = match self.check_token(env, token) {
            Ok(units) => units,
            Err(error) => {
                refuse(error);
                return promise;
            }
        };
        let max = self.core.config.max_token_length;
        let handled = js::with_utf8(env, token, units, |text| {
            if text.len() > max {
                // Within the limit in UTF-16 units, over it in UTF-8 bytes.
                return refuse(VerifyError::too_long(max));
            }
            match self.core.verify_cached(text) {
                Some(claims) => shared.settle(env, deferred, Ok(claims), Source::CacheHit),
                None => {
                    self.channel.begin_job(env);
                    self.submit(self.core.token_copy(text), deferred);
                }
            }
        });
        if handled.is_none() {
            // V8 strings always convert (lone surrogates become U+FFFD); kept for safety.
            refuse(VerifyError::malformed("token is not valid UTF-8"));
        }
        promise
    }

    /// `verifyCached(token)`: the claims (a fresh object) of a cached token that a fresh
    /// verification would accept right now, else `null` (also while an authorizeUser hook
    /// is set: the hook may be async). Never throws, never does I/O.
    pub unsafe fn verify_cached(&self, env: RawEnv, token: RawValue) -> RawValue {
        let shared = self.channel.shared();
        // Refused input is neither answered nor counted here: the verify() that follows does.
        let units = if shared.has_hook() { None } else { self.check_token(env, token).ok() };
        units
            .and_then(|units| js::with_utf8(env, token, units, |text| self.core.verify_cached(text)).flatten())
            .and_then(|json| shared.claims_of_hit(env, &json).ok())
            .unwrap_or_else(|| js::null(env))
    }

    /// Refuses what is not a token before anything is copied: not a string, or longer
    /// than `maxTokenLength` in UTF-16 units (O(1), and a lower bound of the UTF-8 length,
    /// so a huge string is refused without being scanned). Ok: that UTF-16 length.
    unsafe fn check_token(&self, env: RawEnv, value: RawValue) -> Result<usize, VerifyError> {
        match js::type_of(env, value) {
            sys::ValueType::napi_string => {}
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => {
                return Err(VerifyError::new(ErrorKind::TokenMissing, "no access token was provided"))
            }
            _ => return Err(VerifyError::malformed("token must be a string")),
        }
        let max = self.core.config.max_token_length;
        let units = js::utf16_len(env, value);
        if units > max {
            return Err(VerifyError::too_long(max));
        }
        Ok(units)
    }

    fn submit(&self, token: String, deferred: Deferred) {
        dispatch::submit(Request { core: self.core.clone(), token, channel: self.channel.clone(), deferred });
    }
}

/// What a verify promise rejects with when our own code failed (a panic): never expected.
pub fn internal_error() -> VerifyError {
    VerifyError::new(ErrorKind::Internal, "internal error while verifying the token")
}
