//! Account, key, credential, webhook-target and operator bodies (`/auth/*`, `/admin/*`).

use super::*;

/// `POST /auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Your Name", "email": "you@example.com"}))]
pub struct RegisterBody {
    /// Your name or company name (1–100 characters).
    pub name: String,
    /// The account's e-mail address.
    pub email: String,
}

/// The plan limits of an account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Requests per minute per key.
    pub per_minute: u32,
    /// Messages per bulk call.
    pub bulk_cap: usize,
}

/// `GET /auth/me`: the account, never its key or secrets.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// `free`, `basic`, `pro` or `enterprise`.
    pub plan: crate::storage::Plan,
    /// Messages accepted for sending (counted in the queue).
    pub messages_sent: u64,
    /// Whether delivery credentials are saved.
    pub byoc_configured: bool,
    /// The status webhook URL.
    pub webhook_url: Option<String>,
    /// Extension: the account id.
    pub id: String,
    /// Extension: `meta`, `wsapi` or `dry_run`.
    pub provider: String,
    /// Extension: the business number users write to.
    pub display_phone_number: Option<String>,
    /// Extension: the Meta phone number id the credential check proved (routes inbound
    /// verification messages).
    pub phone_number_id: Option<String>,
    /// Extension: when the account was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Extension: the plan's limits.
    pub limits: Limits,
}

/// `POST /auth/register` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    /// `sk_live_` + 48 hex: shown once, store it.
    pub api_key: String,
    /// The plan (`free`).
    pub plan: crate::storage::Plan,
    /// Extension: the Standard Webhooks `whsec_…` secret that signs verification callbacks
    /// (separate from the status-webhook secret): shown once, store it.
    pub callback_secret: String,
    /// Extension: the account.
    pub account: AccountView,
}

/// `POST /auth/me/rotate-key` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyRotated {
    /// The new key (the old one no longer works).
    pub api_key: String,
}

/// `PUT /auth/me/credentials`: WhatsAPI's `{whatsappAccessToken, whatsappPhoneNumberId}`,
/// or (extension) `{provider: "wsapi", apiKey, instanceId}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"whatsappAccessToken": "EAAc...", "whatsappPhoneNumberId": "1234567890"}))]
pub struct CredentialsBody {
    /// `meta` (default) or `wsapi`.
    #[serde(default)]
    pub provider: Option<String>,
    /// Meta access token.
    #[serde(default, alias = "accessToken")]
    pub whatsapp_access_token: Option<String>,
    /// Meta phone number id.
    #[serde(default, alias = "phoneNumberId")]
    pub whatsapp_phone_number_id: Option<String>,
    /// WSAPI key.
    #[serde(default)]
    pub api_key: Option<String>,
    /// WSAPI instance id.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// The business number users write to (verification links).
    #[serde(default)]
    pub display_phone_number: Option<String>,
}

/// `POST /auth/me/credentials/verify` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialCheck {
    /// The provider accepted the credentials.
    pub valid: bool,
    /// `cloud_api` or `wsapi`.
    pub provider: String,
    /// The provider-side account (phone number id or instance id).
    pub account_id: String,
    /// The number the provider reports.
    pub display_phone_number: Option<String>,
    /// The business name the provider reports.
    pub verified_name: Option<String>,
}

/// `PUT /auth/me/webhook`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://yourapp.com/webhooks/whatsapi"}))]
pub struct WebhookBody {
    /// A public https (or http) URL.
    pub url: String,
}

/// `PUT /auth/me/webhook` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSet {
    /// The URL.
    pub webhook_url: String,
    /// The Standard Webhooks `whsec_…` secret that signs deliveries: shown once.
    pub signing_secret: String,
}

/// `DELETE /auth/me/webhook` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRemoved {
    /// Always `null`.
    pub webhook_url: Option<String>,
}

/// `PUT /admin/accounts/{id}/plan`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    /// The new plan.
    pub plan: crate::storage::Plan,
}

/// `PUT /admin/accounts/{id}/status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountStatusBody {
    /// `false` deactivates the account (its key answers 403), `true` reactivates it.
    pub active: bool,
}

/// `PUT /admin/accounts/{id}/status` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountStatusSet {
    /// The account.
    pub id: String,
    /// Whether it is active now.
    pub active: bool,
}

/// `PUT /admin/accounts/{id}/plan` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanSet {
    /// The account.
    pub id: String,
    /// Its plan now.
    pub plan: crate::storage::Plan,
}

impl From<FieldError> for ItemErrorView {
    fn from(d: FieldError) -> Self {
        ItemErrorView {
            code: "body_invalid".to_owned(),
            message: format!("invalid request body: {}", d.message),
            details: vec![d],
        }
    }
}

/// The `body_invalid` error of a whole-request field problem.
pub fn invalid(detail: FieldError) -> SendApiError {
    let code: &'static str = match detail.code.as_str() {
        "message_type_conflict" => "message_type_conflict",
        "message_content_missing" => "message_content_missing",
        _ => "body_invalid",
    };
    let mut e = ApiError::new(code, format!("invalid request body: {}", detail.message));
    e.details.push(detail);
    e
}
