//! The API's route table: which Lambda (endpoint group) serves each method and path. API Gateway's routes in
//! `template.yaml` and the local server (`glucolens serve`) are both checked against this one list.

/// The HTTP functions, one per endpoint group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Auth,
    Ingestion,
    Retrieval,
    Insights,
    Tasks,
    Docs,
    Nightscout,
    Imports,
    Reports,
}

impl Function {
    /// The function's logical id in `template.yaml`.
    pub fn template_id(self) -> &'static str {
        match self {
            Function::Auth => "AuthFunction",
            Function::Ingestion => "IngestionFunction",
            Function::Retrieval => "RetrievalFunction",
            Function::Insights => "InsightsFunction",
            Function::Tasks => "TasksFunction",
            Function::Docs => "DocsFunction",
            Function::Nightscout => "NightscoutFunction",
            Function::Imports => "ImportsFunction",
            Function::Reports => "ReportsFunction",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// API Gateway path syntax: `{name}` for a path parameter.
    pub path: &'static str,
    pub function: Function,
}

const fn route(method: &'static str, path: &'static str, function: Function) -> Route {
    Route { method, path, function }
}

use Function::*;

pub const ROUTES: &[Route] = &[
    route("GET", "/api/v1/health", Docs),
    route("GET", "/api/v1/openapi.json", Docs),
    route("GET", "/docs", Docs),
    route("POST", "/api/v1/auth/register", Auth),
    route("POST", "/api/v1/auth/login", Auth),
    route("POST", "/api/v1/auth/refresh", Auth),
    route("POST", "/api/v1/auth/logout", Auth),
    route("GET", "/api/v1/auth/me", Auth),
    route("PATCH", "/api/v1/users/me", Auth),
    route("DELETE", "/api/v1/users/me", Auth),
    route("GET", "/api/v1/users/me/export", Auth),
    route("GET", "/api/v1/users/me/access-log", Auth),
    route("POST", "/api/v1/shares", Auth),
    route("GET", "/api/v1/shares", Auth),
    route("GET", "/api/v1/shares/received", Auth),
    route("DELETE", "/api/v1/shares/{id}", Auth),
    route("GET", "/api/v1/glucose/readings", Retrieval),
    route("GET", "/api/v1/glucose/daily-summary", Retrieval),
    route("GET", "/api/v1/dashboard/summary", Retrieval),
    route("GET", "/api/v1/glucose/readings/{id}", Retrieval),
    route("GET", "/api/v1/sleep", Retrieval),
    route("GET", "/api/v1/sleep/{id}", Retrieval),
    route("GET", "/api/v1/activities", Retrieval),
    route("GET", "/api/v1/activities/{id}", Retrieval),
    route("GET", "/api/v1/meals", Retrieval),
    route("GET", "/api/v1/meals/{id}", Retrieval),
    route("GET", "/api/v1/insights/correlations", Insights),
    route("GET", "/api/v1/insights/patterns", Insights),
    route("GET", "/api/v1/insights/episodes", Insights),
    route("GET", "/api/v1/insights/meals", Insights),
    route("GET", "/api/v1/insights/recommendations", Insights),
    route("POST", "/api/v1/insights/trigger-analysis", Insights),
    route("GET", "/api/v1/reports/agp", Reports),
    route("POST", "/api/v1/tasks/aggregate-daily", Tasks),
    route("POST", "/api/v1/tasks/discover-patterns", Tasks),
    route("GET", "/api/v1/tasks/status/{task_id}", Tasks),
    route("POST", "/api/v1/glucose/readings", Ingestion),
    route("POST", "/api/v1/glucose/bulk", Ingestion),
    route("POST", "/api/v1/sleep", Ingestion),
    route("POST", "/api/v1/sleep/bulk", Ingestion),
    route("POST", "/api/v1/activities", Ingestion),
    route("POST", "/api/v1/activities/bulk", Ingestion),
    route("POST", "/api/v1/meals", Ingestion),
    route("POST", "/api/v1/meals/bulk", Ingestion),
    route("POST", "/api/v1/integrations/apple-health", Ingestion),
    route("DELETE", "/api/v1/glucose/readings", Ingestion),
    route("PATCH", "/api/v1/glucose/readings/{id}", Ingestion),
    route("DELETE", "/api/v1/glucose/readings/{id}", Ingestion),
    route("PATCH", "/api/v1/sleep/{id}", Ingestion),
    route("DELETE", "/api/v1/sleep/{id}", Ingestion),
    route("PATCH", "/api/v1/activities/{id}", Ingestion),
    route("DELETE", "/api/v1/activities/{id}", Ingestion),
    route("PATCH", "/api/v1/meals/{id}", Ingestion),
    route("DELETE", "/api/v1/meals/{id}", Ingestion),
    route("POST", "/api/v1/imports", Imports),
    route("POST", "/api/v1/imports/uploads", Imports),
    route("GET", "/api/v1/imports/{id}", Imports),
    route("GET", "/api/v1/status", Nightscout),
    route("GET", "/api/v1/status.json", Nightscout),
    route("GET", "/api/v1/entries", Nightscout),
    route("GET", "/api/v1/entries.json", Nightscout),
    route("POST", "/api/v1/entries", Nightscout),
    route("POST", "/api/v1/entries.json", Nightscout),
    route("POST", "/api/v1/treatments", Nightscout),
    route("POST", "/api/v1/treatments.json", Nightscout),
    route("POST", "/api/v1/integrations/nightscout/secret", Nightscout),
    route("DELETE", "/api/v1/integrations/nightscout/secret", Nightscout),
];
