//! Parsed claims kept on the JS thread for tokens answered from the cache again and again.
//!
//! Every verify must hand out a fresh claims object (callers may mutate theirs). On a cache
//! hit, `JSON.parse` of the claims was about a third of the whole call; copying an already
//! parsed object is several times cheaper. So the first hit of a cache entry parses and keeps
//! the object as a template; later hits copy it, with the copier compiled for the payload's
//! shape (claims_builder) or, for payloads without one, `CLONE_SOURCE`.
//!
//! A template is keyed by the identity of the cache entry's claims `Arc`: the core hands out
//! that same `Arc` for as long as the entry lives, and claims are a pure function of the
//! token, so a template can never answer for another token. The `Arc` is held here, so its
//! address cannot be reused while the template exists.
//!
//! A template lives as long as its cache entry: once the core has dropped the entry, the `Arc`
//! held here is the last one, and the template is freed the next time the oldest templates are
//! looked at (a few per insert). So there are never many more templates than cache entries, and
//! no fixed, smaller bound under which a rotating set of hot tokens would evict every template
//! before its next use. `capacity` (the cache's size) is only a backstop. Only the JS thread
//! touches this (napi references must be created and deleted there).

use crate::binding::js::{self, RawEnv, RawValue};
use crate::core::fingerprint::FastHashMap;
use napi::sys;
use std::collections::VecDeque;
use std::sync::Arc;

/// Deep copy of a JSON.parse result. The spread creates every member as an own data property,
/// `__proto__` included (a plain `out[key] = ...` on an empty object would set the prototype
/// instead); writing the nested copies afterwards then hits those own properties.
pub const CLONE_SOURCE: &str = "(function copyClaims(value) {\n  'use strict';\n  if (typeof value !== 'object' || value === null) return value;\n  if (Array.isArray(value)) return value.map(copyClaims);\n  const out = { ...value };\n  for (const key of Object.keys(out)) {\n    const v = out[key];\n    if (typeof v !== 'object' || v === null) continue;\n    out[key] = copyClaims(v);\n  }\n  return out;\n})";

/// Oldest templates checked for a gone cache entry on each insert: more than one, so freeing
/// keeps ahead of inserting.
const RECLAIM_PER_INSERT: usize = 2;

pub struct ClaimsTemplates {
    capacity: usize,
    /// Claims identity -> (the claims, the template, its shape's key for a fast copy).
    by_claims: FastHashMap<usize, (Arc<str>, sys::napi_ref, Option<u64>)>,
    order: VecDeque<usize>,
}

fn key(claims: &Arc<str>) -> usize {
    Arc::as_ptr(claims) as *const u8 as usize
}

impl ClaimsTemplates {
    pub fn new(capacity: usize) -> ClaimsTemplates {
        ClaimsTemplates { capacity, by_claims: FastHashMap::default(), order: VecDeque::new() }
    }

    /// The template for exactly this cache entry's claims, if one is kept, and its shape's key.
    pub unsafe fn get(&self, env: RawEnv, claims: &Arc<str>) -> Option<(RawValue, Option<u64>)> {
        let (kept, template, shape) = self.by_claims.get(&key(claims))?;
        // Same address and the Arc is held here, so the same allocation; checked anyway.
        Arc::ptr_eq(kept, claims).then(|| (js::deref(env, *template), *shape))
    }

    /// Keeps `template` (an object no caller ever sees) for `claims`.
    pub unsafe fn insert(&mut self, env: RawEnv, claims: &Arc<str>, template: RawValue, shape: Option<u64>) {
        if self.capacity == 0 || self.by_claims.contains_key(&key(claims)) {
            return;
        }
        self.free_dead(env, RECLAIM_PER_INSERT);
        while self.by_claims.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else { break };
            self.remove(env, oldest);
        }
        self.by_claims.insert(key(claims), (claims.clone(), js::reference(env, template), shape));
        self.order.push_back(key(claims));
    }

    /// Looks at up to `budget` of the oldest templates: frees those whose cache entry is gone
    /// (this map holds the last reference to its claims) and moves the others to the back.
    unsafe fn free_dead(&mut self, env: RawEnv, budget: usize) {
        for _ in 0..budget.min(self.order.len()) {
            let Some(oldest) = self.order.pop_front() else { break };
            match self.by_claims.get(&oldest) {
                Some((claims, _, _)) if Arc::strong_count(claims) > 1 => self.order.push_back(oldest),
                Some(_) => self.remove(env, oldest),
                None => {}
            }
        }
    }

    unsafe fn remove(&mut self, env: RawEnv, k: usize) {
        if let Some((_, r, _)) = self.by_claims.remove(&k) {
            sys::napi_delete_reference(env, r);
        }
    }

    /// Deletes every reference (environment teardown).
    pub unsafe fn clear(&mut self, env: RawEnv) {
        for (_, (_, r, _)) in self.by_claims.drain() {
            sys::napi_delete_reference(env, r);
        }
        self.order.clear();
    }
}
