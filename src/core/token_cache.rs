//! Verified-token cache: SHA-256 of the whole token -> the verified claims.
//!
//! Keyed by digest so the cache never holds bearer tokens themselves. An entry is only
//! served while (a) the token's own `exp` passes the same expiry rule a fresh verify
//! applies and (b) the exact key that verified it is still in the fresh JWKS; anything
//! else is a miss and goes through full verification. Only successes are cached.
//! Bounded by entry count with FIFO eviction (a hit needs no bookkeeping write).

use crate::core::claims::is_before_expiry;
use crate::core::keys::VerifyingKey;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

pub type Digest = [u8; 32];

pub fn digest(token: &str) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[derive(Clone)]
pub struct CachedToken {
    /// The verified payload JSON, exactly as signed.
    pub claims_json: Arc<str>,
    pub exp: f64,
    pub key: Arc<VerifyingKey>,
}

pub struct TokenCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Digest, CachedToken>,
    /// Insertion order for eviction; may hold digests already removed (skipped on pop).
    order: VecDeque<Digest>,
}

impl TokenCache {
    pub fn new(capacity: usize) -> TokenCache {
        TokenCache { capacity, inner: Mutex::new(Inner::default()) }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached entry if it is still within its lifetime; expired entries are dropped.
    /// Key validity is the caller's check (it needs the JWKS state).
    pub fn get(&self, digest: &Digest, tolerance: f64, now: f64) -> Option<CachedToken> {
        let mut inner = self.lock();
        let entry = inner.entries.get(digest)?;
        if is_before_expiry(entry.exp, tolerance, now) {
            return Some(entry.clone());
        }
        inner.entries.remove(digest);
        None
    }

    pub fn remove(&self, digest: &Digest) {
        self.lock().entries.remove(digest);
    }

    pub fn insert(&self, digest: Digest, entry: CachedToken) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        let Inner { entries, order } = &mut *inner;
        while entries.len() >= self.capacity && !entries.contains_key(&digest) {
            match order.pop_front() {
                Some(oldest) => {
                    entries.remove(&oldest);
                }
                None => break,
            }
        }
        if entries.insert(digest, entry).is_none() {
            order.push_back(digest);
        }
        // Removals outside eviction leave dead digests in `order`; compact so it stays
        // proportional to the bound.
        if order.len() > self.capacity.saturating_mul(2).max(64) {
            order.retain(|d| entries.contains_key(d));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keys::parse_jwks;

    fn key() -> Arc<VerifyingKey> {
        let n = crate::core::base64url::encode(&[0xc5u8; 256]);
        let doc = format!(r#"{{"keys":[{{"kty":"RSA","kid":"a","n":"{n}","e":"AQAB"}}]}}"#);
        let set = parse_jwks(doc.as_bytes()).unwrap();
        match set.lookup(Some("a"), crate::core::algorithms::Algorithm::RS256) {
            crate::core::keys::KeyLookup::Found(k) => k,
            _ => panic!(),
        }
    }

    fn entry(exp: f64, key: &Arc<VerifyingKey>) -> CachedToken {
        CachedToken { claims_json: Arc::from("{}"), exp, key: key.clone() }
    }

    #[test]
    fn digests_differ_per_token() {
        assert_ne!(digest("a.b.c"), digest("a.b.d"));
        assert_eq!(digest("a.b.c"), digest("a.b.c"));
    }

    #[test]
    fn entries_expire_with_the_token() {
        let cache = TokenCache::new(10);
        let k = key();
        cache.insert(digest("t"), entry(1000.0, &k));
        assert!(cache.get(&digest("t"), 5.0, 990.0).is_some());
        assert!(cache.get(&digest("t"), 5.0, 1004.9).is_some());
        assert!(cache.get(&digest("t"), 5.0, 1005.0).is_none());
        assert_eq!(cache.len(), 0, "expired entry dropped");
    }

    #[test]
    fn bounded_with_fifo_eviction() {
        let cache = TokenCache::new(3);
        let k = key();
        for i in 0..10 {
            cache.insert(digest(&i.to_string()), entry(1e12, &k));
            assert!(cache.len() <= 3);
        }
        assert!(cache.get(&digest("9"), 0.0, 0.0).is_some());
        assert!(cache.get(&digest("0"), 0.0, 0.0).is_none());
        for i in 0..1000 {
            cache.insert(digest(&i.to_string()), entry(1e12, &k));
            cache.remove(&digest(&i.to_string()));
        }
        assert!(cache.lock().order.len() <= 64);
    }

    #[test]
    fn disabled_cache_stores_nothing() {
        let cache = TokenCache::new(0);
        cache.insert(digest("t"), entry(1e12, &key()));
        assert_eq!(cache.len(), 0);
    }
}
