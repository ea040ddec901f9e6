//! api-nightscout
