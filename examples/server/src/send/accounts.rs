//! `/auth/*`: registration, the account, key rotation, delivery credentials, the status
//! webhook.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::SendState;
use super::dto::{
    AccountView, CredentialCheck, CredentialsBody, KeyRotated, Limits, RegisterBody, Registered,
    WebhookBody, WebhookRemoved, WebhookSet, ok,
};
use crate::error::{ApiError, SendApiError, SendErrorBody};
use crate::extract::SendJson;
use crate::storage::{Account, StoredCredentials};

type Result<T = Response> = std::result::Result<T, SendApiError>;

/// The account as the API shows it.
pub async fn view(send: &SendState, a: &Account) -> Result<AccountView> {
    let summary = send.dispatcher.summary(&a.id).await?;
    Ok(AccountView {
        name: a.name.clone(),
        email: a.email.clone(),
        plan: a.plan,
        messages_sent: summary.total,
        byoc_configured: a.credentials.is_some(),
        webhook_url: a.webhook_url.clone(),
        id: a.id.clone(),
        provider: a
            .credentials
            .as_ref()
            .map_or("dry_run", StoredCredentials::provider)
            .to_owned(),
        display_phone_number: a
            .credentials
            .as_ref()
            .and_then(StoredCredentials::display_phone_number)
            .map(str::to_owned),
        phone_number_id: a.phone_number_id.clone(),
        created_at: a.created_at,
        limits: Limits {
            per_minute: a.plan.per_minute(),
            bulk_cap: send.bulk_caps.of(a.plan),
        },
    })
}

fn text_field(field: &str, value: String, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(ApiError::field(
            field,
            "field_invalid",
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// Create an account; the API key is in the response only.
#[utoipa::path(
    post, path = "/auth/register", tag = "accounts", operation_id = "register",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered; store the key: it is shown once", body = inline(super::dto::Envelope<Registered>)),
        (status = 400, description = "`body_invalid`", body = SendErrorBody),
        (status = 413, description = "`body_too_large`", body = SendErrorBody),
        (status = 429, description = "`rate_limited` (5 per minute per IP)", body = SendErrorBody),
    ),
    security(())
)]
pub async fn register(
    State(send): State<Arc<SendState>>,
    SendJson(body): SendJson<RegisterBody>,
) -> Result {
    let name = text_field("name", body.name, 100)?;
    let email = text_field("email", body.email, 254)?;
    let ok_email = email.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
    }) && !email.chars().any(char::is_whitespace);
    if !ok_email {
        return Err(ApiError::field(
            "email",
            "field_invalid",
            "must be an e-mail address",
        ));
    }
    let (account, key) = send.accounts.register(name, email, send.now()).await?;
    Ok(ok(
        StatusCode::CREATED,
        Registered {
            api_key: key,
            plan: account.plan,
            callback_secret: send
                .accounts
                .open(&account.callback_secret)
                .unwrap_or_default(),
            account: view(&send, &account).await?,
        },
    ))
}

/// The calling account (never its key or secrets).
#[utoipa::path(
    get, path = "/auth/me", tag = "accounts", operation_id = "getAccount",
    responses(
        (status = 200, description = "The account", body = inline(super::dto::Envelope<AccountView>)),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn me(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
) -> Result {
    Ok(ok(StatusCode::OK, view(&send, &account).await?))
}

/// A new key; the old one stops working at once.
#[utoipa::path(
    post, path = "/auth/me/rotate-key", tag = "accounts", operation_id = "rotateKey",
    responses(
        (status = 200, description = "The new key, shown once", body = inline(super::dto::Envelope<KeyRotated>)),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn rotate_key(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
) -> Result {
    let key = send.accounts.rotate_key(&account.id).await?;
    Ok(ok(StatusCode::OK, KeyRotated { api_key: key }))
}

fn required(field: &str, v: Option<String>, max: usize) -> Result<String> {
    match v {
        Some(s) => text_field(field, s, max),
        None => Err(ApiError::field(field, "field_missing", "is required")),
    }
}

fn credentials(send: &SendState, b: CredentialsBody) -> Result<StoredCredentials> {
    let display = b.display_phone_number.map(|d| d.trim().to_owned());
    if let Some(d) = &display {
        wa_validate::Phone::parse(d)
            .map_err(|e| ApiError::field("displayPhoneNumber", e.code(), e.to_string()))?;
    }
    let secrets = send.accounts.secrets();
    let provider =
        b.provider
            .as_deref()
            .unwrap_or(if b.api_key.is_some() { "wsapi" } else { "meta" });
    Ok(match provider {
        "meta" => StoredCredentials::Meta {
            access_token: secrets.seal(&required(
                "whatsappAccessToken",
                b.whatsapp_access_token,
                4096,
            )?),
            phone_number_id: required("whatsappPhoneNumberId", b.whatsapp_phone_number_id, 32)?,
            display_phone_number: display,
        },
        "wsapi" => StoredCredentials::Wsapi {
            api_key: secrets.seal(&required("apiKey", b.api_key, 4096)?),
            instance_id: required("instanceId", b.instance_id, 256)?,
            display_phone_number: display,
        },
        _ => {
            return Err(ApiError::field(
                "provider",
                "field_invalid",
                "must be `meta` or `wsapi`",
            ));
        }
    })
}

/// Save delivery credentials: WhatsAPI's `{whatsappAccessToken, whatsappPhoneNumberId}`
/// (Meta Cloud API) or `{provider: "wsapi", apiKey, instanceId}`. Secrets are sealed at rest
/// and never returned. Inbound messages to the number are routed to the account only after
/// `POST /auth/me/credentials/verify` proves the token owns the phone number id.
#[utoipa::path(
    put, path = "/auth/me/credentials", tag = "accounts", operation_id = "saveCredentials",
    request_body = CredentialsBody,
    responses(
        (status = 200, description = "Saved", body = inline(super::dto::Envelope<AccountView>)),
        (status = 400, description = "`body_invalid`, `delivery_config_invalid`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 413, description = "`body_too_large`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn put_credentials(
    State(send): State<Arc<SendState>>,
    Extension(mut account): Extension<Account>,
    SendJson(body): SendJson<CredentialsBody>,
) -> Result {
    let creds = credentials(&send, body)?;
    // Refuse credentials that cannot make a backend before saving them.
    send.routing.backend(Some(&creds))?;
    send.accounts
        .set_credentials(&account.id, Some(&creds))
        .await?;
    send.routing.invalidate(&account.id);
    account.credentials = Some(creds);
    account.phone_number_id = None;
    Ok(ok(StatusCode::OK, view(&send, &account).await?))
}

/// Remove delivery credentials: the account goes back to the dry-run backend.
#[utoipa::path(
    delete, path = "/auth/me/credentials", tag = "accounts", operation_id = "deleteCredentials",
    responses(
        (status = 200, description = "Removed", body = inline(super::dto::Envelope<AccountView>)),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn delete_credentials(
    State(send): State<Arc<SendState>>,
    Extension(mut account): Extension<Account>,
) -> Result {
    send.accounts.set_credentials(&account.id, None).await?;
    send.routing.invalidate(&account.id);
    account.credentials = None;
    account.phone_number_id = None;
    Ok(ok(StatusCode::OK, view(&send, &account).await?))
}

/// Check the saved credentials against the provider. For Meta, success also proves the
/// token owns the phone number id, which then routes inbound messages to this account
/// (one account per phone number id).
#[utoipa::path(
    post, path = "/auth/me/credentials/verify", tag = "accounts", operation_id = "verifyCredentials",
    responses(
        (status = 200, description = "Valid", body = inline(super::dto::Envelope<CredentialCheck>)),
        (status = 400, description = "`credentials_missing`, `delivery_auth`, `delivery_*`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 409, description = "`phone_number_id_taken`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
        (status = 502, description = "`delivery_transient`, `delivery_timeout`, `delivery_network`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn verify_credentials(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
) -> Result {
    let Some(creds) = account.credentials.as_ref() else {
        return Err(ApiError::new(
            "credentials_missing",
            "save credentials first (PUT /auth/me/credentials)",
        ));
    };
    let backend = send.routing.backend(Some(creds))?;
    let info = backend.verify_credentials().await?;
    if let StoredCredentials::Meta {
        phone_number_id, ..
    } = creds
        && info.account_id == *phone_number_id
    {
        send.accounts
            .claim_phone_number_id(&account.id, phone_number_id)
            .await?;
        send.routing.invalidate(&account.id);
    }
    Ok(ok(
        StatusCode::OK,
        CredentialCheck {
            valid: true,
            provider: backend.name().to_owned(),
            account_id: info.account_id,
            display_phone_number: info.display_phone_number,
            verified_name: info.verified_name,
        },
    ))
}

/// Set the status webhook URL; returns a new signing secret (Standard Webhooks, `whsec_…`).
#[utoipa::path(
    put, path = "/auth/me/webhook", tag = "accounts", operation_id = "setWebhook",
    request_body = WebhookBody,
    responses(
        (status = 200, description = "Saved; the secret is shown here only", body = inline(super::dto::Envelope<WebhookSet>)),
        (status = 400, description = "`body_invalid`, `webhook_url_invalid`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 413, description = "`body_too_large`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn put_webhook(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    SendJson(body): SendJson<WebhookBody>,
) -> Result {
    let url = text_field("url", body.url, 2048)?;
    let policy = wa_send::webhook::outgoing::TargetPolicy::PUBLIC
        .allow_private(send.config.allow_private_targets);
    wa_send::webhook::outgoing::check_target(&url, policy)
        .await
        .map_err(|e| ApiError::new("webhook_url_invalid", e.to_string()))?;
    let secret = send
        .accounts
        .set_webhook(&account.id, Some(&url))
        .await?
        .unwrap_or_default();
    send.routing.invalidate(&account.id);
    Ok(ok(
        StatusCode::OK,
        WebhookSet {
            webhook_url: url,
            signing_secret: secret,
        },
    ))
}

/// Remove the status webhook.
#[utoipa::path(
    delete, path = "/auth/me/webhook", tag = "accounts", operation_id = "deleteWebhook",
    responses(
        (status = 200, description = "Removed", body = inline(super::dto::Envelope<WebhookRemoved>)),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn delete_webhook(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
) -> Result {
    send.accounts.set_webhook(&account.id, None).await?;
    send.routing.invalidate(&account.id);
    Ok(ok(StatusCode::OK, WebhookRemoved { webhook_url: None }))
}
