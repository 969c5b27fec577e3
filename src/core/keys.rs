//! A JWKS document parsed once into verification keys, indexed by `kid`. Keys are parsed
//! when the JWKS is fetched, never per verify.

use crate::core::algorithms::{Algorithm, KeyFamily};
use crate::core::base64url;
use crate::core::fingerprint::FastHashMap;
use crate::core::json;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};
use std::sync::Arc;

/// RSA keys below this size are refused: 2048 bits is the floor NIST and Auth0 use.
const MIN_RSA_MODULUS_BITS: usize = 2048;

pub struct VerifyingKey {
    pub kid: Option<String>,
    pub family: KeyFamily,
    /// The JWK's own `alg`, when it pins one.
    pub alg: Option<Algorithm>,
    key: DecodingKey,
    /// RS256 (Auth0's algorithm) pre-parsed into aws-lc's key object: jsonwebtoken rebuilds
    /// the RSA key from (n, e) on every call, which measured ~3 us of a ~20 us verify.
    rs256: Option<ParsedPublicKey>,
    /// The JWK as served, to recognise an unchanged key across refreshes.
    source: String,
}

impl VerifyingKey {
    pub fn can_verify(&self, alg: Algorithm) -> bool {
        self.family == alg.key_family() && self.alg.is_none_or(|pinned| pinned == alg)
    }

    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match (&self.rs256, alg) {
            (Some(parsed), Algorithm::RS256) => parsed.verify_sig(message, signature).is_ok(),
            _ => verify_signature(&self.key, alg, message, signature),
        }
    }
}

fn verify_signature(key: &DecodingKey, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
    // jsonwebtoken wants the signature base64url-encoded; we already decoded it strictly.
    use base64::Engine;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
    jsonwebtoken::crypto::verify(&encoded, message, key, alg.to_jsonwebtoken()).unwrap_or(false)
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey").field("kid", &self.kid).field("family", &self.family).finish()
    }
}

#[derive(Debug, Default)]
pub struct KeySet {
    by_kid: FastHashMap<String, Vec<Arc<VerifyingKey>>>,
    all: Vec<Arc<VerifyingKey>>,
}

pub enum KeyLookup {
    Found(Arc<VerifyingKey>),
    /// No key with this kid (or, for a token without kid, no single candidate).
    Missing,
    /// A key with this kid exists but cannot verify the token's alg.
    WrongType,
}

impl KeySet {
    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    pub fn contains_kid(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    pub fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> KeyLookup {
        match kid {
            Some(kid) => match self.by_kid.get(kid) {
                None => KeyLookup::Missing,
                Some(keys) => match keys.iter().find(|k| k.can_verify(alg)) {
                    Some(key) => KeyLookup::Found(key.clone()),
                    None => KeyLookup::WrongType,
                },
            },
            // Without a kid only an unambiguous choice is safe (as jose does).
            None => {
                let mut candidates = self.all.iter().filter(|k| k.can_verify(alg));
                match (candidates.next(), candidates.next()) {
                    (Some(key), None) => KeyLookup::Found(key.clone()),
                    _ => KeyLookup::Missing,
                }
            }
        }
    }

    /// True when a token with this `kid` (as the token carries it) and `alg` would be verified
    /// by exactly this key now: the lookup a fresh verification makes, so a cached answer
    /// stays the one a fresh verify would give (a kid-less token whose key gained a sibling
    /// is ambiguous, and refused, either way).
    pub fn selects(&self, kid: Option<&str>, alg: Algorithm, key: &Arc<VerifyingKey>) -> bool {
        matches!(self.lookup(kid, alg), KeyLookup::Found(found) if Arc::ptr_eq(&found, key))
    }

    /// This set, with every key that `previous` already held unchanged replaced by the
    /// previous instance, so tokens cached under it stay valid across a refresh.
    pub fn reusing(self, previous: &KeySet) -> KeySet {
        let mut merged = KeySet::default();
        for key in self.all {
            let old = previous.all.iter().find(|old| old.kid == key.kid && old.source == key.source);
            merged.insert_arc(old.cloned().unwrap_or(key));
        }
        merged
    }

    fn insert(&mut self, key: VerifyingKey) {
        self.insert_arc(Arc::new(key));
    }

    fn insert_arc(&mut self, key: Arc<VerifyingKey>) {
        if let Some(kid) = &key.kid {
            self.by_kid.entry(kid.clone()).or_default().push(key.clone());
        }
        self.all.push(key);
    }
}

/// Parses a JWKS document. Keys we cannot use (encryption keys, unknown types, weak or
/// broken material) are skipped; a document with no usable signing key is an error, so a
/// broken refresh never replaces good keys.
pub fn parse_jwks(bytes: &[u8]) -> Result<KeySet, String> {
    let doc = json::parse_object(bytes).map_err(|e| format!("JWKS is not a valid JSON object: {e}"))?;
    let Some(Value::Array(entries)) = doc.get("keys") else {
        return Err("JWKS has no \"keys\" array".to_string());
    };
    let mut set = KeySet::default();
    for entry in entries {
        if let Value::Object(jwk) = entry {
            if let Some(key) = parse_jwk(jwk) {
                set.insert(key);
            }
        }
    }
    if set.is_empty() {
        return Err("JWKS holds no usable signing key".to_string());
    }
    Ok(set)
}

fn str_field<'a>(jwk: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

fn parse_jwk(jwk: &Map<String, Value>) -> Option<VerifyingKey> {
    // `use` absent or "sig"; `key_ops`, when present, must allow "verify".
    match jwk.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(_) => return None,
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array()?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return None;
        }
    }
    let alg = match jwk.get("alg") {
        None => None,
        // A key pinned to an algorithm we don't support (e.g. HS256) is not usable.
        Some(Value::String(name)) => Some(Algorithm::from_name(name)?),
        Some(_) => return None,
    };
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return None,
    };
    let mut rs256 = None;
    let (family, key) = match str_field(jwk, "kty")? {
        "RSA" => {
            let n = str_field(jwk, "n")?;
            let e = str_field(jwk, "e")?;
            let n_bytes = base64url::decode(n)?;
            let e_bytes = base64url::decode(e)?;
            if significant_bits(&n_bytes) < MIN_RSA_MODULUS_BITS || e_bytes.is_empty() {
                return None;
            }
            rs256 = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, rsa_public_key_der(&n_bytes, &e_bytes)).ok();
            (KeyFamily::Rsa, DecodingKey::from_rsa_raw_components(&n_bytes, &e_bytes))
        }
        "EC" => {
            let (family, len) = match str_field(jwk, "crv")? {
                "P-256" => (KeyFamily::EcP256, 32),
                "P-384" => (KeyFamily::EcP384, 48),
                _ => return None,
            };
            let (x, y) = (str_field(jwk, "x")?, str_field(jwk, "y")?);
            if base64url::decode(x)?.len() != len || base64url::decode(y)?.len() != len {
                return None;
            }
            (family, DecodingKey::from_ec_components(x, y).ok()?)
        }
        "OKP" => {
            if str_field(jwk, "crv")? != "Ed25519" {
                return None;
            }
            let x = str_field(jwk, "x")?;
            if base64url::decode(x)?.len() != 32 {
                return None;
            }
            (KeyFamily::Ed25519, DecodingKey::from_ed_components(x).ok()?)
        }
        _ => return None,
    };
    if alg.is_some_and(|alg| alg.key_family() != family) {
        return None;
    }
    let source = Value::Object(jwk.clone()).to_string();
    Some(VerifyingKey { kid, family, alg, key, rs256, source })
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` in DER.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn der_len(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    fn integer(out: &mut Vec<u8>, value: &[u8]) {
        let value = &value[value.iter().position(|&b| b != 0).unwrap_or(value.len().saturating_sub(1))..];
        let pad = value.first().is_some_and(|&b| b & 0x80 != 0);
        out.push(0x02);
        der_len(out, value.len() + pad as usize);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(value);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    integer(&mut body, n);
    integer(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    der_len(&mut out, body.len());
    out.extend(body);
    out
}

fn significant_bits(big_endian: &[u8]) -> usize {
    match big_endian.iter().position(|&b| b != 0) {
        None => 0,
        Some(i) => (big_endian.len() - i) * 8 - big_endian[i].leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::base64url::encode;

    fn rsa_jwk(kid: &str, extra: &str) -> String {
        let mut n = vec![0xc5u8; 256];
        n[255] = 0x01;
        format!(r#"{{"kty":"RSA","kid":"{kid}","n":"{}","e":"AQAB"{extra}}}"#, encode(&n))
    }

    #[test]
    fn indexes_keys_by_kid_and_filters_unusable_ones() {
        let doc = format!(
            r#"{{"keys":[{},{},{},{},{{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}}]}}"#,
            rsa_jwk("a", r#","use":"sig","alg":"RS256""#),
            rsa_jwk("enc", r#","use":"enc""#),
            rsa_jwk("hs", r#","alg":"HS256""#),
            rsa_jwk("ops", r#","key_ops":["encrypt"]"#),
        );
        let set = parse_jwks(doc.as_bytes()).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.contains_kid("a"));
        assert!(matches!(set.lookup(Some("a"), Algorithm::RS256), KeyLookup::Found(_)));
        assert!(matches!(set.lookup(Some("a"), Algorithm::RS384), KeyLookup::WrongType));
        assert!(matches!(set.lookup(Some("a"), Algorithm::ES256), KeyLookup::WrongType));
        assert!(matches!(set.lookup(Some("zz"), Algorithm::RS256), KeyLookup::Missing));
        assert!(matches!(set.lookup(None, Algorithm::RS256), KeyLookup::Found(_)));
    }

    #[test]
    fn missing_kid_needs_an_unambiguous_key() {
        let doc = format!(r#"{{"keys":[{},{}]}}"#, rsa_jwk("a", ""), rsa_jwk("b", ""));
        let set = parse_jwks(doc.as_bytes()).unwrap();
        assert!(matches!(set.lookup(None, Algorithm::RS256), KeyLookup::Missing));
    }

    #[test]
    fn refresh_keeps_unchanged_key_instances() {
        let doc = format!(r#"{{"keys":[{},{}]}}"#, rsa_jwk("a", ""), rsa_jwk("b", ""));
        let first = parse_jwks(doc.as_bytes()).unwrap();
        let a = match first.lookup(Some("a"), Algorithm::RS256) { KeyLookup::Found(k) => k, _ => panic!() };
        let doc2 = format!(r#"{{"keys":[{},{}]}}"#, rsa_jwk("a", ""), rsa_jwk("c", ""));
        let second = parse_jwks(doc2.as_bytes()).unwrap().reusing(&first);
        assert!(second.selects(Some("a"), Algorithm::RS256, &a));
        let b = match first.lookup(Some("b"), Algorithm::RS256) { KeyLookup::Found(k) => k, _ => panic!() };
        assert!(!second.selects(Some("b"), Algorithm::RS256, &b));
    }

    #[test]
    fn weak_rsa_keys_are_refused() {
        let n = encode(&[0xffu8; 128]);
        let doc = format!(r#"{{"keys":[{{"kty":"RSA","kid":"w","n":"{n}","e":"AQAB"}}]}}"#);
        assert!(parse_jwks(doc.as_bytes()).is_err());
    }

    #[test]
    fn garbage_documents_are_errors() {
        for bad in [&b"not json"[..], b"{}", b"{\"keys\":{}}", b"{\"keys\":[]}", b"[]", b"{\"keys\":[1,2]}"] {
            assert!(parse_jwks(bad).is_err());
        }
    }

    #[test]
    fn real_rsa_signatures_verify_on_both_paths() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
        use aws_lc_rs::signature::{self, KeyPair as _};
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let parts: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
        let doc = format!(r#"{{"keys":[{{"kty":"RSA","kid":"k","n":"{}","e":"{}"}}]}}"#, encode(&parts.n), encode(&parts.e));
        let set = parse_jwks(doc.as_bytes()).unwrap();
        let key = match set.lookup(Some("k"), Algorithm::RS256) { KeyLookup::Found(k) => k, _ => panic!() };
        assert!(key.rs256.is_some(), "RS256 fast path parsed");
        let message = b"header.payload";
        for (alg, encoding) in [
            (Algorithm::RS256, &signature::RSA_PKCS1_SHA256 as &'static dyn signature::RsaEncoding),
            (Algorithm::RS384, &signature::RSA_PKCS1_SHA384),
            (Algorithm::PS256, &signature::RSA_PSS_SHA256),
        ] {
            let mut sig = vec![0u8; pair.public_modulus_len()];
            pair.sign(encoding, &SystemRandom::new(), message, &mut sig).unwrap();
            assert!(key.verify(alg, message, &sig), "{alg:?}");
            assert!(!key.verify(alg, b"header.payloaD", &sig), "{alg:?} tampered message");
            sig[10] ^= 1;
            assert!(!key.verify(alg, message, &sig), "{alg:?} tampered signature");
        }
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(&signature::RSA_PKCS1_SHA384, &SystemRandom::new(), message, &mut sig).unwrap();
        assert!(!key.verify(Algorithm::RS256, message, &sig), "RS384 signature is not an RS256 one");
    }

    #[test]
    fn bit_counting() {
        assert_eq!(significant_bits(&[0, 0x80, 0]), 16);
        assert_eq!(significant_bits(&[0x01]), 1);
        assert_eq!(significant_bits(&[0, 0]), 0);
    }
}
