//! Registered-claim validation for a payload whose signature already verified.
//! Order: iss -> aud -> exp -> nbf -> iat -> sub, each failure naming its claim.

use crate::core::errors::{ErrorKind, VerifyError};
use crate::core::options::Config;
use crate::core::json::{Members, Shallow};

/// What the token cache needs to know about a verified token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifetime {
    /// `exp` in seconds since the epoch.
    pub exp: f64,
    /// The later of `nbf` and `iat`, NEG_INFINITY when neither is present: a cached answer
    /// must stop when a stepped-back clock would make a fresh verify refuse them.
    pub not_before: f64,
}

pub fn validate(payload: &Members, config: &Config, now: f64) -> Result<Lifetime, VerifyError> {
    match payload.get("iss") {
        Some(Shallow::String(iss)) if *iss == config.issuer => {}
        Some(_) => {
            return Err(VerifyError::claim(ErrorKind::IssuerInvalid, "iss", "token issuer (iss) is not the expected issuer"))
        }
        None => return Err(VerifyError::claim(ErrorKind::IssuerInvalid, "iss", "token has no issuer (iss)")),
    }

    let audience_ok = match payload.get("aud") {
        Some(Shallow::String(aud)) => config.audiences.iter().any(|c| c == aud),
        Some(Shallow::Array(auds)) => {
            if auds.iter().any(|a| a.as_str().is_none()) {
                return Err(VerifyError::claim(ErrorKind::AudienceInvalid, "aud", "token audience (aud) holds a non-string value"));
            }
            auds.iter().any(|a| a.as_str().is_some_and(|a| config.audiences.iter().any(|c| c == a)))
        }
        Some(_) => false,
        None => return Err(VerifyError::claim(ErrorKind::AudienceInvalid, "aud", "token has no audience (aud)")),
    };
    if !audience_ok {
        return Err(VerifyError::claim(ErrorKind::AudienceInvalid, "aud", "token audience (aud) is not accepted"));
    }

    let tolerance = config.clock_tolerance_secs;
    let exp = numeric_date(payload, "exp")?
        .ok_or_else(|| VerifyError::claim(ErrorKind::ClaimInvalid, "exp", "token has no expiry (exp)"))?;
    if !is_before_expiry(exp, tolerance, now) {
        return Err(VerifyError::claim(ErrorKind::TokenExpired, "exp", "token has expired"));
    }
    let mut not_before = f64::NEG_INFINITY;
    if let Some(nbf) = numeric_date(payload, "nbf")? {
        not_before = nbf;
        if !is_not_before(nbf, tolerance, now) {
            return Err(VerifyError::claim(ErrorKind::TokenNotYetValid, "nbf", "token is not valid yet (nbf)"));
        }
    }
    if let Some(iat) = numeric_date(payload, "iat")? {
        not_before = not_before.max(iat);
        if !is_not_before(iat, tolerance, now) {
            return Err(VerifyError::claim(ErrorKind::ClaimInvalid, "iat", "token was issued in the future (iat)"));
        }
    }
    if payload.get("sub").is_some_and(|sub| sub.as_str().is_none()) {
        return Err(VerifyError::claim(ErrorKind::ClaimInvalid, "sub", "token subject (sub) is not a string"));
    }
    Ok(Lifetime { exp, not_before })
}

/// The `nbf` / `iat` rule: not later than now, give or take the tolerance.
pub fn is_not_before(not_before: f64, tolerance: f64, now: f64) -> bool {
    not_before <= now + tolerance
}

/// The one expiry rule, shared with the token cache so a cached answer can never outlive
/// what a fresh verification would accept.
pub fn is_before_expiry(exp: f64, tolerance: f64, now: f64) -> bool {
    now < exp + tolerance
}

fn numeric_date(payload: &Members, claim: &'static str) -> Result<Option<f64>, VerifyError> {
    match payload.get(claim) {
        None => Ok(None),
        Some(Shallow::Number(v)) if v.is_finite() => Ok(Some(*v)),
        Some(Shallow::Number(_)) => {
            Err(VerifyError::claim(ErrorKind::ClaimInvalid, claim, format!("token {claim} is not a valid NumericDate")))
        }
        Some(_) => Err(VerifyError::claim(ErrorKind::ClaimInvalid, claim, format!("token {claim} is not a number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::options::RawOptions;
    use serde_json::{json, Value};

    const NOW: f64 = 1_800_000_000.0;

    fn config() -> Config {
        Config::from_options(
            RawOptions {
                domain: Some("t.auth0.com".into()),
                audience: Some(vec!["https://api".into(), "https://api2".into()]),
                ..Default::default()
            },
            |_| None,
        )
        .unwrap()
    }

    fn check(payload: Value) -> Result<Lifetime, VerifyError> {
        let text = payload.to_string();
        validate(&crate::core::json::parse_members(text.as_bytes()).unwrap(), &config(), NOW)
    }

    fn good() -> Value {
        json!({"iss":"https://t.auth0.com/","aud":"https://api","exp":NOW+60.0,"iat":NOW-1.0,"sub":"auth0|1"})
    }

    fn with(key: &str, value: Value) -> Value {
        let mut v = good();
        v[key] = value;
        v
    }

    fn without(key: &str) -> Value {
        let mut v = good();
        v.as_object_mut().unwrap().remove(key);
        v
    }

    fn err(payload: Value) -> (ErrorKind, Option<&'static str>) {
        let e = check(payload).unwrap_err();
        (e.kind, e.claim)
    }

    #[test]
    fn lifetime_carries_exp_and_the_later_of_nbf_and_iat() {
        let lifetime = |v: Value| check(v).unwrap();
        assert_eq!(lifetime(good()), Lifetime { exp: NOW + 60.0, not_before: NOW - 1.0 });
        assert_eq!(lifetime(with("nbf", json!(NOW - 10.0))).not_before, NOW - 1.0);
        assert_eq!(lifetime(with("nbf", json!(NOW + 2.0))).not_before, NOW + 2.0);
        assert_eq!(lifetime(without("iat")).not_before, f64::NEG_INFINITY);
    }

    #[test]
    fn accepts_good_claims() {
        assert_eq!(check(good()).unwrap().exp, NOW + 60.0);
        assert!(check(with("aud", json!(["https://t.auth0.com/userinfo", "https://api2"]))).is_ok());
        assert!(check(without("iat")).is_ok());
        assert!(check(without("sub")).is_ok());
    }

    #[test]
    fn issuer() {
        assert_eq!(err(without("iss")), (ErrorKind::IssuerInvalid, Some("iss")));
        assert_eq!(err(with("iss", json!("https://t.auth0.com"))).0, ErrorKind::IssuerInvalid);
        assert_eq!(err(with("iss", json!("https://T.auth0.com/"))).0, ErrorKind::IssuerInvalid);
        assert_eq!(err(with("iss", json!(["https://t.auth0.com/"]))).0, ErrorKind::IssuerInvalid);
    }

    #[test]
    fn audience() {
        assert_eq!(err(without("aud")).0, ErrorKind::AudienceInvalid);
        assert_eq!(err(with("aud", json!("https://other"))).0, ErrorKind::AudienceInvalid);
        assert_eq!(err(with("aud", json!([]))).0, ErrorKind::AudienceInvalid);
        assert_eq!(err(with("aud", json!(["https://api", 5]))).0, ErrorKind::AudienceInvalid);
        assert_eq!(err(with("aud", json!({"0":"https://api"}))).0, ErrorKind::AudienceInvalid);
        assert_eq!(err(with("aud", json!("https://API"))).0, ErrorKind::AudienceInvalid);
    }

    #[test]
    fn times_with_tolerance() {
        assert_eq!(err(without("exp")), (ErrorKind::ClaimInvalid, Some("exp")));
        assert_eq!(err(with("exp", json!("9999999999"))), (ErrorKind::ClaimInvalid, Some("exp")));
        assert_eq!(err(with("exp", json!(null))).0, ErrorKind::ClaimInvalid);
        assert!(check(with("exp", json!(NOW - 4.0))).is_ok(), "within 5 s tolerance");
        assert_eq!(err(with("exp", json!(NOW - 5.0))).0, ErrorKind::TokenExpired);
        assert_eq!(err(with("exp", json!(NOW - 1000.0))).0, ErrorKind::TokenExpired);
        assert!(check(with("nbf", json!(NOW + 4.0))).is_ok());
        assert_eq!(err(with("nbf", json!(NOW + 6.0))), (ErrorKind::TokenNotYetValid, Some("nbf")));
        assert_eq!(err(with("nbf", json!("0"))).0, ErrorKind::ClaimInvalid);
        assert_eq!(err(with("iat", json!(NOW + 3600.0))), (ErrorKind::ClaimInvalid, Some("iat")));
        assert_eq!(err(with("sub", json!(42))), (ErrorKind::ClaimInvalid, Some("sub")));
    }
}
