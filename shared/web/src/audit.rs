//! The audit of reads: every API read of a user's health data is recorded in the owner's log, with who read it,
//! before the data leaves the service, either by a statement of its own ([`audit_read`]) or by the statement that
//! reads the data ([`read_of`]).

use super::{ApiError, RequestId};
use crate::reader::Access;
use crate::AppState;
use glucolens_store::audit;

/// Request `request_id`'s read of `resource` through `access`, for a store query that records it in the round trip
/// that reads the data (`glucolens_store::audit::read_cte`): the data and its audit row succeed or fail together.
pub fn read_of<'a>(access: &Access, request_id: &'a RequestId, resource: &'a str) -> audit::Read<'a> {
    audit::Read {
        resource,
        request_id: &request_id.0,
        actor: access.actor,
    }
}

/// Records the read of `resource` through `access` (request `request_id`) in the owner's log before its data
/// leaves the service: a read that cannot be audited fails.
pub async fn audit_read(
    state: &AppState,
    access: &Access,
    request_id: &RequestId,
    resource: &str,
) -> Result<(), ApiError> {
    audit::record_read(&state.db, access.owner_id, read_of(access, request_id, resource)).await?;
    Ok(())
}
