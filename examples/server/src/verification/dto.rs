//! The verification API's bodies: WhatAuth's response and callback fields exactly, plus the
//! application defaults.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wa_verify::{CallbackPayload, Channel, Issued, Request};

/// `GET /api/v1/verification_code`'s answer: WhatAuth's `{code, link, qr, deep_link}`,
/// plus `id` (to poll `GET /api/v1/verification_code/{id}`) and `expires_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedBody {
    /// Verification id (extension).
    #[schema(example = "0b6f3e0e-8d1e-4c55-9a57-6f0b7d3d7c11")]
    pub id: String,
    /// The code the user sends.
    #[schema(example = "322c9a59dd")]
    pub code: String,
    /// `https://wa.me/<business>?text=>>code<<…` (an `sms:` link on the SMS channel).
    pub link: String,
    /// With `qr=1`: the URL of this server's `/api/v1/qr` rendering `link`.
    pub qr: Option<String>,
    /// `whatsapp://send?phone=…&text=…` (the `sms:` link on the SMS channel).
    pub deep_link: String,
    /// When the code expires, RFC 3339 UTC (extension).
    #[schema(example = "2021-01-27T01:17:13.674Z")]
    pub expires_at: String,
}

impl From<Issued> for IssuedBody {
    fn from(i: Issued) -> Self {
        IssuedBody {
            id: i.id,
            code: i.code,
            link: i.link,
            qr: i.qr,
            deep_link: i.deep_link,
            expires_at: i.expires_at.to_rfc3339(),
        }
    }
}

/// Statuses of a verification.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationStatus {
    /// Issued, waiting for the user's message.
    Requested,
    /// The user sent the code from an allowed number.
    Validated,
    /// The code expired unused.
    Expired,
    /// The callback failed, or the verification was superseded.
    Failed,
}

impl From<wa_verify::Status> for VerificationStatus {
    fn from(s: wa_verify::Status) -> Self {
        match s {
            wa_verify::Status::Validated => VerificationStatus::Validated,
            wa_verify::Status::Expired => VerificationStatus::Expired,
            wa_verify::Status::Failed => VerificationStatus::Failed,
            _ => VerificationStatus::Requested,
        }
    }
}

/// A verification, exactly as WhatAuth POSTs it to the `callback_url` (and as
/// `GET /api/v1/verification_code/{id}` returns it).
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationBody {
    /// Verification id.
    #[schema(example = "123e4567-e89b-12d3-a456-426614174000")]
    pub id: String,
    /// `requested`, `validated`, `expired` or `failed`.
    pub status: VerificationStatus,
    /// The code.
    #[schema(example = "9f76681bd4")]
    pub verification_code: String,
    /// Who validated it: `+E.164` (or a BSUID when WhatsApp withholds the number).
    #[schema(example = "+56911111111")]
    pub phone_number: Option<String>,
    /// The sender's WhatsApp profile name.
    #[schema(example = "Some Folk")]
    pub profile_name: Option<String>,
    /// RFC 3339 UTC.
    #[schema(example = "2021-01-27T01:17:13.674Z")]
    pub expires_at: String,
    /// RFC 3339 UTC.
    #[schema(example = "2021-01-26T23:17:13.674Z")]
    pub requested_at: String,
    /// RFC 3339 UTC.
    pub validated_at: Option<String>,
    /// Numbers allowed to validate, `+E.164`.
    pub authorized_numbers: Vec<String>,
    /// Why it failed.
    pub error: Option<String>,
}

impl From<CallbackPayload> for VerificationBody {
    fn from(p: CallbackPayload) -> Self {
        VerificationBody {
            id: p.id,
            status: p.status.into(),
            verification_code: p.verification_code,
            phone_number: p.phone_number,
            profile_name: p.profile_name,
            expires_at: p.expires_at.to_rfc3339(),
            requested_at: p.requested_at.to_rfc3339(),
            validated_at: p.validated_at.map(|t| t.to_rfc3339()),
            authorized_numbers: p.authorized_numbers,
            error: p.error,
        }
    }
}

/// `authorized_numbers`: a list, or one comma-separated string as in the query.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NumberList {
    /// `["+56911111111", "+14155552671"]`.
    List(Vec<String>),
    /// `"+56911111111,+14155552671"`.
    Csv(String),
}

impl NumberList {
    /// The numbers, trimmed, empty entries dropped.
    pub fn numbers(&self) -> Vec<String> {
        let items: Vec<&str> = match self {
            NumberList::List(v) => v.iter().map(String::as_str).collect(),
            NumberList::Csv(s) => s.split(',').collect(),
        };
        items
            .into_iter()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Delivery channel.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelName {
    /// WhatsApp (default).
    Whatsapp,
    /// An `sms:` link instead.
    Sms,
}

/// An application's defaults for every parameter of `GET /api/v1/verification_code`
/// (WhatAuth: "you can also specify default values for each parameter at the application
/// level"); a parameter given in the request overrides its default. Unset fields are
/// `null`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationDefaults {
    /// Lifetime in minutes (≥ 1).
    #[schema(example = 10, minimum = 1)]
    pub expires_at: Option<u32>,
    /// HTTPS URL receiving the signed result.
    #[schema(example = "https://mycompany.io/webhook/whatsauth")]
    pub callback_url: Option<String>,
    /// Numbers allowed to validate the code.
    pub authorized_numbers: Option<NumberList>,
    /// Text after the code in the prefilled message.
    pub link_message: Option<String>,
    /// Reply for an expired code.
    pub expiration_message: Option<String>,
    /// Reply when the callback fails.
    pub failure_message: Option<String>,
    /// Reply on success.
    pub response_message: Option<String>,
    /// Also return a QR image URL.
    pub qr: Option<bool>,
    /// `whatsapp` or `sms`.
    pub channel: Option<ChannelName>,
}

impl VerificationDefaults {
    /// As wa-verify's request (the defaults a request is completed with).
    pub fn to_request(&self) -> Request {
        Request {
            expires_at: self.expires_at,
            callback_url: self.callback_url.clone(),
            authorized_numbers: self.authorized_numbers.as_ref().map(NumberList::numbers),
            link_message: self.link_message.clone(),
            expiration_message: self.expiration_message.clone(),
            failure_message: self.failure_message.clone(),
            response_message: self.response_message.clone(),
            qr: self.qr,
            channel: self.channel.map(|c| match c {
                ChannelName::Whatsapp => Channel::Whatsapp,
                ChannelName::Sms => Channel::Sms,
            }),
        }
    }
}
