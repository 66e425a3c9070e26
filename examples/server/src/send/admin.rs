//! The operator API (billing is out of scope, so plans are set here): `PUT
//! /admin/accounts/{id}/plan` with `Authorization: Bearer <WA_ADMIN_TOKEN>`. Without
//! `WA_ADMIN_TOKEN` the routes answer 403 `admin_disabled`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::SendState;
use super::dto::{AccountStatusBody, AccountStatusSet, PlanBody, PlanSet, ok};
use crate::crypto::hashes_equal;
use crate::error::{ApiError, SendApiError, SendErrorBody};
use crate::extract::SendJson;

fn check(send: &SendState, headers: &HeaderMap) -> Result<(), SendApiError> {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err(ApiError::new(
            "admin_token_invalid",
            "send `Authorization: Bearer <WA_ADMIN_TOKEN>`",
        ));
    };
    let Some(token) = send.config.admin_token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(ApiError::new(
            "admin_disabled",
            "start the server with WA_ADMIN_TOKEN to use the operator API",
        ));
    };
    if hashes_equal(
        &crate::crypto::key_hash(given),
        &crate::crypto::key_hash(token),
    ) {
        Ok(())
    } else {
        Err(ApiError::new("admin_token_invalid", "wrong operator token"))
    }
}

/// Set an account's plan (operator only).
#[utoipa::path(
    put, path = "/admin/accounts/{id}/plan", tag = "admin", operation_id = "setAccountPlan",
    params(("id" = String, Path, description = "Account id")),
    request_body = PlanBody,
    responses(
        (status = 200, description = "Set", body = inline(super::dto::Envelope<PlanSet>)),
        (status = 400, description = "`body_invalid`", body = SendErrorBody),
        (status = 401, description = "`admin_token_invalid`", body = SendErrorBody),
        (status = 404, description = "`account_not_found`", body = SendErrorBody),
        (status = 413, description = "`body_too_large`", body = SendErrorBody),
        (status = 403, description = "`admin_disabled`: the server runs without `WA_ADMIN_TOKEN`", body = SendErrorBody),
    ),
    security(("admin_token" = []))
)]
pub async fn set_plan(
    State(send): State<Arc<SendState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    SendJson(body): SendJson<PlanBody>,
) -> Result<Response, SendApiError> {
    check(&send, &headers)?;
    if !send.accounts.set_plan(&id, body.plan).await? {
        return Err(ApiError::new("account_not_found", "no such account"));
    }
    Ok(ok(
        StatusCode::OK,
        PlanSet {
            id,
            plan: body.plan,
        },
    ))
}

/// Deactivate or reactivate an account (operator only): a deactivated account's key
/// answers 403 `account_deactivated` (WhatsAPI's "Your account has been deactivated").
#[utoipa::path(
    put, path = "/admin/accounts/{id}/status", tag = "admin", operation_id = "setAccountStatus",
    params(("id" = String, Path, description = "Account id")),
    request_body = AccountStatusBody,
    responses(
        (status = 200, description = "Set", body = inline(super::dto::Envelope<AccountStatusSet>)),
        (status = 400, description = "`body_invalid`", body = SendErrorBody),
        (status = 401, description = "`admin_token_invalid`", body = SendErrorBody),
        (status = 403, description = "`admin_disabled`: the server runs without `WA_ADMIN_TOKEN`", body = SendErrorBody),
        (status = 404, description = "`account_not_found`", body = SendErrorBody),
        (status = 413, description = "`body_too_large`", body = SendErrorBody),
    ),
    security(("admin_token" = []))
)]
pub async fn set_status(
    State(send): State<Arc<SendState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    SendJson(body): SendJson<AccountStatusBody>,
) -> Result<Response, SendApiError> {
    check(&send, &headers)?;
    if !send
        .accounts
        .set_active(&id, body.active, send.now())
        .await?
    {
        return Err(ApiError::new("account_not_found", "no such account"));
    }
    Ok(ok(
        StatusCode::OK,
        AccountStatusSet {
            id,
            active: body.active,
        },
    ))
}
