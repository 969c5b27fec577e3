//! The verifier core: pure Rust, no Node types, tested with `cargo test`.

pub mod algorithms;
pub mod base64url;
pub mod claims;
pub mod errors;
pub mod fingerprint;
pub mod json;
pub mod jwks_cache;
pub mod keys;
pub mod options;
pub mod stats;
pub mod token;
pub mod token_buffers;
pub mod token_cache;
pub mod verifier;
