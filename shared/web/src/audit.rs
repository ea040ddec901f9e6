//! The audit of reads: every API read of a user's health data is recorded before the data leaves the service.

use super::{ApiError, AuthUser, RequestId};
use crate::AppState;
use glucolens_store::audit;

/// Records `user`'s read of `resource` (request `request_id`) before its data leaves the service: a read that
/// cannot be audited fails.
pub async fn audit_read(
    state: &AppState,
    user: AuthUser,
    request_id: &RequestId,
    resource: &str,
) -> Result<(), ApiError> {
    audit::record(&state.db, user.id, "read", resource, &request_id.0).await?;
    Ok(())
}
