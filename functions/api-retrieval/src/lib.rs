//! api-retrieval
