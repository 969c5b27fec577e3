//! Every way a verification can fail, with the stable code, HTTP status and RFC 6750
//! challenge each one means. Mapping lives here, in one `match`, so callers branch on
//! `ErrorKind`/`code()` and never on messages.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No token at all (empty string, `undefined`).
    TokenMissing,
    /// Not a compact JWS: segments, base64url, JSON, duplicate members, size.
    TokenMalformed,
    /// `alg` missing, not allowed, or not matching the key.
    AlgNotAllowed,
    /// `crit` names an extension this verifier does not understand.
    CritUnsupported,
    /// No key in the JWKS for the token's `kid`.
    KeyNotFound,
    SignatureInvalid,
    IssuerInvalid,
    AudienceInvalid,
    TokenExpired,
    TokenNotYetValid,
    /// A registered claim is missing or of the wrong type (`claim` says which).
    ClaimInvalid,
    /// The `authorizeUser` hook did not return `true`.
    AccessDenied,
    /// The JWKS could not be fetched or parsed and no usable keys are cached. The
    /// issuer's fault, not the client's: distinct status so callers can answer 503.
    JwksUnavailable,
    /// A bug or an impossible state; never the client's fault.
    Internal,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::TokenMissing => "ERR_TOKEN_MISSING",
            ErrorKind::TokenMalformed => "ERR_TOKEN_MALFORMED",
            ErrorKind::AlgNotAllowed => "ERR_ALG_NOT_ALLOWED",
            ErrorKind::CritUnsupported => "ERR_CRIT_UNSUPPORTED",
            ErrorKind::KeyNotFound => "ERR_KEY_NOT_FOUND",
            ErrorKind::SignatureInvalid => "ERR_SIGNATURE_INVALID",
            ErrorKind::IssuerInvalid => "ERR_ISSUER_INVALID",
            ErrorKind::AudienceInvalid => "ERR_AUDIENCE_INVALID",
            ErrorKind::TokenExpired => "ERR_TOKEN_EXPIRED",
            ErrorKind::TokenNotYetValid => "ERR_TOKEN_NOT_YET_VALID",
            ErrorKind::ClaimInvalid => "ERR_CLAIM_INVALID",
            ErrorKind::AccessDenied => "ERR_ACCESS_DENIED",
            ErrorKind::JwksUnavailable => "ERR_JWKS_UNAVAILABLE",
            ErrorKind::Internal => "ERR_INTERNAL",
        }
    }

    /// The HTTP status this failure means for a protected resource.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::AccessDenied => 403,
            ErrorKind::JwksUnavailable => 503,
            ErrorKind::Internal => 500,
            _ => 401,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub kind: ErrorKind,
    /// Human explanation. Never contains the token or any part of it.
    pub message: String,
    /// The claim at fault, for claim errors (`iss`, `aud`, `exp`, ...).
    pub claim: Option<&'static str>,
}

impl VerifyError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        VerifyError { kind, message: message.into(), claim: None }
    }

    pub fn claim(kind: ErrorKind, claim: &'static str, message: impl Into<String>) -> Self {
        VerifyError { kind, message: message.into(), claim: Some(claim) }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TokenMalformed, message)
    }

    pub fn too_long(max_length: usize) -> Self {
        Self::malformed(format!("token is longer than the {max_length}-character limit"))
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The RFC 6750 `WWW-Authenticate` value for this failure, or `None` where no bearer
    /// challenge applies (issuer outage, internal error).
    pub fn www_authenticate(&self, realm: &str) -> Option<String> {
        match self.kind {
            ErrorKind::TokenMissing => Some(bearer_challenge(realm, None, None)),
            ErrorKind::AccessDenied => {
                Some(bearer_challenge(realm, Some("insufficient_scope"), Some(&self.message)))
            }
            ErrorKind::JwksUnavailable | ErrorKind::Internal => None,
            _ => Some(bearer_challenge(realm, Some("invalid_token"), Some(&self.message))),
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for VerifyError {}

/// `Bearer realm="...", error="...", error_description="..."` with RFC 7230 quoted-string
/// escaping. RFC 6750 §3 limits error_description to printable ASCII without `"` and `\`,
/// so anything else is replaced rather than escaped.
pub fn bearer_challenge(realm: &str, error: Option<&str>, description: Option<&str>) -> String {
    let mut out = format!("Bearer realm=\"{}\"", quoted_safe(realm));
    if let Some(error) = error {
        out.push_str(&format!(", error=\"{}\"", quoted_safe(error)));
    }
    if let Some(description) = description {
        out.push_str(&format!(", error_description=\"{}\"", quoted_safe(description)));
    }
    out
}

fn quoted_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_formats_match_rfc6750_examples() {
        assert_eq!(bearer_challenge("api", None, None), r#"Bearer realm="api""#);
        let err = VerifyError::new(ErrorKind::TokenExpired, "token expired");
        assert_eq!(
            err.www_authenticate("api").unwrap(),
            r#"Bearer realm="api", error="invalid_token", error_description="token expired""#
        );
        let denied = VerifyError::new(ErrorKind::AccessDenied, "Access denied");
        assert_eq!(
            denied.www_authenticate("api").unwrap(),
            r#"Bearer realm="api", error="insufficient_scope", error_description="Access denied""#
        );
        assert_eq!(VerifyError::new(ErrorKind::JwksUnavailable, "x").www_authenticate("api"), None);
    }

    #[test]
    fn challenge_values_cannot_break_out_of_quotes() {
        let header = bearer_challenge("a\"b\\c\nd", None, None);
        assert_eq!(header, r#"Bearer realm="a'b'c?d""#);
    }

    #[test]
    fn statuses() {
        assert_eq!(ErrorKind::SignatureInvalid.status(), 401);
        assert_eq!(ErrorKind::AccessDenied.status(), 403);
        assert_eq!(ErrorKind::JwksUnavailable.status(), 503);
    }
}
