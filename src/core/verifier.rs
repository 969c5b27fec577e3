//! The verification pipeline: token shape -> header -> key -> signature -> payload ->
//! claims, plus the verified-token cache in front of it. No Node types here.

use crate::core::base64url;
use crate::core::claims;
use crate::core::errors::VerifyError;
use crate::core::json;
use crate::core::jwks_cache::{CachedKey, JwksCache};
use crate::core::options::Config;
use crate::core::stats::{bump, Stats, StatsSnapshot};
use crate::core::token;
use crate::core::token_buffers::TokenBuffers;
use crate::core::token_cache::{CacheHit, TokenCache};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Verifier {
    pub config: Config,
    jwks: Arc<JwksCache>,
    cache: TokenCache,
    buffers: TokenBuffers,
    stats: Arc<Stats>,
}

/// Seconds since the Unix epoch, as JWT NumericDates count them.
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Verifier {
    pub fn new(config: Config) -> Result<Verifier, String> {
        let stats = Arc::new(Stats::default());
        let jwks = Arc::new(JwksCache::new(config.jwks.clone(), stats.clone())?);
        let cache = TokenCache::new(config.token_cache_size);
        Ok(Verifier { config, jwks, cache, buffers: TokenBuffers::default(), stats })
    }

    /// The cached claims for `token` when a fresh verification would certainly accept it
    /// again; `None` means "verify it". Cheap and synchronous, so a hit can be answered on
    /// the caller's thread without a thread hop.
    pub fn verify_cached(&self, token: &str) -> Option<Arc<str>> {
        if !self.cache.enabled() || token.is_empty() || token.len() > self.config.max_token_length {
            return None;
        }
        let entry = self.cache.get(token, self.config.clock_tolerance_secs, unix_now)?;
        match self.jwks.cached_key(entry.kid(), entry.alg, &entry.key) {
            CachedKey::Serve { stale } => {
                if stale {
                    bump(&self.stats.stale_serves);
                }
            }
            // The full path refreshes the keys; the entry is replaced if it verifies again.
            CachedKey::Verify => return None,
            // Rotated out (or no longer the key its lookup picks): the full path decides.
            CachedKey::Gone => {
                self.cache.remove(token);
                return None;
            }
        }
        bump(&self.stats.verifies);
        bump(&self.stats.cache_hits);
        bump(&self.stats.succeeded);
        Some(entry.claims_json)
    }

    /// Counts a verify whose input was refused before it reached the pipeline (not a
    /// string, too long to copy), so `stats()` covers every call.
    pub fn count_refused_input(&self) {
        bump(&self.stats.verifies);
        bump(&self.stats.failed);
    }

    /// An owned copy of `token` to pass to `verify`, in a recycled buffer (see token_buffers).
    pub fn token_copy(&self, token: &str) -> String {
        self.buffers.copy_of(token)
    }

    /// Full verification; resolves to the payload JSON exactly as signed. Takes the token
    /// by value so that a verified one moves into the cache instead of being copied again.
    pub async fn verify(&self, token: String) -> Result<Arc<str>, VerifyError> {
        bump(&self.stats.verifies);
        if self.cache.enabled() {
            bump(&self.stats.cache_misses);
        }
        let result = self.verify_uncached(&token).await;
        bump(if result.is_ok() { &self.stats.succeeded } else { &self.stats.failed });
        match result {
            Ok(verified) => {
                let claims_json = verified.claims_json.clone();
                self.cache.insert(token, verified, &self.buffers);
                Ok(claims_json)
            }
            Err(error) => {
                self.buffers.recycle(token);
                Err(error)
            }
        }
    }

    /// Ok: what the cache keeps for the token (its claims JSON, expiry and key).
    async fn verify_uncached(&self, token: &str) -> Result<CacheHit, VerifyError> {
        let config = &self.config;
        let parsed = token::parse(token, config.max_token_length, &config.algorithms)?;
        let alg = parsed.header.alg;
        let key = self.jwks.key_for(parsed.header.kid.as_deref(), alg).await?;
        if !key.verify(alg, parsed.signing_input.as_bytes(), &parsed.signature) {
            return Err(VerifyError::new(crate::core::errors::ErrorKind::SignatureInvalid, "token signature is invalid"));
        }
        let payload_bytes = base64url::decode(parsed.payload_b64)
            .ok_or_else(|| VerifyError::malformed("token payload is not valid base64url"))?;
        let payload = json::parse_members(&payload_bytes)
            .map_err(|e| VerifyError::malformed(format!("token payload is not a valid JSON object: {e}")))?;
        let lifetime = claims::validate(&payload, config, unix_now())?;
        let kid_in_token = parsed.header.kid.is_some();
        // parse_members accepted it, so it is valid UTF-8.
        let claims_json: Arc<str> = String::from_utf8(payload_bytes)
            .map_err(|_| VerifyError::malformed("token payload is not UTF-8"))?
            .into();
        Ok(CacheHit { claims_json, exp: lifetime.exp, not_before: lifetime.not_before, key, alg, kid_in_token })
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot(self.cache.len(), self.jwks.key_count())
    }
}
