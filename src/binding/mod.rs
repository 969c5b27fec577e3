//! The Node.js face of the core: option conversion, promise settling, the class.

mod claims_templates;
mod completion;
mod js;
mod options;
mod runtime;
pub mod verifier;
