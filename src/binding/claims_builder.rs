//! Claims objects for cache misses from compiled shapes instead of `JSON.parse` (JS thread).
//!
//! A shape (see claims_plan) is compiled into a function returning an object literal the
//! second time it is seen; from then on, a payload of that shape costs one call with its
//! leaves (new JS strings and numbers) as arguments, and every call gets its own objects
//! and arrays, as from `JSON.parse`.
//!
//! Cache hits use the same shapes: a hit's claims are a copy of a template object (see
//! claims_templates), and a shape's copier (an object literal reading each leaf from the
//! template) copies several times faster than a generic deep copy.
//!
//! Bounded: at most `MAX_SHAPES` shapes; later new shapes use `JSON.parse` (misses) or the
//! generic copy (hits).

use crate::binding::claims_plan::{self, ClaimsPlan, Leaf, LeafKind};
use crate::binding::js::{self, RawEnv, RawValue};
use crate::core::fingerprint::FastHashMap;
use napi::sys;
use std::collections::HashSet;
use std::ptr;

const MAX_SHAPES: usize = 64;
/// Shapes seen once are remembered (to compile on the second sighting) up to this many.
const MAX_CANDIDATES: usize = 1024;

struct Shape {
    /// The skeleton: every gap between leaves, concatenated, with each gap's length.
    skeleton: Box<[u8]>,
    gap_lens: Box<[u32]>,
    kinds: Box<[u8]>,
    /// `claimsOfShape(...leaves)`: a miss's claims (see claims_plan::builder_source).
    build: Option<sys::napi_ref>,
    /// Each leaf's value in the last successful `build` call, which the compiled builder
    /// keeps too: a leaf with the same value is passed as `undefined` (see builder_source).
    last: Vec<LastLeaf>,
    /// `copyOfShape(template)`: a cache hit's copy (see claims_plan::copier_source).
    copy: Option<sys::napi_ref>,
}

/// A leaf's value as the builder last received it.
enum LastLeaf {
    Unknown,
    Str(Vec<u8>),
    Num(u64),
}

impl LastLeaf {
    /// Whether `leaf` (of `json`) has this value; if not, remembers its value instead.
    fn same_or_update(&mut self, json: &str, leaf: &Leaf) -> bool {
        match (leaf.kind, &mut *self) {
            (LeafKind::Num(n), LastLeaf::Num(bits)) if n.to_bits() == *bits => true,
            (LeafKind::Str, LastLeaf::Str(bytes)) if bytes.as_slice() == leaf.text(json).as_bytes() => true,
            (LeafKind::Str, LastLeaf::Str(bytes)) => {
                bytes.clear();
                bytes.extend_from_slice(leaf.text(json).as_bytes());
                false
            }
            (LeafKind::Str, _) => {
                *self = LastLeaf::Str(leaf.text(json).as_bytes().to_vec());
                false
            }
            // Bits, not ==: -0 and 0 are different claims values.
            (LeafKind::Num(n), _) => {
                *self = LastLeaf::Num(n.to_bits());
                false
            }
        }
    }
}

fn kind_tag(kind: LeafKind) -> u8 {
    match kind {
        LeafKind::Str => 1,
        LeafKind::Num(_) => 2,
    }
}

impl Shape {
    /// Whether `json` (with these leaves) has exactly this skeleton.
    fn matches(&self, json: &str, plan: &ClaimsPlan) -> bool {
        if plan.leaves.len() != self.kinds.len()
            || !plan.leaves.iter().zip(self.kinds.iter()).all(|(l, &k)| kind_tag(l.kind) == k)
        {
            return false;
        }
        let mut offset = 0;
        for (gap, &len) in claims_plan::gaps(json, &plan.leaves).zip(self.gap_lens.iter()) {
            let len = len as usize;
            if gap.len() != len || gap != &self.skeleton[offset..offset + len] {
                return false;
            }
            offset += len;
        }
        true
    }
}

pub struct ClaimsBuilder {
    shapes: FastHashMap<u64, Shape>,
    seen_once: HashSet<u64>,
    /// Shapes that did not compile (never expected): not tried again.
    failed: HashSet<u64>,
    /// Reused argument buffer (handles are only valid within the caller's scope).
    args: Vec<RawValue>,
}

impl ClaimsBuilder {
    pub fn new() -> ClaimsBuilder {
        ClaimsBuilder { shapes: FastHashMap::default(), seen_once: HashSet::new(), failed: HashSet::new(), args: Vec::with_capacity(32) }
    }

    /// A fresh claims object for `json`, or `None`: use `JSON.parse`.
    pub unsafe fn build(&mut self, env: RawEnv, json: &str, plan: &ClaimsPlan) -> Option<RawValue> {
        if !self.shapes.contains_key(&plan.fingerprint) {
            if self.seen_once.len() >= MAX_CANDIDATES {
                self.seen_once.clear();
            }
            if self.seen_once.insert(plan.fingerprint) {
                return None; // first sighting: one-off payloads never cost a compile
            }
            self.seen_once.remove(&plan.fingerprint);
        }
        // Taken out while `shape` borrows self; put back below.
        let mut args = std::mem::take(&mut self.args);
        let built = self.build_with(env, json, plan, &mut args);
        self.args = args;
        built
    }

    unsafe fn build_with(&mut self, env: RawEnv, json: &str, plan: &ClaimsPlan, args: &mut Vec<RawValue>) -> Option<RawValue> {
        let shape = self.shape(json, plan)?;
        let build = match shape.build {
            Some(build) => build,
            None => {
                let compiled = js::compile(env, &claims_plan::builder_source(json, &plan.leaves));
                let Some(function) = compiled else {
                    self.failed.insert(plan.fingerprint);
                    return None;
                };
                *shape.build.insert(js::reference(env, function))
            }
        };
        if shape.last.len() != plan.leaves.len() {
            shape.last = plan.leaves.iter().map(|_| LastLeaf::Unknown).collect();
        }
        let unchanged = js::undefined(env);
        args.clear();
        for (leaf, last) in plan.leaves.iter().zip(shape.last.iter_mut()) {
            let value = if last.same_or_update(json, leaf) {
                unchanged
            } else {
                match leaf.kind {
                    LeafKind::Num(n) => {
                        let mut v = ptr::null_mut();
                        sys::napi_create_double(env, n, &mut v);
                        v
                    }
                    LeafKind::Str => js::text(env, leaf.text(json)),
                }
            };
            args.push(value);
        }
        let built = js::call(env, js::undefined(env), js::deref(env, build), args).ok();
        if built.is_none() {
            // The builder may not have stored what was passed: pass everything next time.
            shape.last.iter_mut().for_each(|last| *last = LastLeaf::Unknown);
        }
        built
    }

    /// Prepares copies of claims objects of `json`'s shape (a new cache template): Some(the
    /// shape's key for `copy`), or None: copy generically.
    pub unsafe fn copier(&mut self, env: RawEnv, json: &str) -> Option<u64> {
        let plan = claims_plan::plan(json)?;
        let shape = self.shape(json, &plan)?;
        if shape.copy.is_none() {
            let Some(function) = js::compile(env, &claims_plan::copier_source(json, &plan.leaves)) else {
                self.failed.insert(plan.fingerprint);
                return None;
            };
            shape.copy = Some(js::reference(env, function));
        }
        Some(plan.fingerprint)
    }

    /// A fresh copy of `template`, a claims object of the shape `copier` returned `key` for.
    pub unsafe fn copy(&self, env: RawEnv, key: u64, template: RawValue) -> Option<RawValue> {
        let copy = self.shapes.get(&key)?.copy?;
        js::call(env, js::undefined(env), js::deref(env, copy), &[template]).ok()
    }

    /// The shape entry of `json` (created when there is room), if its skeleton matches.
    fn shape(&mut self, json: &str, plan: &ClaimsPlan) -> Option<&mut Shape> {
        let full = self.shapes.len() + self.failed.len() >= MAX_SHAPES;
        if self.failed.contains(&plan.fingerprint) || (full && !self.shapes.contains_key(&plan.fingerprint)) {
            return None;
        }
        let shape = self.shapes.entry(plan.fingerprint).or_insert_with(|| {
            let gaps: Vec<&[u8]> = claims_plan::gaps(json, &plan.leaves).collect();
            Shape {
                skeleton: gaps.concat().into_boxed_slice(),
                gap_lens: gaps.iter().map(|g| g.len() as u32).collect(),
                kinds: plan.leaves.iter().map(|l| kind_tag(l.kind)).collect(),
                build: None,
                last: Vec::new(),
                copy: None,
            }
        });
        // A fingerprint collision with another shape: that one keeps the entry.
        shape.matches(json, plan).then_some(shape)
    }

    /// Deletes every reference (environment teardown).
    pub unsafe fn clear(&mut self, env: RawEnv) {
        for (_, shape) in self.shapes.drain() {
            for r in [shape.build, shape.copy].into_iter().flatten() {
                sys::napi_delete_reference(env, r);
            }
        }
    }
}
