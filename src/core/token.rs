//! Splitting a compact JWS and validating its protected header, before any key lookup.
//! Order follows what works in jose: size -> segments -> header JSON -> crit -> alg.
//! `jku`, `x5u`, `x5c` and `jwk` header members are never read: keys come only from the
//! configured JWKS.

use crate::core::algorithms::Algorithm;
use crate::core::base64url;
use crate::core::errors::{ErrorKind, VerifyError};
use crate::core::json::{self, Shallow};

#[derive(Debug)]
pub struct CompactToken<'a> {
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    pub payload_b64: &'a str,
    pub signature: Vec<u8>,
    pub header: ProtectedHeader,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedHeader {
    pub alg: Algorithm,
    pub kid: Option<String>,
}

/// Parses and validates everything that can be checked without a key.
pub fn parse<'a>(
    token: &'a str,
    max_length: usize,
    allowed: &[Algorithm],
) -> Result<CompactToken<'a>, VerifyError> {
    if token.is_empty() {
        return Err(VerifyError::new(ErrorKind::TokenMissing, "no access token was provided"));
    }
    // Before any decoding, so an oversized token costs one comparison.
    if token.len() > max_length {
        return Err(VerifyError::too_long(max_length));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::malformed("token is not a compact JWS (three dot-separated parts)"));
    };
    if header_b64.is_empty() || payload_b64.is_empty() || signature_b64.is_empty() {
        return Err(VerifyError::malformed("token has an empty header, payload or signature"));
    }
    let header_bytes = base64url::decode(header_b64)
        .ok_or_else(|| VerifyError::malformed("token header is not valid base64url"))?;
    let header = parse_header(&header_bytes, allowed)?;
    let signature = base64url::decode(signature_b64)
        .ok_or_else(|| VerifyError::malformed("token signature is not valid base64url"))?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    Ok(CompactToken { signing_input, payload_b64, signature, header })
}

fn parse_header(bytes: &[u8], allowed: &[Algorithm]) -> Result<ProtectedHeader, VerifyError> {
    let header = json::parse_members(bytes)
        .map_err(|e| VerifyError::malformed(format!("token header is not a valid JSON object: {e}")))?;

    // RFC 7515 §4.1.11: a recipient must reject a token whose `crit` lists an extension
    // it does not understand. We understand none, so any `crit` member is rejected.
    if header.contains("crit") {
        return Err(VerifyError::new(
            ErrorKind::CritUnsupported,
            "token header lists critical extensions (crit) that this verifier does not support",
        ));
    }

    let alg = match header.get("alg") {
        Some(Shallow::String(name)) => name,
        Some(_) => return Err(VerifyError::new(ErrorKind::AlgNotAllowed, "token header alg is not a string")),
        None => return Err(VerifyError::new(ErrorKind::AlgNotAllowed, "token header has no alg")),
    };
    let alg = Algorithm::from_name(alg)
        .filter(|alg| allowed.contains(alg))
        .ok_or_else(|| {
            let allowed: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
            VerifyError::new(
                ErrorKind::AlgNotAllowed,
                format!("token alg is not allowed (allowed: {})", allowed.join(", ")),
            )
        })?;

    let kid = match header.get("kid") {
        None => None,
        Some(Shallow::String(kid)) => Some(kid.to_string()),
        Some(_) => return Err(VerifyError::malformed("token header kid is not a string")),
    };
    Ok(ProtectedHeader { alg, kid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::base64url::encode;

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.c2ln", encode(header.as_bytes()), encode(payload.as_bytes()))
    }

    const RS: &[Algorithm] = &[Algorithm::RS256];

    fn kind(t: &str) -> ErrorKind {
        parse(t, 16384, RS).unwrap_err().kind
    }

    #[test]
    fn parses_a_good_header() {
        let t = token(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#, "{}");
        let parsed = parse(&t, 16384, RS).unwrap();
        assert_eq!(parsed.header, ProtectedHeader { alg: Algorithm::RS256, kid: Some("k1".into()) });
        assert_eq!(parsed.signature, b"sig");
        assert!(t.starts_with(parsed.signing_input));
        assert_eq!(parsed.signing_input.matches('.').count(), 1);
    }

    #[test]
    fn shape_errors() {
        assert_eq!(kind(""), ErrorKind::TokenMissing);
        assert_eq!(kind("a.b"), ErrorKind::TokenMalformed);
        assert_eq!(kind("a.b.c.d"), ErrorKind::TokenMalformed);
        assert_eq!(kind("a..c"), ErrorKind::TokenMalformed);
        assert_eq!(kind("eyJhbGciOiJSUzI1NiJ9.e30."), ErrorKind::TokenMalformed);
        assert_eq!(kind("eyJhbGciOiJSUzI1NiJ9=.e30.c2ln"), ErrorKind::TokenMalformed);
        let huge = "a".repeat(20000);
        assert_eq!(parse(&huge, 16384, RS).unwrap_err().kind, ErrorKind::TokenMalformed);
    }

    #[test]
    fn header_errors() {
        assert_eq!(kind(&token(r#"{"alg":"none"}"#, "{}")), ErrorKind::AlgNotAllowed);
        assert_eq!(kind(&token(r#"{"alg":"HS256"}"#, "{}")), ErrorKind::AlgNotAllowed);
        assert_eq!(kind(&token(r#"{"alg":"rs256"}"#, "{}")), ErrorKind::AlgNotAllowed);
        assert_eq!(kind(&token(r#"{"alg":"RS384"}"#, "{}")), ErrorKind::AlgNotAllowed);
        assert_eq!(kind(&token(r#"{"typ":"JWT"}"#, "{}")), ErrorKind::AlgNotAllowed);
        assert_eq!(kind(&token(r#"{"alg":["RS256"]}"#, "{}")), ErrorKind::AlgNotAllowed);
        assert_eq!(kind(&token(r#"{"alg":"RS256","crit":["exp"],"exp":1}"#, "{}")), ErrorKind::CritUnsupported);
        assert_eq!(kind(&token(r#"{"alg":"RS256","alg":"RS256"}"#, "{}")), ErrorKind::TokenMalformed);
        assert_eq!(kind(&token(r#"["RS256"]"#, "{}")), ErrorKind::TokenMalformed);
        assert_eq!(kind(&token(r#"{"alg":"RS256","kid":5}"#, "{}")), ErrorKind::TokenMalformed);
    }
}
