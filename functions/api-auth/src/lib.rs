//! api-auth
