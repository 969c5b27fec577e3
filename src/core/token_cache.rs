//! Verified-token cache: the whole token -> its verified claims.
//!
//! Looked up on the JS thread for every verify, so the lookup must cost next to nothing:
//! entries are found by a fast 64-bit fingerprint and then confirmed by comparing the
//! whole token (a fingerprint collision is a miss, never someone else's claims). A SHA-256
//! digest key measured ~10% of a cache hit's JS-thread time; the full-token compare is
//! just as collision-proof.
//!
//! An entry is only served while (a) the token's `exp`, `nbf` and `iat` pass the same rules a
//! fresh verify applies (the clock may step back) and (b) the JWKS would still pick the exact
//! key that verified it (checked by the caller); anything else is a miss and goes through full
//! verification. Only successes are cached.
//! Bounded by entry count with FIFO eviction (a hit needs no bookkeeping write).

use crate::core::algorithms::Algorithm;
use crate::core::claims::{is_before_expiry, is_not_before};
use crate::core::fingerprint::Fingerprint;
use crate::core::keys::VerifyingKey;
use crate::core::token_buffers::TokenBuffers;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

/// How many trailing bytes of a token its fingerprint reads.
const FINGERPRINT_TAIL: usize = 32;

/// The token's fingerprint: its length, then its last 32 bytes (see core::fingerprint).
/// A JWS ends in its signature, and only verified tokens are ever inserted, so those bytes
/// are as good as random for every token that can be in the cache: 24 bytes of signature
/// are 192 bits, more than the 64 the fingerprint keeps. Mixing all ~860 bytes cost about
/// 160-170 ns per lookup on the benchmark VM, a sixth of a cache hit, and bought nothing.
/// `get` confirms every candidate with a full comparison, so tokens that share a tail
/// (only a forged one can share a valid token's) cost a miss, never another token's claims.
pub fn fingerprint(token: &str) -> u64 {
    let bytes = token.as_bytes();
    let mut hash = Fingerprint::seeded(bytes.len() as u64);
    hash.mix_bytes(&bytes[bytes.len().saturating_sub(FINGERPRINT_TAIL)..]);
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
    /// A recycled buffer (see token_buffers): its capacity may exceed the token.
    token: String,
    hit: CacheHit,
    /// Which element of `order` is this entry's: older elements of the same fingerprint
    /// (left by a removal and a later insert) are dead.
    seq: u64,
}

/// What a hit yields.
#[derive(Clone)]
pub struct CacheHit {
    /// The verified payload JSON, exactly as signed.
    pub claims_json: Arc<str>,
    pub exp: f64,
    /// The later of `nbf` and `iat` (NEG_INFINITY when neither is present).
    pub not_before: f64,
    pub key: Arc<VerifyingKey>,
    /// How the token asked for its key, to repeat the lookup a fresh verify makes.
    pub alg: Algorithm,
    pub kid_in_token: bool,
}

impl CacheHit {
    /// The `kid` a fresh verification of this token looks its key up by.
    pub fn kid(&self) -> Option<&str> {
        if self.kid_in_token {
            self.key.kid.as_deref()
        } else {
            None
        }
    }
}

pub struct TokenCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
    /// Insertion order for eviction: (fingerprint, seq). Elements whose entry is gone or
    /// has another seq are dead and skipped; compaction keeps one element per entry.
    order: VecDeque<(u64, u64)>,
    next_seq: u64,
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
        let now = now();
        if is_before_expiry(entry.hit.exp, tolerance, now) && is_not_before(entry.hit.not_before, tolerance, now) {
            return Some(entry.hit.clone());
        }
        // Expired, or not valid yet after the clock stepped back: a fresh verify decides.
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
    /// Tokens it displaces (and this one, when the cache is off) go back to `buffers`.
    pub fn insert(&self, token: String, hit: CacheHit, buffers: &TokenBuffers) {
        if self.capacity == 0 {
            buffers.recycle(token);
            return;
        }
        let fp = fingerprint(&token);
        // The JS thread looks up under this lock on every verify: build the entry before
        // taking it, and free what it displaces after releasing it.
        let mut entry = Entry { token, hit, seq: 0 };
        let mut displaced = Vec::new();
        {
            let mut inner = self.lock();
            let Inner { entries, order, next_seq } = &mut *inner;
            let live = |entries: &HashMap<u64, Entry, _>, (fp, seq): (u64, u64)| entries.get(&fp).is_some_and(|e| e.seq == seq);
            while entries.len() >= self.capacity && !entries.contains_key(&fp) {
                match order.pop_front() {
                    Some(oldest) if live(entries, oldest) => displaced.extend(entries.remove(&oldest.0)),
                    Some(_) => {}
                    None => break,
                }
            }
            entry.seq = *next_seq;
            *next_seq += 1;
            order.push_back((fp, entry.seq));
            // The same token again (or a fingerprint collision) replaces the older entry; its
            // element in `order` is dead from now on.
            displaced.extend(entries.insert(fp, entry));
            // Removals and replacements leave dead elements in `order`; compact so it stays
            // proportional to the bound.
            if order.len() > self.capacity.saturating_mul(2).max(64) {
                order.retain(|&element| live(entries, element));
            }
        }
        for entry in displaced {
            buffers.recycle(entry.token);
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

    fn entry(exp: f64, key: &Arc<VerifyingKey>) -> CacheHit {
        CacheHit { claims_json: Arc::from("{}"), exp, not_before: f64::NEG_INFINITY, key: key.clone(), alg: Algorithm::RS256, kid_in_token: true }
    }

    #[test]
    fn fingerprints_differ_per_token() {
        assert_ne!(fingerprint("a.b.c"), fingerprint("a.b.d"));
        assert_ne!(fingerprint("aaaaaaaa.b"), fingerprint("aaaaaaab.b"));
        assert_eq!(fingerprint("a.b.c"), fingerprint("a.b.c"));
        // Past the tail, only the length and the last 32 bytes count.
        let tail = "s".repeat(FINGERPRINT_TAIL);
        assert_eq!(fingerprint(&format!("header.AAAA.{tail}")), fingerprint(&format!("header.BBBB.{tail}")));
        assert_ne!(fingerprint(&format!("header.AAAA.{tail}")), fingerprint(&format!("header.AAAAA.{tail}")));
        assert_ne!(fingerprint(&format!("header.AAAA.{tail}x")), fingerprint(&format!("header.AAAA.{tail}y")));
    }

    #[test]
    fn tokens_sharing_a_tail_never_answer_for_each_other() {
        let cache = TokenCache::new(10);
        let k = key();
        let tail = "signature-tail-".repeat(4);
        let (a, b) = (format!("h.payload-a.{tail}"), format!("h.payload-b.{tail}"));
        assert_eq!(fingerprint(&a), fingerprint(&b));
        cache.insert(a.as_str().into(), entry(1e12, &k), &TokenBuffers::default());
        assert!(cache.get(&b, 0.0, || 0.0).is_none());
        assert!(cache.get(&a, 0.0, || 0.0).is_some());
        cache.remove(&b);
        assert!(cache.get(&a, 0.0, || 0.0).is_some(), "removing b must not remove a");
    }

    #[test]
    fn a_fingerprint_collision_is_a_miss_never_another_tokens_claims() {
        let cache = TokenCache::new(10);
        let k = key();
        cache.insert("token-a".into(), entry(1e12, &k), &TokenBuffers::default());
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
        cache.insert("token-a".into(), entry(1e12, &key()), &TokenBuffers::default());
        let no_clock = || -> f64 { panic!("the clock was read on a miss") };
        assert!(cache.get("token-b", 0.0, no_clock).is_none());
        assert!(cache.get("token-a", 0.0, || 0.0).is_some());
    }

    #[test]
    fn entries_expire_with_the_token() {
        let cache = TokenCache::new(10);
        let k = key();
        cache.insert("t".into(), entry(1000.0, &k), &TokenBuffers::default());
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
            cache.insert(i.to_string(), entry(1e12, &k), &TokenBuffers::default());
            assert!(cache.len() <= 3);
        }
        assert!(cache.get("9", 0.0, || 0.0).is_some());
        assert!(cache.get("0", 0.0, || 0.0).is_none());
        for i in 0..1000 {
            cache.insert(i.to_string(), entry(1e12, &k), &TokenBuffers::default());
            cache.remove(&i.to_string());
        }
        assert!(cache.lock().order.len() <= 64);
    }

    #[test]
    fn a_token_removed_and_inserted_again_keeps_one_live_place_in_the_order() {
        let cache = TokenCache::new(3);
        let k = key();
        for t in ["hot", "a", "b"] {
            cache.insert(t.into(), entry(1e12, &k), &TokenBuffers::default());
        }
        // What a miss that verifies again does: the old place in `order` is dead now.
        cache.remove("hot");
        cache.insert("hot".into(), entry(1e12, &k), &TokenBuffers::default());
        cache.insert("c".into(), entry(1e12, &k), &TokenBuffers::default());
        assert!(cache.get("hot", 0.0, || 0.0).is_some(), "the dead place must not evict the live entry");
        assert!(cache.get("a", 0.0, || 0.0).is_none(), "the oldest live entry goes first");
        // A hot token verified again and again (say, through a JWKS refresh) never grows
        // the order past its bound, whether it was removed first or simply replaced.
        for i in 0..100_000 {
            if i % 2 == 0 {
                cache.remove("hot");
            }
            cache.insert("hot".into(), entry(1e12, &k), &TokenBuffers::default());
            assert!(cache.lock().order.len() <= 65);
        }
        assert_eq!(cache.len(), 3);
        let inner = cache.lock();
        assert_eq!(inner.order.iter().filter(|&&(fp, seq)| inner.entries.get(&fp).is_some_and(|e| e.seq == seq)).count(), 3);
    }

    #[test]
    fn entries_follow_nbf_and_iat_when_the_clock_steps_back() {
        let cache = TokenCache::new(10);
        let k = key();
        let hit = CacheHit { not_before: 1000.0, ..entry(1e12, &k) };
        cache.insert("t".into(), hit.clone(), &TokenBuffers::default());
        assert!(cache.get("t", 5.0, || 995.0).is_some(), "within the tolerance, as a fresh verify");
        assert!(cache.get("t", 5.0, || 994.9).is_none(), "a fresh verify would refuse it now");
        assert_eq!(cache.len(), 0);
        cache.insert("t".into(), hit, &TokenBuffers::default());
        assert!(cache.get("t", 5.0, || 2000.0).is_some());
    }

    #[test]
    fn disabled_cache_stores_nothing() {
        let cache = TokenCache::new(0);
        cache.insert("t".into(), entry(1e12, &key()), &TokenBuffers::default());
        assert_eq!(cache.len(), 0);
    }
}
