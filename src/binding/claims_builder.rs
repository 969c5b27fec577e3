//! Claims objects for cache misses from compiled shapes instead of `JSON.parse` (JS thread).
//!
//! A shape (see claims_plan) is compiled into a function returning an object literal the
//! second time it is seen; from then on, a payload of that shape costs one call with its
//! leaves as arguments: new JS strings and numbers for the leaves that changed since the
//! shape's previous payload, `undefined` for the others, whose values the builder keeps (see
//! claims_plan::builder_source). Every call gets its own objects and arrays, as from
//! `JSON.parse`.
//!
//! Cache hits use the same shapes: a hit's claims are a copy of a template object (see
//! claims_templates), and a shape's copier (an object literal reading each leaf from the
//! template) copies several times faster than a generic deep copy.
//!
//! Bounded: at most `MAX_SHAPES` shapes; later new shapes use `JSON.parse` (misses) or the
//! generic copy (hits).

use crate::binding::claims_plan::{self, ClaimsPlan, Leaf, LeafKind};
use crate::binding::js::{self, RawEnv, RawValue};
use crate::binding::skeletons::Skeleton;
use crate::core::fingerprint::FastHashMap;
use napi::sys;
use std::collections::HashSet;
use std::ptr;
use std::sync::Arc;

const MAX_SHAPES: usize = 64;
/// Shapes seen once are remembered (to compile on the second sighting) up to this many.
const MAX_CANDIDATES: usize = 1024;

struct Shape {
    /// The registered skeleton this shape was compiled for (see skeletons).
    skeleton: Arc<Skeleton>,
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
        let shape = self.shape(plan)?;
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
        let shape = self.shape(&plan)?;
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

    /// The shape entry for `plan` (created when there is room), if it was made for the
    /// same registered skeleton.
    fn shape(&mut self, plan: &ClaimsPlan) -> Option<&mut Shape> {
        let full = self.shapes.len() + self.failed.len() >= MAX_SHAPES;
        if self.failed.contains(&plan.fingerprint) || (full && !self.shapes.contains_key(&plan.fingerprint)) {
            return None;
        }
        let shape = self.shapes.entry(plan.fingerprint).or_insert_with(|| Shape {
            skeleton: plan.skeleton.clone(),
            build: None,
            // One per leaf: a shape's skeleton fixes how many leaves its payloads have.
            last: plan.leaves.iter().map(|_| LastLeaf::Unknown).collect(),
            copy: None,
        });
        if !Arc::ptr_eq(&shape.skeleton, &plan.skeleton) {
            // The register started over (its entry for this fingerprint is new), or a
            // fingerprint collision: the same skeleton is adopted, another is parsed.
            if *shape.skeleton != *plan.skeleton {
                return None;
            }
            shape.skeleton = plan.skeleton.clone();
        }
        Some(shape)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::claims_plan::plan;

    /// `json`'s plan under another fingerprint, with a skeleton entry of its own (not
    /// the register's): what a collision, or a register that started over, looks like.
    fn plan_as(fingerprint: u64, json: &str) -> ClaimsPlan {
        let p = plan(json).expect("a plan");
        let skeleton = Arc::new(Skeleton::of(json, &p.leaves));
        ClaimsPlan { fingerprint, skeleton, ..p }
    }

    #[test]
    fn a_shape_serves_only_plans_of_its_own_skeleton() {
        let mut builder = ClaimsBuilder::new();
        let fp = 0x5eed_0000_0000_0101;
        let a = plan_as(fp, r#"{"sub":"u1","n":1}"#);
        assert!(builder.shape(&a).is_some(), "created");
        let same = plan(r#"{"sub":"u2","n":2}"#).unwrap();
        let same = ClaimsPlan { fingerprint: fp, skeleton: a.skeleton.clone(), ..same };
        assert!(builder.shape(&same).is_some(), "the same entry");
        let collision = plan_as(fp, r#"{"bus":"u1","n":1}"#);
        assert!(builder.shape(&collision).is_none(), "another skeleton under the same fingerprint");
        let renewed = plan_as(fp, r#"{"sub":"u3","n":3}"#);
        assert!(!Arc::ptr_eq(&renewed.skeleton, &a.skeleton));
        assert!(builder.shape(&renewed).is_some(), "an equal skeleton in a new entry is adopted");
        assert!(Arc::ptr_eq(&builder.shapes[&fp].skeleton, &renewed.skeleton));
        assert!(builder.shape(&collision).is_none());
    }
}
