//! The audit of reads: every API read of a user's health data is recorded before the data leaves the service,
//! either by a statement of its own ([`audit_read`]) or by the statement that reads the data ([`read_of`]).

use super::{ApiError, AuthUser, RequestId};
use crate::AppState;
use glucolens_store::audit;

/// Request `request_id`'s read of `resource`, for a store query that records it in the round trip that reads the
/// data (`glucolens_store::audit::read_cte`): the data and its audit row succeed or fail together.
pub fn read_of<'a>(request_id: &'a RequestId, resource: &'a str) -> audit::Read<'a> {
    audit::Read {
        resource,
        request_id: &request_id.0,
    }
}

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
