//! The asymmetric JWS algorithms this verifier can accept. HMAC and `none` are not
//! representable here at all, so no configuration can verify an HMAC tag with a public
//! key (the classic RS256 -> HS256 confusion) or accept an unsigned token.

use jsonwebtoken::Algorithm as JwtAlgorithm;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

/// The JWK `kty` (and for EC/OKP the curve) a key must have to verify an algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

impl Algorithm {
    /// Exact, case-sensitive names (RFC 7518 §3.1). `rs256` is not `RS256`.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Some(match name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "PS384" => Algorithm::PS384,
            "PS512" => Algorithm::PS512,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "EdDSA" => Algorithm::EdDSA,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    pub fn key_family(self) -> KeyFamily {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyFamily::Rsa,
            Algorithm::ES256 => KeyFamily::EcP256,
            Algorithm::ES384 => KeyFamily::EcP384,
            Algorithm::EdDSA => KeyFamily::Ed25519,
        }
    }

    pub fn to_jsonwebtoken(self) -> JwtAlgorithm {
        match self {
            Algorithm::RS256 => JwtAlgorithm::RS256,
            Algorithm::RS384 => JwtAlgorithm::RS384,
            Algorithm::RS512 => JwtAlgorithm::RS512,
            Algorithm::PS256 => JwtAlgorithm::PS256,
            Algorithm::PS384 => JwtAlgorithm::PS384,
            Algorithm::PS512 => JwtAlgorithm::PS512,
            Algorithm::ES256 => JwtAlgorithm::ES256,
            Algorithm::ES384 => JwtAlgorithm::ES384,
            Algorithm::EdDSA => JwtAlgorithm::EdDSA,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_exact_and_symmetric_algorithms_do_not_exist() {
        assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::RS256));
        for bad in ["rs256", "Rs256", "HS256", "HS384", "HS512", "none", "None", "", "RS256 "] {
            assert_eq!(Algorithm::from_name(bad), None, "{bad}");
        }
        for alg in [Algorithm::RS256, Algorithm::PS512, Algorithm::ES384, Algorithm::EdDSA] {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
    }
}
