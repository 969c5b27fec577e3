//! Strict JSON for JOSE headers and JWT payloads: an object at the top, and no duplicate
//! member names at any depth. serde_json keeps the last duplicate silently; two parsers
//! disagreeing on which `alg` or `sub` counts is a known JWT attack surface (RFC 7515 §5.2
//! says reject or use a parser that returns only the lexically last; we reject).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// Parses `bytes` as a JSON object, rejecting duplicate member names anywhere.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue::deserialize_from(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err("not a JSON object".to_string()),
    }
}

struct StrictValue;

impl StrictValue {
    fn deserialize_from<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictSeed;

impl<'de> de::DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        StrictValue::deserialize_from(deserializer)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(duplicate(&key));
            }
            let value = access.next_value_seed(StrictSeed)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// A top-level member's value, kept only as deep as token validation looks at it. Strings
/// borrow from the input unless they hold escapes, so a JWT header or payload parses with a
/// handful of allocations instead of one per name and value (this runs on every cache miss).
#[derive(Debug, Clone, PartialEq)]
pub enum Shallow<'a> {
    String(Cow<'a, str>),
    /// Every JSON number, as the f64 a JavaScript caller would see.
    Number(f64),
    Array(Vec<Shallow<'a>>),
    /// null, true, false, or an object (checked for duplicate names, not kept).
    Other,
}

impl Shallow<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Shallow::String(s) => Some(s),
            _ => None,
        }
    }
}

/// The members of a top-level JSON object, in document order, names unescaped.
#[derive(Debug, Default)]
pub struct Members<'a>(Vec<(Cow<'a, str>, Shallow<'a>)>);

impl<'a> Members<'a> {
    pub fn get(&self, name: &str) -> Option<&Shallow<'a>> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Parses `bytes` as a JSON object with the same strictness as `parse_object` (duplicate
/// names rejected at any depth, nothing after the object), keeping its members shallowly.
pub fn parse_members(bytes: &[u8]) -> Result<Members<'_>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let members = de.deserialize_any(TopVisitor).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(members)
}

/// Member names seen so far in one object. A linear scan of an inline array for the usual
/// handful (no allocation: this runs for every object of every token a miss parses, and the
/// growing Vec it replaced was about 2 % of a worker's time in malloc/realloc/free); past
/// that a hash set, so a crafted header with thousands of names costs linear time, not
/// quadratic.
struct Names<'a> {
    few: [Cow<'a, str>; LINEAR_NAMES],
    len: usize,
    many: Option<HashSet<Cow<'a, str>>>,
}

const LINEAR_NAMES: usize = 16;

impl<'a> Names<'a> {
    fn new() -> Self {
        Names { few: Default::default(), len: 0, many: None }
    }

    /// Err: the name was already there. (A borrowed name is a pointer and a length to keep.)
    fn add<E: de::Error>(&mut self, name: Cow<'a, str>) -> Result<(), E> {
        let seen = match &self.many {
            Some(set) => set.contains(&name),
            None => self.few[..self.len].contains(&name),
        };
        if seen {
            return Err(duplicate(&name));
        }
        match &mut self.many {
            Some(set) => {
                set.insert(name);
            }
            None if self.len < LINEAR_NAMES => {
                self.few[self.len] = name;
                self.len += 1;
            }
            None => {
                let mut set: HashSet<Cow<'a, str>> = self.few.iter_mut().map(std::mem::take).collect();
                set.insert(name);
                self.many = Some(set);
            }
        }
        Ok(())
    }
}

fn duplicate<E: de::Error>(name: &str) -> E {
    de::Error::custom(format!("duplicate member name \"{}\"", printable(name)))
}

/// A member name or string value, borrowed when the input holds it verbatim.
struct CowStr;

impl<'de> DeserializeSeed<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(CowStrVisitor)
    }
}

struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Members<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Members<'de>, A::Error> {
        let mut members = Vec::with_capacity(access.size_hint().unwrap_or(12));
        let mut names = Names::new();
        while let Some(name) = access.next_key_seed(CowStr)? {
            names.add(name.clone())?;
            let value = access.next_value_seed(ShallowSeed)?;
            members.push((name, value));
        }
        Ok(Members(members))
    }
}

struct ShallowSeed;

impl<'de> DeserializeSeed<'de> for ShallowSeed {
    type Value = Shallow<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(ShallowVisitor)
    }
}

struct ShallowVisitor;

impl<'de> Visitor<'de> for ShallowVisitor {
    type Value = Shallow<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Shallow::Other)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Shallow::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Shallow::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // parse_object turns a non-finite number into null; so does this.
        Ok(if v.is_finite() { Shallow::Number(v) } else { Shallow::Other })
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Shallow::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Shallow::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Shallow::String(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Shallow::Other)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Shallow::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element_seed(ShallowSeed)? {
            items.push(item);
        }
        Ok(Shallow::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        // Objects below the top level are checked, not kept.
        CheckedVisitor.visit_map(access).map(|()| Shallow::Other)
    }
}

/// A value inside a nested object: walked for duplicate names, nothing kept.
struct CheckedSeed;

impl<'de> DeserializeSeed<'de> for CheckedSeed {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(CheckedSeed)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let mut names = Names::new();
        while let Some(name) = access.next_key_seed(CowStr)? {
            names.add(name)?;
            access.next_value_seed(CheckedSeed)?;
        }
        Ok(())
    }
}

/// Member names come from an unverified token: keep error messages short and printable.
fn printable(s: &str) -> String {
    s.chars().take(40).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_objects() {
        let map = parse_object(br#"{"a":1,"b":{"c":[1,2,{"d":null}]}}"#).unwrap();
        assert_eq!(map["a"], 1);
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(parse_object(br#"{"alg":"RS256","alg":"none"}"#).unwrap_err().contains("duplicate"));
        assert!(parse_object(br#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(parse_object(br#"{"a":[{"b":1,"b":2}]}"#).is_err());
    }

    #[test]
    fn rejects_non_objects_and_trailing_data() {
        for bad in [&b"[]"[..], b"1", b"\"x\"", b"null", b"{} {}", b"{", b"", b"{\"a\":1}x"] {
            assert!(parse_object(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn escaped_duplicate_names_are_still_duplicates() {
        assert!(parse_object(br#"{"alg":"RS256","\u0061lg":"none"}"#).is_err());
    }

    /// parse_members must accept and refuse exactly what parse_object does.
    #[test]
    fn members_are_as_strict_as_the_full_parse() {
        let many: String = (0..40).map(|i| format!("\"k{i}\":{i},")).collect();
        // The 17th name is where the name check moves from a list to a hash set.
        let sixteen: String = (0..16).map(|i| format!("\"k{i}\":{i},")).collect();
        let cases: Vec<String> = vec![
            r#"{"a":1,"b":{"c":[1,2,{"d":null}]}}"#.to_string(),
            r#"{"alg":"RS256","alg":"none"}"#.into(),
            r#"{"a":{"b":1,"b":2}}"#.into(),
            r#"{"a":[{"b":1,"b":2}]}"#.into(),
            r#"{"a":[[{"b":1,"c":{"d":1,"d":1}}]]}"#.into(),
            r#"{"alg":"RS256","\u0061lg":"none"}"#.into(),
            r#"{"x":{"\u0062":1,"b":2}}"#.into(),
            format!("{{{many}\"k39\":0}}"),
            format!("{{{many}\"last\":0}}"),
            format!("{{{sixteen}\"k3\":0}}"),
            format!("{{{sixteen}\"k16\":0}}"),
            format!("{{\"n\":{{{many}\"k0\":0}}}}"),
            "[]".into(), "1".into(), "\"x\"".into(), "null".into(), "{} {}".into(), "{".into(), "".into(),
            r#"{"a":1}x"#.into(), r#"{"a":1e400}"#.into(), r#"{"a":"\ud800"}"#.into(), "{\"a\":\"\u{0}\"}".into(),
        ];
        // serde_json's nesting limit (128) must bite at the same depth in both.
        let nested = |depth: usize| format!("{{\"a\":{}1{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1));
        let cases = cases.into_iter().chain([
            nested(127),
            nested(128),
            nested(129),
            r#"{"\ud800":1}"#.into(),
            r#"{"\ud83d\ude00":1,"😀":2}"#.into(),
        ]);
        for case in cases {
            assert_eq!(parse_members(case.as_bytes()).is_ok(), parse_object(case.as_bytes()).is_ok(), "{case}");
        }
        // Bytes that are not UTF-8, inside a value and inside a name.
        for bytes in [&b"{\"a\":\"\xff\"}"[..], b"{\"\xc3\":1}", b"{\"a\":[\"\xed\xa0\x80\"]}"] {
            assert!(parse_object(bytes).is_err() && parse_members(bytes).is_err(), "{bytes:?}");
        }
        assert!(parse_members(nested(100).as_bytes()).is_ok() && parse_members(nested(200).as_bytes()).is_err());
        let escaped = |prefix: &str, name: &str| format!("{{{prefix}\"\\u006b{name}\":0}}");
        for dup in [
            format!("{{{many}\"k39\":0}}"),
            format!("{{{sixteen}\"k3\":0}}"),
            format!("{{{sixteen}\"k15\":0}}"),
            escaped(&sixteen, "3"),
            escaped(&many, "39"),
        ] {
            assert!(parse_members(dup.as_bytes()).unwrap_err().contains("duplicate"), "{dup}");
        }
    }

    #[test]
    fn members_keep_what_validation_reads() {
        let m = parse_members(br#"{"iss":"https://t/","aud":["a","b\/c",3,{"x":1}],"exp":17e8,"iat":-1,"n":null,"o":{"p":"q"},"s":"\u0041"}"#).unwrap();
        assert_eq!(m.get("iss").and_then(Shallow::as_str), Some("https://t/"));
        assert_eq!(
            m.get("aud"),
            Some(&Shallow::Array(vec![
                Shallow::String("a".into()),
                Shallow::String("b/c".into()),
                Shallow::Number(3.0),
                Shallow::Other
            ]))
        );
        assert_eq!(m.get("exp"), Some(&Shallow::Number(1.7e9)));
        assert_eq!(m.get("iat"), Some(&Shallow::Number(-1.0)));
        assert_eq!(m.get("n"), Some(&Shallow::Other));
        assert_eq!(m.get("o"), Some(&Shallow::Other));
        assert_eq!(m.get("s").and_then(Shallow::as_str), Some("A"));
        assert!(m.contains("n") && !m.contains("p"));
        // Verbatim strings borrow from the input; escaped ones are decoded copies.
        assert!(matches!(m.get("iss"), Some(Shallow::String(Cow::Borrowed(_)))));
        assert!(matches!(m.get("s"), Some(Shallow::String(Cow::Owned(_)))));
    }
}
