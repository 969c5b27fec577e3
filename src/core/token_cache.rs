//! Verified-token cache: the whole token -> its verified claims.
//!
//! Looked up on the JS thread for every verify, so the lookup must cost next to nothing:
//! entries are found by a fast 64-bit fingerprint and then confirmed by comparing the
//! whole token (a fingerprint collision is a miss, never someone else's claims). A SHA-256
//! digest key measured ~10% of a cache hit's JS-thread time; the full-token compare is
//! just as collision-proof.
//!
//! An entry is only served while (a) the token's own `exp` passes the same expiry rule a
//! fresh verify applies and (b) the exact key that verified it is still in the fresh JWKS;
//! anything else is a miss and goes through full verification. Only successes are cached.
//! Bounded by entry count with FIFO eviction (a hit needs no bookkeeping write).

use crate::core::claims::is_before_expiry;
use crate::core::fingerprint::Fingerprint;
use crate::core::keys::VerifyingKey;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

/// The token's fingerprint: its length, then its bytes (see core::fingerprint). `get`
/// confirms every candidate with a full comparison.
pub fn fingerprint(token: &str) -> u64 {
    let mut hash = Fingerprint::seeded(token.len() as u64);
    hash.mix_bytes(token.as_bytes());
    hash.finish()
}

/// The map key is already a fingerprint: hashing it again (SipHash) would only cost time.
/// Only verified tokens are ever inserted, so nobody can flood one bucket.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Entry {
    token: Box<str>,
    hit: CacheHit,
}

/// What a hit yields.
#[derive(Clone)]
pub struct CacheHit {
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
    entries: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
    /// Insertion order for eviction; may hold fingerprints already removed (skipped on pop).
    order: VecDeque<u64>,
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

    /// The cached entry for exactly this token if it is still within its lifetime; an
    /// expired entry is dropped. Key validity is the caller's check (it needs the JWKS).
    /// `now` is only asked for when the token is found: a miss never reads the clock.
    pub fn get(&self, token: &str, tolerance: f64, now: impl FnOnce() -> f64) -> Option<CacheHit> {
        let fp = fingerprint(token);
        let mut inner = self.lock();
        let entry = inner.entries.get(&fp)?;
        if &*entry.token != token {
            return None;
        }
        if is_before_expiry(entry.hit.exp, tolerance, now()) {
            return Some(entry.hit.clone());
        }
        inner.entries.remove(&fp);
        None
    }

    pub fn remove(&self, token: &str) {
        let fp = fingerprint(token);
        let mut inner = self.lock();
        if inner.entries.get(&fp).is_some_and(|e| &*e.token == token) {
            inner.entries.remove(&fp);
        }
    }

    /// Takes the token by value: the copy made to hand it to a worker becomes the entry's.
    pub fn insert(&self, token: Box<str>, hit: CacheHit) {
        if self.capacity == 0 {
            return;
        }
        let fp = fingerprint(&token);
        // The JS thread looks up under this lock on every verify: build the entry before
        // taking it, and free what it displaces after releasing it.
        let entry = Entry { token, hit };
        let mut displaced = Vec::new();
        {
            let mut inner = self.lock();
            let Inner { entries, order } = &mut *inner;
            while entries.len() >= self.capacity && !entries.contains_key(&fp) {
                match order.pop_front() {
                    Some(oldest) => displaced.extend(entries.remove(&oldest)),
                    None => break,
                }
            }
            // A fingerprint collision replaces the older token: still correct, just a miss later.
            match entries.insert(fp, entry) {
                Some(old) => displaced.push(old),
                None => order.push_back(fp),
            }
            // Removals outside eviction leave dead fingerprints in `order`; compact so it stays
            // proportional to the bound.
            if order.len() > self.capacity.saturating_mul(2).max(64) {
                order.retain(|d| entries.contains_key(d));
            }
        }
        drop(displaced);
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

    fn entry(exp: f64, key: &Arc<VerifyingKey>) -> CacheHit {
        CacheHit { claims_json: Arc::from("{}"), exp, key: key.clone() }
    }

    #[test]
    fn fingerprints_differ_per_token() {
        assert_ne!(fingerprint("a.b.c"), fingerprint("a.b.d"));
        assert_ne!(fingerprint("aaaaaaaa.b"), fingerprint("aaaaaaab.b"));
        assert_eq!(fingerprint("a.b.c"), fingerprint("a.b.c"));
    }

    #[test]
    fn a_fingerprint_collision_is_a_miss_never_another_tokens_claims() {
        let cache = TokenCache::new(10);
        let k = key();
        cache.insert("token-a".into(), entry(1e12, &k));
        // Forge a collision by planting the entry under token-b's fingerprint.
        {
            let mut inner = cache.lock();
            let planted = inner.entries.remove(&fingerprint("token-a")).unwrap();
            inner.entries.insert(fingerprint("token-b"), planted);
        }
        assert!(cache.get("token-b", 0.0, || 0.0).is_none());
    }

    #[test]
    fn a_miss_never_reads_the_clock() {
        let cache = TokenCache::new(10);
        cache.insert("token-a".into(), entry(1e12, &key()));
        let no_clock = || -> f64 { panic!("the clock was read on a miss") };
        assert!(cache.get("token-b", 0.0, no_clock).is_none());
        assert!(cache.get("token-a", 0.0, || 0.0).is_some());
    }

    #[test]
    fn entries_expire_with_the_token() {
        let cache = TokenCache::new(10);
        let k = key();
        cache.insert("t".into(), entry(1000.0, &k));
        assert!(cache.get("t", 5.0, || 990.0).is_some());
        assert!(cache.get("t", 5.0, || 1004.9).is_some());
        assert!(cache.get("t", 5.0, || 1005.0).is_none());
        assert_eq!(cache.len(), 0, "expired entry dropped");
    }

    #[test]
    fn bounded_with_fifo_eviction() {
        let cache = TokenCache::new(3);
        let k = key();
        for i in 0..10 {
            cache.insert(i.to_string().into(), entry(1e12, &k));
            assert!(cache.len() <= 3);
        }
        assert!(cache.get("9", 0.0, || 0.0).is_some());
        assert!(cache.get("0", 0.0, || 0.0).is_none());
        for i in 0..1000 {
            cache.insert(i.to_string().into(), entry(1e12, &k));
            cache.remove(&i.to_string());
        }
        assert!(cache.lock().order.len() <= 64);
    }

    #[test]
    fn disabled_cache_stores_nothing() {
        let cache = TokenCache::new(0);
        cache.insert("t".into(), entry(1e12, &key()));
        assert_eq!(cache.len(), 0);
    }
}
