//! Accounts and keys: `/auth/register`, `/auth/me`, key rotation, delivery credentials,
//! webhook target.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::accounts::{Account, StoredCredentials};
use crate::crypto::{key_hash, new_api_key};
use crate::send_api::{ApiFailure, SendErrorBody, body_object, ok, send_state};
use crate::state::AppState;

fn string_field(v: &Value, field: &str, max: usize) -> Result<String, ApiFailure> {
    match v.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => {
            Ok(s.trim().to_owned())
        }
        Some(Value::String(_)) => Err(ApiFailure::field(
            field,
            "field_invalid",
            format!("must be 1 to {max} characters"),
        )),
        None | Some(Value::Null) => Err(ApiFailure::field(field, "field_missing", "is required")),
        Some(_) => Err(ApiFailure::field(
            field,
            "field_invalid",
            "must be a string",
        )),
    }
}

fn optional_string(v: &Value, field: &str) -> Result<Option<String>, ApiFailure> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => string_field(v, field, 64).map(Some),
    }
}

fn account_view(a: &Account) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "email": a.email,
        "plan": a.plan,
        "messagesSent": a.messages_sent,
        "byocConfigured": a.credentials.is_some(),
        "provider": a.credentials.as_ref().map_or("dry_run", StoredCredentials::provider),
        "displayPhoneNumber": a.credentials.as_ref().and_then(StoredCredentials::display_phone_number),
        "webhookUrl": a.webhook_url,
        "createdAt": crate::payload::rfc3339(a.created_at),
        "limits": { "perMinute": a.plan.per_minute(), "bulkCap": a.plan.bulk_cap() },
    })
}

/// Create an account; the API key is in the response only.
#[utoipa::path(
    post, path = "/auth/register", tag = "accounts",
    request_body(content = Object, description = "`{name, email}`"),
    responses(
        (status = 201, description = "`{success, data: {apiKey, account}}` — store the key: it is shown once", body = Object),
        (status = 400, description = "`body_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited` (5 per minute per IP)", body = SendErrorBody),
    )
)]
pub async fn register(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let v = body_object(&body, &["name", "email"])?;
    let name = string_field(&v, "name", 100)?;
    let email = string_field(&v, "email", 254)?;
    let ok_email = email.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
    }) && !email.chars().any(char::is_whitespace);
    if !ok_email {
        return Err(ApiFailure::field(
            "email",
            "field_invalid",
            "must be an e-mail address",
        ));
    }
    let (account, key) = send
        .registry
        .register(name, email)
        .await
        .map_err(internal)?;
    Ok(ok(
        StatusCode::CREATED,
        json!({ "apiKey": key, "account": account_view(&account) }),
    ))
}

fn internal(e: crate::accounts::AccountError) -> ApiFailure {
    match e {
        crate::accounts::AccountError::Credentials(d) => {
            ApiFailure::new(400, d.code(), d.to_string())
        }
        other => ApiFailure::new(500, "store_failed", format!("{other:?}")),
    }
}

/// The calling account (never its key or secrets).
#[utoipa::path(
    get, path = "/auth/me", tag = "accounts",
    responses(
        (status = 200, description = "`{success, data: account}`", body = Object),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn me(Extension(account): Extension<Account>) -> Response {
    ok(StatusCode::OK, account_view(&account))
}

/// A new key; the old one stops working at once.
#[utoipa::path(
    post, path = "/auth/me/rotate-key", tag = "accounts",
    responses(
        (status = 200, description = "`{success, data: {apiKey}}`", body = Object),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    Extension(mut account): Extension<Account>,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let key = new_api_key();
    account.key_hash = key_hash(&key);
    send.registry.save(account).await.map_err(internal)?;
    Ok(ok(StatusCode::OK, json!({ "apiKey": key })))
}

/// Save delivery credentials (Meta Cloud API or WSAPI). Secrets are sealed at rest and
/// never returned.
#[utoipa::path(
    put, path = "/auth/me/credentials", tag = "accounts",
    request_body(content = Object, description = "`{provider: \"meta\", accessToken, phoneNumberId, displayPhoneNumber?}` or `{provider: \"wsapi\", apiKey, instanceId, displayPhoneNumber?}`"),
    responses(
        (status = 200, description = "Saved", body = Object),
        (status = 400, description = "`body_invalid`, `delivery_config_invalid`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn put_credentials(
    State(state): State<AppState>,
    Extension(mut account): Extension<Account>,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let v = body_object(
        &body,
        &[
            "provider",
            "accessToken",
            "phoneNumberId",
            "apiKey",
            "instanceId",
            "displayPhoneNumber",
        ],
    )?;
    let display = optional_string(&v, "displayPhoneNumber")?;
    if let Some(d) = &display {
        wa_validate::Phone::parse(d)
            .map_err(|e| ApiFailure::field("displayPhoneNumber", e.code(), e.to_string()))?;
    }
    let secrets = send.registry.secrets();
    let creds = match string_field(&v, "provider", 16)?.as_str() {
        "meta" => StoredCredentials::Meta {
            access_token: secrets.seal(&string_field(&v, "accessToken", 4096)?),
            phone_number_id: string_field(&v, "phoneNumberId", 32)?,
            display_phone_number: display,
        },
        "wsapi" => StoredCredentials::Wsapi {
            api_key: secrets.seal(&string_field(&v, "apiKey", 4096)?),
            instance_id: string_field(&v, "instanceId", 256)?,
            display_phone_number: display,
        },
        _ => {
            return Err(ApiFailure::field(
                "provider",
                "field_invalid",
                "must be `meta` or `wsapi`",
            ));
        }
    };
    account.credentials = Some(creds);
    let view_account = account.clone();
    send.registry.save(account).await.map_err(internal)?;
    Ok(ok(StatusCode::OK, account_view(&view_account)))
}

/// Remove delivery credentials: the account goes back to the dry-run backend.
#[utoipa::path(
    delete, path = "/auth/me/credentials", tag = "accounts",
    responses(
        (status = 200, description = "Removed", body = Object),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn delete_credentials(
    State(state): State<AppState>,
    Extension(mut account): Extension<Account>,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    account.credentials = None;
    let view_account = account.clone();
    send.registry.save(account).await.map_err(internal)?;
    Ok(ok(StatusCode::OK, account_view(&view_account)))
}

/// Check the saved credentials against the provider.
#[utoipa::path(
    post, path = "/auth/me/credentials/verify", tag = "accounts",
    responses(
        (status = 200, description = "`{success, data: {valid, provider, accountId, displayPhoneNumber, verifiedName}}`", body = Object),
        (status = 400, description = "`credentials_missing`, `delivery_auth`, `delivery_*`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
        (status = 502, description = "`delivery_transient`, `delivery_timeout`, `delivery_network`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn verify_credentials(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    if account.credentials.is_none() {
        return Err(ApiFailure::new(
            400,
            "credentials_missing",
            "save credentials first (PUT /auth/me/credentials)",
        ));
    }
    let backend = wa_send::BackendRouter::backend_for(&*send.registry, &account.id)
        .ok_or_else(|| ApiFailure::new(400, "credentials_missing", "no backend"))?;
    match backend.verify_credentials().await {
        Ok(info) => Ok(ok(
            StatusCode::OK,
            json!({ "valid": true, "provider": backend.name(), "accountId": info.account_id,
                    "displayPhoneNumber": info.display_phone_number, "verifiedName": info.verified_name }),
        )),
        Err(e) => {
            let status = if e.is_retryable() { 502 } else { 400 };
            Err(ApiFailure::new(status, e.code(), e.to_string()))
        }
    }
}

/// Set the status webhook URL; returns a new signing secret (Standard Webhooks, `whsec_…`).
#[utoipa::path(
    put, path = "/auth/me/webhook", tag = "accounts",
    request_body(content = Object, description = "`{url}`"),
    responses(
        (status = 200, description = "`{success, data: {webhookUrl, signingSecret}}` — the secret is shown here only", body = Object),
        (status = 400, description = "`body_invalid`, `webhook_url_invalid`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn put_webhook(
    State(state): State<AppState>,
    Extension(mut account): Extension<Account>,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let v = body_object(&body, &["url"])?;
    let url = string_field(&v, "url", 2048)?;
    wa_send::outbound::check_target(&url, send.allow_private_targets)
        .await
        .map_err(|e| ApiFailure::new(400, "webhook_url_invalid", e.to_string()))?;
    let secret = wa_send::outbound::generate_secret();
    account.webhook_url = Some(url.clone());
    account.signing_secret = send.registry.secrets().seal(&secret);
    send.registry.save(account).await.map_err(internal)?;
    Ok(ok(
        StatusCode::OK,
        json!({ "webhookUrl": url, "signingSecret": secret }),
    ))
}
