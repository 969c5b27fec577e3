//! A verified payload's JSON split into a skeleton and its leaves, computed on the worker
//! thread so the JS thread can build the claims object without `JSON.parse`.
//!
//! Why: `JSON.parse` of the ~300-byte claims of an Auth0 access token was the largest single
//! cost of a cache miss on the JS thread (V8 scans every string, then builds the object
//! member by member). Tokens from one tenant share their structure: the same members in the
//! same order, and most values (`iss`, `aud`, `azp`, `scope`, permissions) repeat too. So the
//! skeleton (the JSON with every string and number cut out) identifies a shape, and a shape
//! becomes a compiled JS function returning an object literal with the leaves as its
//! arguments (see claims_builder). Creating a literal costs V8 a fraction of parsing it.
//!
//! Exactness: a JSON text without `__proto__` members, evaluated as a JS object literal,
//! gives what `JSON.parse` gives (same members, order, values, fresh arrays and objects;
//! JSON is a subset of JS since ES2019). Strings are cut out only when they hold no escape,
//! so their raw bytes are their value and a key's raw text is a valid JS string literal.
//! Anything else (escapes, `__proto__`, deep nesting, very many leaves) has no plan, and
//! the caller uses `JSON.parse`, as before. So does a payload whose skeleton fingerprint
//! collides with another skeleton's (see skeletons).

use crate::binding::skeletons::{self, Skeleton};
use crate::core::fingerprint::Fingerprint;
use std::sync::Arc;

/// More leaves than this: `JSON.parse` (a function with thousands of parameters would
/// compile slowly, and no access token looks like that).
const MAX_LEAVES: usize = 256;
/// Deeper nesting than this: `JSON.parse` (keeps generated source far from parser limits).
const MAX_DEPTH: usize = 32;
/// Longer payloads than this: `JSON.parse` (the skeleton is kept per shape).
const MAX_JSON_BYTES: usize = 16 * 1024;
/// Room for the leaves of a typical access token (10-30), so a plan makes one allocation:
/// growing from empty (4, 8, 16, 32) and shrinking to fit cost about 2 % of a worker's time.
const LEAVES_CAPACITY: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LeafKind {
    /// A string without escapes: its value is `json[start + 1..end - 1]`.
    Str,
    /// A number, already converted exactly as `JSON.parse` converts it.
    Num(f64),
}

/// A cut-out value: `json[start..end]` (quotes included for strings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leaf {
    pub start: u32,
    pub end: u32,
    pub kind: LeafKind,
}

impl Leaf {
    /// The string value of a `Str` leaf.
    pub fn text<'a>(&self, json: &'a str) -> &'a str {
        &json[self.start as usize + 1..self.end as usize - 1]
    }
}

#[derive(Debug)]
pub struct ClaimsPlan {
    /// Hash of the skeleton and the leaf kinds: finds a compiled shape.
    pub fingerprint: u64,
    /// Not shrunk to fit: a plan only lives until its promise is settled.
    pub leaves: Vec<Leaf>,
    /// The registered skeleton this payload was confirmed to have (see skeletons): a
    /// compiled shape serves the plan only if it was made for this very entry.
    pub skeleton: Arc<Skeleton>,
}

/// The plan for `json` (a payload the core already parsed as a strict JSON object), or
/// `None` when it must go through `JSON.parse` (including a fingerprint collision).
pub fn plan(json: &str) -> Option<ClaimsPlan> {
    let bytes = json.as_bytes();
    if bytes.len() > MAX_JSON_BYTES {
        return None;
    }
    let mut leaves = Vec::with_capacity(LEAVES_CAPACITY);
    // The open containers, innermost in the lowest bit: 1 for an object (MAX_DEPTH fits).
    let mut open = OpenContainers::default();
    let mut want_key = false;
    let mut hash = SkeletonHash::new();
    let mut gap_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                if open.depth == MAX_DEPTH {
                    return None;
                }
                open.push(bytes[i] == b'{');
                want_key = bytes[i] == b'{';
                i += 1;
            }
            b'}' | b']' => {
                open.pop()?;
                want_key = false;
                i += 1;
            }
            b',' => {
                want_key = open.last()?;
                i += 1;
            }
            b':' => {
                want_key = false;
                i += 1;
            }
            b'"' => {
                let start = i;
                let len = bytes[i + 1..].iter().position(|&b| b == b'"' || b == b'\\')?;
                let end = i + 1 + len;
                if bytes[end] != b'"' {
                    return None; // an escape: JSON.parse decodes it
                }
                i = end + 1;
                if want_key {
                    if &bytes[start + 1..end] == b"__proto__" {
                        return None; // a literal would set the prototype instead
                    }
                    continue; // keys stay in the skeleton
                }
                hash.gap(&bytes[gap_start..start], 1);
                leaves.push(Leaf { start: start as u32, end: i as u32, kind: LeafKind::Str });
                gap_start = i;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                // Rust and V8 both round a decimal to the nearest double; "-0" stays -0.
                let value: f64 = json[start..i].parse().ok()?;
                hash.gap(&bytes[gap_start..start], 2);
                leaves.push(Leaf { start: start as u32, end: i as u32, kind: LeafKind::Num(value) });
                gap_start = i;
            }
            // true, false, null and whitespace stay in the skeleton as they are.
            b't' | b'f' | b'n' | b'r' | b'u' | b'e' | b'a' | b'l' | b's' | b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            _ => return None,
        }
        if leaves.len() > MAX_LEAVES {
            return None;
        }
    }
    if open.depth != 0 {
        return None;
    }
    hash.gap(&bytes[gap_start..], 0);
    let fingerprint = hash.finish();
    let skeleton = skeletons::confirm(fingerprint, json, &leaves)?;
    Some(ClaimsPlan { fingerprint, leaves, skeleton })
}

/// A stack of up to 64 open containers in one word (no allocation per plan).
#[derive(Default)]
struct OpenContainers {
    objects: u64,
    depth: usize,
}

const _: () = assert!(MAX_DEPTH <= 64);

impl OpenContainers {
    fn push(&mut self, object: bool) {
        self.objects = (self.objects << 1) | object as u64;
        self.depth += 1;
    }

    /// None: nothing was open.
    fn pop(&mut self) -> Option<()> {
        self.depth = self.depth.checked_sub(1)?;
        self.objects >>= 1;
        Some(())
    }

    /// Whether the innermost open container is an object; None: nothing is open.
    fn last(&self) -> Option<bool> {
        (self.depth > 0).then_some(self.objects & 1 == 1)
    }
}

/// The parts of `json` between its leaves: the skeleton, in order (one more than leaves).
pub fn gaps<'a>(json: &'a str, leaves: &'a [Leaf]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let bytes = json.as_bytes();
    let starts = std::iter::once(0).chain(leaves.iter().map(|l| l.end as usize));
    let ends = leaves.iter().map(|l| l.start as usize).chain(std::iter::once(bytes.len()));
    starts.zip(ends).map(move |(s, e)| &bytes[s..e])
}

/// JS source of the shape's builder. Leaf `i` arrives as argument `a<i>`, or `undefined`
/// when it is the same value as in the previous call (most claims repeat from token to
/// token: `iss`, `aud`, `azp`, `scope`, permissions), in which case the value kept from that
/// call (`v<i>`) is used: the caller then need not create the string again. Leaf values are
/// strings and numbers, never `undefined`, so `undefined` can only mean "unchanged".
///
/// ```js
/// (function () {
///   let v0, v1;
///   return function claimsOfShape(a0, a1) {
///     if (a0 !== undefined) v0 = a0;
///     if (a1 !== undefined) v1 = a1;
///     return ({"iss":v0,"aud":[v1]});
///   };
/// })()
/// ```
pub fn builder_source(json: &str, leaves: &[Leaf]) -> String {
    let names = |prefix: char| (0..leaves.len()).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>().join(",");
    let updates: String = (0..leaves.len()).map(|i| format!("    if (a{i} !== undefined) v{i} = a{i};\n")).collect();
    let builder = shape_source("claimsOfShape", &names('a'), &updates, json, leaves, |i, _| format!("v{i}"));
    let kept = if leaves.is_empty() { String::new() } else { format!("  let {};\n", names('v')) };
    format!("(function () {{\n{kept}  return {builder};\n}})()")
}

/// JS source of the shape's copier: `(function copyOfShape(t) { return (<skeleton>); })` with
/// each leaf replaced by its path in `t`, a claims object of this shape (a cache hit's
/// template). A copy made by a literal of known shape costs V8 far less than a generic deep
/// copy; strings and numbers are shared with `t` (immutable), objects and arrays are new.
pub fn copier_source(json: &str, leaves: &[Leaf]) -> String {
    shape_source("copyOfShape", "t", "", json, leaves, |_, path| format!("t{}", path.concat()))
}

/// `(function <name>(<params>) { <statements> return (<json with leaf i replaced by
/// leaf_expr(i, path)>); })` where `path` holds one accessor (`["key"]` or `[n]`) per
/// container around the leaf; `statements`, whole lines, run before the `return`.
fn shape_source(name: &str, params: &str, statements: &str, json: &str, leaves: &[Leaf], leaf_expr: impl Fn(usize, &[String]) -> String) -> String {
    let bytes = json.as_bytes();
    let mut source = String::with_capacity(json.len() * 2 + 64);
    // Parenthesised: a payload may start with a line break, and `return` followed by one
    // would return undefined (automatic semicolon insertion).
    source.push_str(&format!("(function {name}({params}) {{\n{statements}  return ("));
    let mut path: Vec<String> = Vec::new();
    // Per open container: the index of the current element for arrays, None for objects.
    let mut index: Vec<Option<usize>> = Vec::new();
    let mut leaf = leaves.iter().enumerate().peekable();
    let mut i = 0;
    while i < bytes.len() {
        if let Some((n, l)) = leaf.next_if(|(_, l)| l.start as usize == i) {
            source.push_str(&leaf_expr(n, &path));
            i = l.end as usize;
            continue;
        }
        match bytes[i] {
            b'{' => {
                path.push(String::new());
                index.push(None);
            }
            b'[' => {
                path.push("[0]".to_string());
                index.push(Some(0));
            }
            b'}' | b']' => {
                path.pop();
                index.pop();
            }
            b',' => {
                if let Some(Some(n)) = index.last_mut() {
                    *n += 1;
                    if let Some(p) = path.last_mut() {
                        *p = format!("[{n}]");
                    }
                }
            }
            b'"' => {
                // Not a leaf, so a key (plan() guarantees it has no escapes).
                let end = i + 1 + bytes[i + 1..].iter().position(|&b| b == b'"').unwrap_or(0);
                let key = &json[i..=end];
                if let Some(p) = path.last_mut() {
                    *p = format!("[{key}]");
                }
                source.push_str(key);
                i = end + 1;
                continue;
            }
            _ => {}
        }
        // Punctuation, whitespace and true/false/null are ASCII: copied as they are.
        source.push(bytes[i] as char);
        i += 1;
    }
    source.push_str(");\n})");
    source
}

/// The fingerprint of a skeleton: each gap's length and bytes, then the kind of the leaf
/// after it (not collision-resistant: skeletons::confirm compares the skeleton itself).
struct SkeletonHash(Fingerprint);

impl SkeletonHash {
    fn new() -> SkeletonHash {
        SkeletonHash(Fingerprint::seeded(0))
    }
    fn gap(&mut self, bytes: &[u8], kind: u64) {
        self.0.mix(bytes.len() as u64);
        self.0.mix_bytes(bytes);
        self.0.mix(kind);
    }
    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(json: &str) -> Vec<String> {
        let p = plan(json).expect("a plan");
        p.leaves
            .iter()
            .map(|l| match l.kind {
                LeafKind::Str => format!("s:{}", l.text(json)),
                LeafKind::Num(n) => format!("n:{n:?}"),
            })
            .collect()
    }

    #[test]
    fn cuts_values_not_keys() {
        let json = r#"{"iss":"https://t/","aud":["a","b"],"exp":17,"ok":true,"x":null,"n":{"k":-0}}"#;
        assert_eq!(texts(json), ["s:https://t/", "s:a", "s:b", "n:17.0", "n:-0.0"]);
        let p = plan(json).unwrap();
        let skeleton: Vec<u8> = gaps(json, &p.leaves).flatten().copied().collect();
        assert_eq!(String::from_utf8(skeleton).unwrap(), r#"{"iss":,"aud":[,],"exp":,"ok":true,"x":null,"n":{"k":}}"#);
    }

    #[test]
    fn same_shape_same_fingerprint() {
        let a = plan(r#"{"sub":"u1","exp":1,"aud":["x"]}"#).unwrap();
        let b = plan(r#"{"sub":"user-two","exp":123456,"aud":["yy"]}"#).unwrap();
        let c = plan(r#"{"sub":"u1","exp":"1","aud":["x"]}"#).unwrap();
        let d = plan(r#"{"sub":"u1","exp":1,"aud":["x","y"]}"#).unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint, "a number and a string leaf differ");
        assert_ne!(a.fingerprint, d.fingerprint);
    }

    #[test]
    fn numbers_convert_like_json_parse() {
        let json = r#"{"a":1e400,"b":-1e400,"c":9007199254740993,"d":1.5E-7,"e":0.1,"f":-0.0,"g":1E+2}"#;
        assert_eq!(
            texts(json),
            ["n:inf", "n:-inf", "n:9007199254740992.0", "n:1.5e-7", "n:0.1", "n:-0.0", "n:100.0"]
        );
    }

    #[test]
    fn no_plan_for_what_a_literal_would_change() {
        for json in [
            r#"{"a":"x\"y"}"#,
            r#"{"a\u0062":1}"#,
            r#"{"__proto__":{"admin":true}}"#,
            r#"{"a":{"__proto__":1}}"#,
            r#"{"a":"\u00e9"}"#,
        ] {
            assert!(plan(json).is_none(), "{json}");
        }
        // "__proto__" as a value is only a string.
        assert_eq!(texts(r#"{"a":"__proto__"}"#), ["s:__proto__"]);
    }

    #[test]
    fn limits() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40));
        assert!(plan(&deep).is_none());
        let wide = format!("{{\"a\":[{}]}}", vec!["1"; MAX_LEAVES + 1].join(","));
        assert!(plan(&wide).is_none());
        let ok = format!("{{\"a\":[{}]}}", vec!["1"; MAX_LEAVES].join(","));
        assert!(plan(&ok).is_some());
        // MAX_DEPTH open containers (the object counts) plan; one more does not.
        let nested = |depth: usize| format!("{{\"a\":{}1{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1));
        assert!(plan(&nested(MAX_DEPTH)).is_some());
        assert!(plan(&nested(MAX_DEPTH + 1)).is_none());
    }

    #[test]
    fn keys_are_known_after_containers_close() {
        // After each `]` or `}` the innermost open container decides whether a name follows.
        let json = r#"{"a":[{"b":[1,{"c":2}]},3,[[4],{"d":5}]],"e":{"f":[6]},"g":7}"#;
        assert_eq!(texts(json), ["n:1.0", "n:2.0", "n:3.0", "n:4.0", "n:5.0", "n:6.0", "n:7.0"]);
    }

    #[test]
    fn non_ascii_and_whitespace() {
        let json = "{ \"név\" : \"Zoë €\" ,\n\"n\":[ 1 , 2 ] }";
        assert_eq!(texts(json), ["s:Zoë €", "n:1.0", "n:2.0"]);
    }

    #[test]
    fn copier_source_reads_leaves_by_path() {
        let json = r#"{"iss":"i","aud":["a",2,[true,"x"]],"o":{"10":-1,"k":null},"n":3}"#;
        let p = plan(json).unwrap();
        assert_eq!(
            copier_source(json, &p.leaves),
            "(function copyOfShape(t) {\n  return ({\"iss\":t[\"iss\"],\"aud\":[t[\"aud\"][0],t[\"aud\"][1],[true,t[\"aud\"][2][1]]],\"o\":{\"10\":t[\"o\"][\"10\"],\"k\":null},\"n\":t[\"n\"]});\n})"
        );
    }

    #[test]
    fn builder_source_replaces_leaves_and_keeps_unchanged_ones() {
        let json = r#"{"iss":"i","aud":["a",2],"ok":false}"#;
        let p = plan(json).unwrap();
        assert_eq!(
            builder_source(json, &p.leaves),
            "(function () {\n  let v0,v1,v2;\n  return (function claimsOfShape(a0,a1,a2) {\n    if (a0 !== undefined) v0 = a0;\n    if (a1 !== undefined) v1 = a1;\n    if (a2 !== undefined) v2 = a2;\n  return ({\"iss\":v0,\"aud\":[v1,v2],\"ok\":false});\n});\n})()"
        );
        let empty = plan(r#"{"ok":true}"#).unwrap();
        assert_eq!(
            builder_source(r#"{"ok":true}"#, &empty.leaves),
            "(function () {\n  return (function claimsOfShape() {\n  return ({\"ok\":true});\n});\n})()"
        );
    }
}
