//! GlucoLens analytics: pure functions over in-memory data. No I/O, no AWS, no SQL, so every
//! algorithm can be tested against the reference libraries' golden outputs and benchmarked alone.

pub mod cgm;
pub mod clustering;
pub mod error;
pub mod matrix_profile;
pub mod meals;
pub mod metrics;
pub mod pcmci;
pub mod rules;
pub mod table;
pub use error::{AnalyticsError, Result};
