//! Strict base64url (RFC 7515 §2): URL alphabet, no padding, no whitespace, and no
//! non-canonical trailing bits, so one token has exactly one spelling.

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

pub fn decode(input: &str) -> Option<Vec<u8>> {
    STRICT.decode(input).ok()
}

#[cfg(test)]
pub fn encode(input: &[u8]) -> String {
    STRICT.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_decoding() {
        assert_eq!(decode("eyJ9").unwrap(), b"{\"}");
        assert_eq!(decode("YQ").unwrap(), b"a");
        assert!(decode("YQ==").is_none(), "padding");
        assert!(decode("YR").is_none(), "non-canonical trailing bits");
        assert!(decode("Y Q").is_none(), "whitespace");
        assert!(decode("a+b/").is_none(), "standard alphabet");
        assert!(decode("Y").is_none(), "impossible length");
    }
}
