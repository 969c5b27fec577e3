//! Verifier configuration: what the user may set, its defaults, and every check that
//! must fail at construction rather than at the first request.

use crate::core::algorithms::Algorithm;
use std::time::Duration;

/// Options as given by the caller; `None` means "use the default".
#[derive(Debug, Default, Clone)]
pub struct RawOptions {
    pub domain: Option<String>,
    pub audience: Option<Vec<String>>,
    pub issuer: Option<String>,
    pub jwks_uri: Option<String>,
    pub algorithms: Option<Vec<String>>,
    pub clock_tolerance_secs: Option<f64>,
    pub max_token_length: Option<f64>,
    pub realm: Option<String>,
    pub jwks_cache_max_age_ms: Option<f64>,
    pub jwks_cooldown_ms: Option<f64>,
    pub jwks_timeout_ms: Option<f64>,
    pub jwks_max_stale_ms: Option<f64>,
    pub jwks_max_bytes: Option<f64>,
    pub token_cache_size: Option<f64>,
}

pub const DEFAULT_CLOCK_TOLERANCE_SECS: f64 = 5.0;
pub const DEFAULT_MAX_TOKEN_LENGTH: usize = 16 * 1024;
pub const DEFAULT_JWKS_CACHE_MAX_AGE: Duration = Duration::from_secs(600);
pub const DEFAULT_JWKS_COOLDOWN: Duration = Duration::from_secs(5);
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_JWKS_MAX_STALE: Duration = Duration::from_secs(6 * 3600);
pub const DEFAULT_JWKS_MAX_BYTES: usize = 256 * 1024;
pub const DEFAULT_TOKEN_CACHE_SIZE: usize = 10_000;

#[derive(Debug, Clone)]
pub struct JwksConfig {
    pub uri: String,
    pub max_age: Duration,
    pub cooldown: Duration,
    pub timeout: Duration,
    pub max_stale: Duration,
    pub max_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub algorithms: Vec<Algorithm>,
    pub clock_tolerance_secs: f64,
    pub max_token_length: usize,
    pub realm: String,
    pub jwks: JwksConfig,
    pub token_cache_size: usize,
}

impl Config {
    /// Validates `raw`; `env` supplies `AUTH0_DOMAIN`/`AUTH0_AUDIENCE` fallbacks.
    pub fn from_options(raw: RawOptions, env: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let domain = raw.domain.or_else(|| env("AUTH0_DOMAIN")).filter(|d| !d.trim().is_empty());
        let issuer = match (raw.issuer, domain) {
            (Some(issuer), _) => validate_issuer(issuer)?,
            (None, Some(domain)) => format!("https://{}/", normalize_domain(&domain)?),
            (None, None) => {
                return Err("a domain is required: pass `domain` (e.g. \"tenant.auth0.com\") or `issuer`, or set AUTH0_DOMAIN".into())
            }
        };
        let audiences = match raw.audience {
            Some(list) => list,
            None => env("AUTH0_AUDIENCE").map(|a| vec![a]).unwrap_or_default(),
        };
        if audiences.is_empty() || audiences.iter().any(|a| a.is_empty()) {
            return Err("an audience is required: pass `audience` (your API identifier, a string or an array of strings) or set AUTH0_AUDIENCE".into());
        }

        let jwks_uri = match raw.jwks_uri {
            Some(uri) => uri,
            None if issuer.ends_with('/') => format!("{issuer}.well-known/jwks.json"),
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        validate_jwks_uri(&jwks_uri)?;

        let algorithms = match raw.algorithms {
            None => vec![Algorithm::RS256],
            Some(names) if names.is_empty() => return Err("`algorithms` must list at least one algorithm".into()),
            Some(names) => names
                .iter()
                .map(|name| {
                    Algorithm::from_name(name).ok_or_else(|| {
                        format!("unsupported algorithm {name:?} in `algorithms`: use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA (HMAC and \"none\" are never accepted)")
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let realm = raw.realm.unwrap_or_else(|| "api".into());
        if realm.is_empty() || realm.chars().any(|c| c == '"' || c == '\\' || !(' '..='~').contains(&c)) {
            return Err("`realm` must be non-empty printable ASCII without quotes or backslashes".into());
        }

        Ok(Config {
            issuer,
            audiences,
            algorithms,
            clock_tolerance_secs: number("clockTolerance", raw.clock_tolerance_secs, DEFAULT_CLOCK_TOLERANCE_SECS, 0.0, 600.0)?,
            max_token_length: number("maxTokenLength", raw.max_token_length, DEFAULT_MAX_TOKEN_LENGTH as f64, 64.0, 1_048_576.0)? as usize,
            realm,
            jwks: JwksConfig {
                uri: jwks_uri,
                max_age: millis("jwksCacheMaxAge", raw.jwks_cache_max_age_ms, DEFAULT_JWKS_CACHE_MAX_AGE, 1.0)?,
                cooldown: millis("jwksCooldown", raw.jwks_cooldown_ms, DEFAULT_JWKS_COOLDOWN, 0.0)?,
                timeout: millis("jwksTimeout", raw.jwks_timeout_ms, DEFAULT_JWKS_TIMEOUT, 1.0)?,
                max_stale: millis("jwksMaxStale", raw.jwks_max_stale_ms, DEFAULT_JWKS_MAX_STALE, 0.0)?,
                max_bytes: number("jwksMaxBytes", raw.jwks_max_bytes, DEFAULT_JWKS_MAX_BYTES as f64, 1024.0, 16.0 * 1_048_576.0)? as usize,
            },
            token_cache_size: number("tokenCacheSize", raw.token_cache_size, DEFAULT_TOKEN_CACHE_SIZE as f64, 0.0, 10_000_000.0)? as usize,
        })
    }
}

fn number(name: &str, value: Option<f64>, default: f64, min: f64, max: f64) -> Result<f64, String> {
    match value {
        None => Ok(default),
        Some(v) if v.is_finite() && v >= min && v <= max => Ok(v),
        Some(v) => Err(format!("`{name}` must be a number from {min} to {max}, got {v}")),
    }
}

fn millis(name: &str, value: Option<f64>, default: Duration, min: f64) -> Result<Duration, String> {
    // Upper bound: one week, far past any sane cache or timeout, and safe for Duration.
    let ms = number(name, value, default.as_millis() as f64, min, 7.0 * 24.0 * 3600.0 * 1000.0)?;
    Ok(Duration::from_micros((ms * 1000.0) as u64))
}

/// Accepts `tenant.auth0.com`, `https://tenant.auth0.com` and a trailing slash, as users
/// paste all three; anything with a path or a plain-http scheme is refused.
fn normalize_domain(domain: &str) -> Result<String, String> {
    let d = domain.trim();
    let d = d.strip_prefix("https://").unwrap_or(d);
    let d = d.strip_suffix('/').unwrap_or(d);
    if d.is_empty() || d.contains("://") || d.contains('/') || d.chars().any(|c| c.is_whitespace() || c == '?' || c == '#' || c == '@') {
        return Err(format!("`domain` must be a host name such as \"tenant.auth0.com\", got {domain:?} (use `issuer` for a full URL)"));
    }
    Ok(d.to_ascii_lowercase())
}

fn validate_issuer(issuer: String) -> Result<String, String> {
    let url = reqwest::Url::parse(&issuer).map_err(|_| format!("`issuer` must be an absolute URL, got {issuer:?}"))?;
    if url.scheme() != "https" && !(url.scheme() == "http" && is_loopback(&url)) {
        return Err(format!("`issuer` must be an https:// URL (http:// only for loopback hosts), got {issuer:?}"));
    }
    Ok(issuer)
}

fn validate_jwks_uri(uri: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(uri).map_err(|_| format!("`jwksUri` must be an absolute URL, got {uri:?}"))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!("`jwksUri` must use https:// (plain http:// is only allowed for loopback hosts such as 127.0.0.1), got {uri:?}")),
        other => Err(format!("`jwksUri` must be an https:// URL, got scheme {other:?}")),
    }
}

pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn opts(domain: &str, audience: &str) -> RawOptions {
        RawOptions { domain: Some(domain.into()), audience: Some(vec![audience.into()]), ..Default::default() }
    }

    #[test]
    fn derives_issuer_and_jwks_uri_from_domain() {
        for domain in ["tenant.auth0.com", "https://tenant.auth0.com", "https://tenant.auth0.com/", "Tenant.Auth0.com"] {
            let c = Config::from_options(opts(domain, "https://api"), no_env).unwrap();
            assert_eq!(c.issuer, "https://tenant.auth0.com/");
            assert_eq!(c.jwks.uri, "https://tenant.auth0.com/.well-known/jwks.json");
            assert_eq!(c.algorithms, vec![Algorithm::RS256]);
            assert_eq!(c.clock_tolerance_secs, 5.0);
        }
    }

    #[test]
    fn env_fallbacks() {
        let env = |k: &str| match k {
            "AUTH0_DOMAIN" => Some("env.auth0.com".to_string()),
            "AUTH0_AUDIENCE" => Some("https://env-api".to_string()),
            _ => None,
        };
        let c = Config::from_options(RawOptions::default(), env).unwrap();
        assert_eq!(c.issuer, "https://env.auth0.com/");
        assert_eq!(c.audiences, vec!["https://env-api"]);
    }

    #[test]
    fn rejects_bad_options() {
        let bad = |raw: RawOptions| Config::from_options(raw, no_env).unwrap_err();
        assert!(bad(RawOptions::default()).contains("domain"));
        assert!(bad(RawOptions { domain: Some("t.auth0.com".into()), ..Default::default() }).contains("audience"));
        assert!(bad(RawOptions { audience: Some(vec![]), ..opts("t.auth0.com", "a") }).contains("audience"));
        assert!(bad(opts("http://t.auth0.com", "a")).contains("domain"));
        assert!(bad(opts("t.auth0.com/path", "a")).contains("domain"));
        assert!(bad(RawOptions { algorithms: Some(vec!["HS256".into()]), ..opts("t", "a") }).contains("HS256"));
        assert!(bad(RawOptions { algorithms: Some(vec!["none".into()]), ..opts("t", "a") }).contains("none"));
        assert!(bad(RawOptions { algorithms: Some(vec![]), ..opts("t", "a") }).contains("algorithms"));
        assert!(bad(RawOptions { jwks_uri: Some("http://evil.example/jwks".into()), ..opts("t", "a") }).contains("https"));
        assert!(bad(RawOptions { jwks_uri: Some("file:///etc/passwd".into()), ..opts("t", "a") }).contains("https"));
        assert!(bad(RawOptions { clock_tolerance_secs: Some(-1.0), ..opts("t", "a") }).contains("clockTolerance"));
        assert!(bad(RawOptions { clock_tolerance_secs: Some(f64::NAN), ..opts("t", "a") }).contains("clockTolerance"));
        assert!(bad(RawOptions { issuer: Some("http://example.com/".into()), audience: Some(vec!["a".into()]), ..Default::default() }).contains("issuer"));
    }

    #[test]
    fn loopback_http_is_allowed_for_tests() {
        let raw = RawOptions {
            issuer: Some("http://127.0.0.1:4000/".into()),
            audience: Some(vec!["a".into()]),
            ..Default::default()
        };
        let c = Config::from_options(raw, no_env).unwrap();
        assert_eq!(c.jwks.uri, "http://127.0.0.1:4000/.well-known/jwks.json");
    }
}
