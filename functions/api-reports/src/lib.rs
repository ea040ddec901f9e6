//! The reports endpoint group: an AGP-style report of a period as a one-page PDF or an SVG image, built by
//! `glucolens_app::report` and drawn by `glucolens_report`. The caller reads their own report, an owner's through a
//! grant (`X-GlucoLens-Owner`) or through a share link (`?share=`), see `glucolens_web::reader`. Every report is a
//! read of health data, audited in the owner's log before it leaves. A PDF is binary: on Lambda, `lambda_http`
//! sends any body whose content type is not text (`application/pdf`) base64-encoded with `isBase64Encoded`, and
//! API Gateway decodes it; the SVG (`image/svg+xml`) goes as text.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use glucolens_app::report::{self, ReportPeriod};
use glucolens_domain::FieldError;
use glucolens_web::audit::audit_read;
use glucolens_web::reader::{OwnerHeader, ShareLink};
use glucolens_web::AppState;
use glucolens_web::{openapi, with_api_layers, ApiError, ApiQuery, ReportReader, RequestId};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

/// The audit trail's name for a report read.
pub const AUDIT_RESOURCE: &str = "agp_report";

/// Every route this function serves (see `glucolens_web::routes::ROUTES`).
pub fn router(state: AppState) -> Router {
    with_api_layers(Router::new().route("/api/v1/reports/agp", get(agp_report)), state)
}

#[derive(OpenApi)]
#[openapi(
    paths(agp_report),
    tags((name = "reports", description = "Reports of the caller's data for people: the AGP-style report"))
)]
struct ReportsApi;

/// This function's part of the OpenAPI document (merged into the served one by `glucolens openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = ReportsApi::openapi();
    openapi::add_shared_components(&mut api);
    api
}

glucolens_web::problem_responses! {
    /// The problems of `GET /api/v1/reports/agp`.
    ReportProblems = [
        openapi::UNAUTHORIZED,
        ("404", "The caller's account no longer exists"),
        ("422", "Invalid days, end or format; `errors` lists each one"),
        openapi::RATE_LIMITED,
        openapi::UNAVAILABLE,
    ];
}

/// How the report is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Svg,
}

impl Format {
    /// `pdf` or `svg`; anything else is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "pdf" => Some(Format::Pdf),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Svg => "svg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Svg => "image/svg+xml",
        }
    }

    /// The report drawn in this format.
    pub fn render(self, report: &glucolens_report::AgpReport) -> Vec<u8> {
        match self {
            Format::Pdf => glucolens_report::render_pdf(report),
            Format::Svg => glucolens_report::render_svg(report).into_bytes(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// Local days in the report, 1–90 (default 14).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 90)]
    days: Option<String>,
    /// The report's last local day, `YYYY-MM-DD`, at most today (default: yesterday in the caller's zone).
    #[param(value_type = Option<String>, format = Date)]
    end: Option<String>,
    /// `pdf` (default) or `svg`.
    #[param(value_type = Option<String>)]
    format: Option<String>,
}

impl ReportQuery {
    /// Checks every parameter and reports all problems at once.
    fn validate(&self) -> Result<(ReportPeriod, Format), ApiError> {
        let mut errors = Vec::new();
        let period = ReportPeriod::parse(self.days.as_deref(), self.end.as_deref()).unwrap_or_else(|mut e| {
            errors.append(&mut e);
            ReportPeriod::default()
        });
        let format = match self.format.as_deref() {
            None => Format::Pdf,
            Some(raw) => Format::parse(raw).unwrap_or_else(|| {
                errors.push(FieldError::new("format", "invalid_format", "`pdf` or `svg`"));
                Format::Pdf
            }),
        };
        if errors.is_empty() {
            Ok((period, format))
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// The owner's AGP-style report of `days` local days ending with `end`, in their zone and display unit: one A4
/// page with the consensus numbers and targets, the 24-hour percentile profile, the daily profiles with sleep and
/// exercise, and the episodes per week. With fewer than 14 days of data or under 70 % CGM time the page says so.
#[utoipa::path(
    get, path = "/api/v1/reports/agp", tag = "reports",
    params(ReportQuery, OwnerHeader, ShareLink),
    responses(
        (status = 200, description = "The report: `application/pdf` (one page, real text) or `image/svg+xml`",
            content(
                (Vec<u8> = "application/pdf"),
                (String = "image/svg+xml"),
            ),
            headers(("Content-Disposition" = String, description = "`inline; filename=\"agp-report-<first>-<last>.pdf\"` (or `.svg`)"))),
        ReportProblems,
    ),
    security(("bearer" = []))
)]
async fn agp_report(
    State(state): State<AppState>,
    reader: ReportReader,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    // Whose data the report shows: the caller's own, or an owner's through a grant or a share link.
    let owner_id = reader.owner_id;
    let (period, format) = query.validate()?;
    let report = report::agp_report(&state.db, owner_id, period, Utc::now()).await?;
    let body = format.render(&report);
    audit_read(&state, &reader, &request_id, AUDIT_RESOURCE).await?;
    let filename = format!(
        "agp-report-{}-{}.{}",
        report.first_day,
        report.last_day,
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
