//! The analytics layer's one error type: every failure is bad or insufficient input, never I/O.

/// Why an analysis could not run on the given input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyticsError {
    /// Input text could not be parsed (CSV/JSON row, column, value).
    #[error("line {line}: {reason}")]
    Parse { line: usize, reason: String },
    /// A parameter or an input column is outside what the algorithm accepts.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    /// Too little usable data for the requested analysis.
    #[error("not enough data: {reason}")]
    InsufficientData { reason: String },
}

pub type Result<T> = std::result::Result<T, AnalyticsError>;
