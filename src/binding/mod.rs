//! The Node.js face of the core: option conversion, promise settling, the class.

mod bound_methods;
mod claims_builder;
mod claims_plan;
mod claims_templates;
mod completion;
mod dispatch;
mod hot_path;
mod job;
mod js;
mod options;
mod runtime;
mod skeletons;
mod wake;
pub mod verifier;
