//! The process-wide register of payload skeletons: which skeleton each shape fingerprint
//! stands for (see claims_plan).
//!
//! A fingerprint is a fast hash, not collision-proof, and a compiled shape used for a payload
//! of another skeleton would build wrong claims. So a plan carries the registered skeleton
//! its payload was compared with, byte for byte, by whichever thread made the plan: the pool
//! thread for a miss, the JS thread only for a cache entry's first template (once per
//! entry). The JS thread then only checks that it is the very skeleton (the same `Arc`) its
//! compiled shape was made for. Why: that comparison (a few hundred bytes) ran on the JS
//! thread on every miss, 5 % of its time.
//!
//! Bounded: at `MAX_SKELETONS` entries or `MAX_BYTES`, the register starts over. Shapes
//! still in use register again on their next payload; the JS thread then compares once
//! and adopts the new entry (claims_builder).

use crate::binding::claims_plan::{gaps, Leaf, LeafKind};
use crate::core::fingerprint::FastHashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

const MAX_SKELETONS: usize = 1024;
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Debug, PartialEq)]
pub struct Skeleton {
    /// Every gap between leaves, concatenated.
    bytes: Box<[u8]>,
    gap_lens: Box<[u32]>,
    kinds: Box<[u8]>,
}

fn kind_tag(kind: LeafKind) -> u8 {
    match kind {
        LeafKind::Str => 1,
        LeafKind::Num(_) => 2,
    }
}

impl Skeleton {
    pub fn of(json: &str, leaves: &[Leaf]) -> Skeleton {
        let gaps: Vec<&[u8]> = gaps(json, leaves).collect();
        Skeleton {
            bytes: gaps.concat().into_boxed_slice(),
            gap_lens: gaps.iter().map(|g| g.len() as u32).collect(),
            kinds: leaves.iter().map(|l| kind_tag(l.kind)).collect(),
        }
    }

    /// Whether `json` (cut at these leaves) has exactly this skeleton.
    fn matches(&self, json: &str, leaves: &[Leaf]) -> bool {
        if leaves.len() != self.kinds.len() || !leaves.iter().zip(self.kinds.iter()).all(|(l, &k)| kind_tag(l.kind) == k) {
            return false;
        }
        let mut offset = 0;
        for (gap, &len) in gaps(json, leaves).zip(self.gap_lens.iter()) {
            let len = len as usize;
            if gap.len() != len || gap != &self.bytes[offset..offset + len] {
                return false;
            }
            offset += len;
        }
        true
    }

    fn size(&self) -> usize {
        self.bytes.len() + self.gap_lens.len() * 4 + self.kinds.len()
    }
}

#[derive(Default)]
struct Registry {
    by_fingerprint: FastHashMap<u64, Arc<Skeleton>>,
    bytes: usize,
}

fn lock_registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

/// The skeleton registered under `fingerprint` if `json`, cut at `leaves`, has exactly that
/// skeleton (registering it when the fingerprint is new); `None` on a collision.
pub fn confirm(fingerprint: u64, json: &str, leaves: &[Leaf]) -> Option<Arc<Skeleton>> {
    let known = lock_registry().by_fingerprint.get(&fingerprint).cloned();
    if let Some(skeleton) = known {
        return skeleton.matches(json, leaves).then_some(skeleton);
    }
    // New: built outside the lock, then registered unless another thread was first.
    let skeleton = Arc::new(Skeleton::of(json, leaves));
    let mut registry = lock_registry();
    if let Some(first) = registry.by_fingerprint.get(&fingerprint) {
        return first.matches(json, leaves).then(|| first.clone());
    }
    if registry.by_fingerprint.len() >= MAX_SKELETONS || registry.bytes + skeleton.size() > MAX_BYTES {
        *registry = Registry::default();
    }
    registry.bytes += skeleton.size();
    registry.by_fingerprint.insert(fingerprint, skeleton.clone());
    Some(skeleton)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::claims_plan::plan;

    fn leaves(json: &str) -> Vec<Leaf> {
        plan(json).expect("a plan").leaves
    }

    #[test]
    fn the_first_skeleton_of_a_fingerprint_keeps_it() {
        // Fingerprints made up for this test, so no other test's plans can meet them.
        let fp = 0x5eed_0000_0000_0001;
        let a = r#"{"sub":"u1","n":1}"#;
        let b = r#"{"sub":"user-two","n":22}"#;
        let other = r#"{"bus":"u1","n":1}"#;
        let first = confirm(fp, a, &leaves(a)).expect("registered");
        let again = confirm(fp, b, &leaves(b)).expect("same skeleton, other leaves");
        assert!(Arc::ptr_eq(&first, &again), "one entry per fingerprint");
        assert!(confirm(fp, other, &leaves(other)).is_none(), "a collision is refused, every time");
        assert!(confirm(fp, other, &leaves(other)).is_none());
        assert!(confirm(fp, a, &leaves(a)).is_some(), "the first skeleton still holds");
        let kinds = r#"{"sub":"u1","n":"1"}"#;
        assert!(confirm(fp, kinds, &leaves(kinds)).is_none(), "a number leaf is not a string leaf");
    }

    #[test]
    fn gaps_and_kinds_make_the_skeleton() {
        let json = r#"{"a":"x","b":[1,{"c":null}]}"#;
        let skeleton = Skeleton::of(json, &leaves(json));
        assert_eq!(&*skeleton.bytes, br#"{"a":,"b":[,{"c":null}]}"#);
        assert_eq!(&*skeleton.gap_lens, &[5, 6, 13]);
        assert_eq!(&*skeleton.kinds, &[1, 2]);
    }
}
