//! api-insights
