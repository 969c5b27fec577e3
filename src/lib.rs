//! `@example/auth0-native`: Auth0 access-token verification for Node.js.
//!
//! `core` is the verifier in plain Rust; `binding` maps it to JavaScript.

#![deny(clippy::all)]

pub mod binding;
pub mod core;
