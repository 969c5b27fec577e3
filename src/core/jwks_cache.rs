//! The JWKS, fetched with reqwest and cached as parsed keys.
//!
//! - Fresh for `max_age` (Cache-Control may shorten it, never below `MIN_FRESH`).
//! - An unknown `kid` refetches at most once per `cooldown`, so random kids cannot make us
//!   hammer the issuer (Auth0 rate-limits the JWKS endpoint).
//! - Concurrent misses share one fetch: waiters queue on `fetch_lock` and, once inside,
//!   see from the attempt counter that the fetch they waited for already happened.
//! - When a refresh fails the last good keys keep serving known kids for `max_stale`
//!   past their freshness (an IdP outage should not become ours); expired-but-usable keys
//!   serve immediately while one background refresh runs.

use crate::core::algorithms::Algorithm;
use crate::core::errors::{ErrorKind, VerifyError};
use crate::core::keys::{parse_jwks, KeyLookup, KeySet, VerifyingKey};
use crate::core::options::JwksConfig;
use crate::core::stats::{bump, Stats};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Cache-Control can shorten freshness, but not below this: a `max-age=0` JWKS would
/// otherwise turn every request into a fetch.
const MIN_FRESH: Duration = Duration::from_secs(30);

/// What the token cache may do with an entry verified under a given key (see `cached_key`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CachedKey {
    /// Answer from the cache; `stale`: with keys past their freshness (counted as a stale serve).
    Serve { stale: bool },
    /// Verify in full (it may refresh the keys); the entry stays.
    Verify,
    /// The key no longer verifies this token: drop the entry and verify in full.
    Gone,
}

/// Why a fetch is attempted: only unknown-`kid` fetches count as refetches in `stats()`.
#[derive(Clone, Copy, PartialEq)]
enum Cause {
    /// A token's `kid` is not among usable keys.
    UnknownKid,
    /// No usable keys at all (first use, or they aged past max stale).
    NoUsableKeys,
    /// The keys are past their freshness; a routine refresh.
    Refresh,
}

pub struct JwksCache {
    config: JwksConfig,
    client: reqwest::Client,
    state: RwLock<State>,
    fetch_lock: tokio::sync::Mutex<()>,
    background_refresh: AtomicBool,
    stats: Arc<Stats>,
}

#[derive(Default)]
struct State {
    keys: Arc<KeySet>,
    /// Last successful fetch; `None` while cold.
    fetched_at: Option<Instant>,
    fresh_for: Duration,
    /// Last attempt, successful or not: the cooldown clock.
    last_attempt: Option<Instant>,
    /// Attempts so far; lets queued waiters tell that their fetch already ran.
    attempts: u64,
    last_error: Option<String>,
}

impl State {
    fn fresh(&self, now: Instant) -> bool {
        self.fetched_at.is_some_and(|t| now < t + self.fresh_for)
    }
    fn usable(&self, now: Instant, max_stale: Duration) -> bool {
        self.fetched_at.is_some_and(|t| now < t + self.fresh_for + max_stale)
    }
    /// Any fetch within the cooldown: blocks refetches for unknown kids.
    fn cooling_down(&self, now: Instant, cooldown: Duration) -> bool {
        self.last_attempt.is_some_and(|t| now < t + cooldown)
    }
    /// A failed fetch within the cooldown: blocks every fetch, including the routine
    /// refresh of expired keys (a successful fetch must not delay that one, or a removed
    /// key would outlive `max_age` whenever `max_age < cooldown`).
    fn failing(&self, now: Instant, cooldown: Duration) -> bool {
        self.last_error.is_some() && self.cooling_down(now, cooldown)
    }
}

impl JwksCache {
    pub fn new(config: JwksConfig, stats: Arc<Stats>) -> Result<JwksCache, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("auth0-native/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(same_origin_redirects())
            .build()
            .map_err(|e| format!("could not create the JWKS HTTP client: {e}"))?;
        Ok(JwksCache {
            config,
            client,
            state: RwLock::new(State::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
            background_refresh: AtomicBool::new(false),
            stats,
        })
    }

    pub fn key_count(&self) -> usize {
        self.read().keys.len()
    }

    /// Whether a token verified earlier with `key` may be answered from the token cache now,
    /// giving exactly what `key_for` would give a fresh verification of it.
    pub fn cached_key(&self, kid: Option<&str>, alg: Algorithm, key: &Arc<VerifyingKey>) -> CachedKey {
        let now = Instant::now();
        let s = self.read();
        if !s.keys.selects(kid, alg, key) {
            return CachedKey::Gone;
        }
        if s.fresh(now) {
            return CachedKey::Serve { stale: false };
        }
        // Past freshness: key_for serves these keys while they are usable, starting a
        // background refresh unless a failed attempt is cooling down. A cache hit cannot start
        // one (the JS thread is outside the runtime), so it leaves that verify to the full path
        // and serves stale only once a refresh is running or has just failed: through an
        // outage, hits keep being answered from the cache.
        let refreshing = self.background_refresh.load(Ordering::Acquire) || s.failing(now, self.config.cooldown);
        if s.usable(now, self.config.max_stale) && refreshing {
            CachedKey::Serve { stale: true }
        } else {
            CachedKey::Verify
        }
    }

    /// The key that verifies a token with this header, fetching the JWKS as needed.
    pub async fn key_for(self: &Arc<Self>, kid: Option<&str>, alg: Algorithm) -> Result<Arc<VerifyingKey>, VerifyError> {
        let now = Instant::now();
        let (lookup, fresh, usable, cooling, failing, attempts) = {
            let s = self.read();
            (
                s.keys.lookup(kid, alg),
                s.fresh(now),
                s.usable(now, self.config.max_stale),
                s.cooling_down(now, self.config.cooldown),
                s.failing(now, self.config.cooldown),
                s.attempts,
            )
        };
        if usable {
            if !fresh && !failing {
                self.refresh_in_background(attempts);
            }
            match lookup {
                KeyLookup::Found(key) => {
                    if !fresh {
                        bump(&self.stats.stale_serves);
                    }
                    return Ok(key);
                }
                KeyLookup::WrongType => return Err(wrong_type()),
                KeyLookup::Missing if cooling || kid.is_none() => return Err(key_not_found(kid)),
                KeyLookup::Missing => self.fetch_once(attempts, Cause::UnknownKid).await,
            }
        } else if failing {
            // Only a failed attempt blocks this fetch: keys that aged out after a successful
            // fetch within the cooldown (max age + max stale < cooldown) must be refetched,
            // or a healthy issuer would be reported unavailable until the cooldown ends.
            return Err(self.unavailable());
        } else {
            self.fetch_once(attempts, Cause::NoUsableKeys).await;
        }

        let s = self.read();
        if !s.usable(Instant::now(), self.config.max_stale) {
            drop(s);
            return Err(self.unavailable());
        }
        match s.keys.lookup(kid, alg) {
            KeyLookup::Found(key) => Ok(key),
            KeyLookup::WrongType => Err(wrong_type()),
            KeyLookup::Missing => Err(key_not_found(kid)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere mid-update of plain data; the
        // state is still consistent enough to read.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn unavailable(&self) -> VerifyError {
        let reason = self.read().last_error.clone().unwrap_or_else(|| "no keys could be loaded".into());
        VerifyError::new(ErrorKind::JwksUnavailable, format!("the issuer's JWKS is unavailable: {reason}"))
    }

    fn refresh_in_background(self: &Arc<Self>, attempts: u64) {
        if self.background_refresh.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            this.fetch_once(attempts, Cause::Refresh).await;
            this.background_refresh.store(false, Ordering::Release);
        });
    }

    /// Fetches unless another caller already made an attempt since we read `seen_attempts`
    /// (then this caller only waited for it, and counts as no fetch).
    async fn fetch_once(&self, seen_attempts: u64, cause: Cause) {
        let _guard = self.fetch_lock.lock().await;
        if self.read().attempts != seen_attempts {
            return;
        }
        bump(&self.stats.jwks_fetches);
        if cause == Cause::UnknownKid {
            bump(&self.stats.jwks_refetches);
        }
        let result = self.fetch().await;
        let now = Instant::now();
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        s.attempts += 1;
        s.last_attempt = Some(now);
        match result {
            Ok((keys, fresh_for)) => {
                s.keys = Arc::new(keys.reusing(&s.keys));
                s.fetched_at = Some(now);
                s.fresh_for = fresh_for;
                s.last_error = None;
            }
            Err(e) => {
                bump(&self.stats.jwks_fetch_failures);
                s.last_error = Some(e);
            }
        }
    }

    async fn fetch(&self) -> Result<(KeySet, Duration), String> {
        let uri = &self.config.uri;
        let mut response = self
            .client
            .get(uri)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| describe_http_error(&e, self.config.timeout))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{uri} answered HTTP {}", status.as_u16()));
        }
        let max_bytes = self.config.max_bytes;
        if response.content_length().is_some_and(|len| len > max_bytes as u64) {
            return Err(format!("{uri} sent more than {max_bytes} bytes"));
        }
        let header_max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(cache_control_max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe_http_error(&e, self.config.timeout))? {
            if body.len() + chunk.len() > max_bytes {
                return Err(format!("{uri} sent more than {max_bytes} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let keys = parse_jwks(&body).map_err(|e| format!("{uri}: {e}"))?;
        Ok((keys, effective_max_age(self.config.max_age, header_max_age)))
    }
}

fn wrong_type() -> VerifyError {
    VerifyError::new(ErrorKind::AlgNotAllowed, "the JWKS key for this kid cannot verify the token's alg")
}

fn key_not_found(kid: Option<&str>) -> VerifyError {
    let message = match kid {
        Some(_) => "no key in the issuer's JWKS matches the token's kid",
        None => "token has no kid and the JWKS has no single matching key",
    };
    VerifyError::new(ErrorKind::KeyNotFound, message)
}

fn describe_http_error(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("request timed out after {} ms", timeout.as_millis())
    } else if e.is_connect() {
        "could not connect to the JWKS endpoint".to_string()
    } else if e.is_redirect() {
        "the JWKS endpoint redirected too often or to another origin".to_string()
    } else {
        let mut msg = format!("request failed: {e}");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            msg.push_str(&format!(": {s}"));
            source = s.source();
        }
        msg
    }
}

/// Redirects are followed only within the same origin (scheme, host and port), at most
/// three times: the JWKS location must not be steerable to another host.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = {
            let first = &attempt.previous()[0];
            let next = attempt.url();
            first.scheme() == next.scheme()
                && first.host_str() == next.host_str()
                && first.port_or_known_default() == next.port_or_known_default()
        };
        if attempt.previous().len() > 3 {
            attempt.error("too many redirects")
        } else if same_origin {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// `max-age` from a Cache-Control value; `no-store`/`no-cache` count as zero.
pub fn cache_control_max_age(value: &str) -> Option<Duration> {
    let mut result = None;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(secs) = directive.strip_prefix("max-age=") {
            result = secs.trim_matches('"').parse::<u64>().ok().map(Duration::from_secs);
        }
    }
    result
}

/// The issuer can ask for a shorter cache life, never a longer one than configured, and
/// never shorter than `MIN_FRESH` (unless the configured maximum itself is shorter).
pub fn effective_max_age(configured: Duration, header: Option<Duration>) -> Duration {
    match header {
        None => configured,
        Some(h) => configured.min(h.max(MIN_FRESH)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_parsing() {
        assert_eq!(cache_control_max_age("public, max-age=15, stale-while-revalidate=15"), Some(Duration::from_secs(15)));
        assert_eq!(cache_control_max_age("MAX-AGE=600"), Some(Duration::from_secs(600)));
        assert_eq!(cache_control_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(cache_control_max_age("public"), None);
        assert_eq!(cache_control_max_age("max-age=abc"), None);
    }

    #[test]
    fn freshness_is_bounded() {
        let ten_min = Duration::from_secs(600);
        assert_eq!(effective_max_age(ten_min, None), ten_min);
        assert_eq!(effective_max_age(ten_min, Some(Duration::from_secs(120))), Duration::from_secs(120));
        assert_eq!(effective_max_age(ten_min, Some(Duration::from_secs(86400))), ten_min);
        assert_eq!(effective_max_age(ten_min, Some(Duration::ZERO)), MIN_FRESH);
        assert_eq!(effective_max_age(Duration::from_secs(2), Some(Duration::ZERO)), Duration::from_secs(2));
    }

    #[test]
    fn state_clocks() {
        let t = Instant::now();
        let s = State { fetched_at: Some(t), fresh_for: Duration::from_secs(10), last_attempt: Some(t), ..Default::default() };
        assert!(s.fresh(t + Duration::from_secs(9)));
        assert!(!s.fresh(t + Duration::from_secs(10)));
        assert!(s.usable(t + Duration::from_secs(15), Duration::from_secs(10)));
        assert!(!s.usable(t + Duration::from_secs(20), Duration::from_secs(10)));
        assert!(s.cooling_down(t + Duration::from_secs(1), Duration::from_secs(5)));
        assert!(!s.cooling_down(t + Duration::from_secs(5), Duration::from_secs(5)));
        assert!(!s.failing(t + Duration::from_secs(1), Duration::from_secs(5)), "a success is not a failure");
        let failed = State { last_error: Some("down".into()), ..s };
        assert!(failed.failing(t + Duration::from_secs(1), Duration::from_secs(5)));
        assert!(!failed.failing(t + Duration::from_secs(5), Duration::from_secs(5)));
        assert!(!State::default().usable(t, Duration::from_secs(1000)));
    }
}
