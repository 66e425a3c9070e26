//! Configuration, requests, verification records and the JSON shapes of the
//! WhatAuth-compatible API.

use std::time::Duration;

use serde::{Deserialize, Serialize};
pub use wa_validate::time::Timestamp;
use wa_validate::{Phone, Recipient};

use crate::code::CodeFormat;

/// Longest message text accepted in a request.
pub const MAX_MESSAGE_CHARS: usize = 1024;

/// Where the user sends the code from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Channel {
    /// WhatsApp (the default).
    #[default]
    Whatsapp,
    /// SMS fallback: the link is an `sms:` link.
    Sms,
}

/// The state of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// Issued, waiting for the user's message.
    Requested,
    /// The user sent the code from an allowed number.
    Validated,
    /// The code expired before it was used.
    Expired,
    /// The customer's callback failed, or the verification was superseded.
    Failed,
}

impl Status {
    /// `requested`, `validated`, `expired` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Requested => "requested",
            Status::Validated => "validated",
            Status::Expired => "expired",
            Status::Failed => "failed",
        }
    }

    /// The status named `s` (as [`Status::as_str`] writes it).
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Requested,
            Status::Validated,
            Status::Expired,
            Status::Failed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl Channel {
    /// `whatsapp` or `sms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Whatsapp => "whatsapp",
            Channel::Sms => "sms",
        }
    }

    /// The channel named `s` (`whatsapp` or `sms`).
    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Whatsapp, Channel::Sms]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// The four texts of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messages {
    /// Shown under the code in the prefilled message.
    pub link: String,
    /// Reply for an expired code.
    pub expiration: String,
    /// Reply when the customer's callback fails.
    pub failure: String,
    /// Reply on success.
    pub response: String,
}

/// Per-application settings and defaults. Request values override the defaults.
///
/// # Examples
/// ```
/// use wa_validate::Phone;
/// use wa_verify::Config;
///
/// let config = Config::new(Phone::parse("+56 9 4342 6553")?)
///     .default_expires_minutes(5)
///     .max_attempts(5)
///     .response_message("You're in! ✅");
/// # Ok::<(), wa_validate::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Config {
    pub(crate) business_phone: Phone,
    pub(crate) code_format: CodeFormat,
    pub(crate) default_expires_minutes: u32,
    pub(crate) max_expires_minutes: u32,
    pub(crate) messages: Messages,
    pub(crate) unauthorized_message: Option<String>,
    pub(crate) unknown_code_message: Option<String>,
    pub(crate) allow_insecure_callback: bool,
    pub(crate) allow_private_callback: bool,
    pub(crate) default_region: Option<String>,
    pub(crate) max_attempts: u32,
    pub(crate) per_phone_limit: (u32, Duration),
    pub(crate) per_app_limit: (u32, Duration),
    pub(crate) per_prefix_limit: (u32, Duration),
    pub(crate) per_sender_failures: (u32, Duration),
    pub(crate) qr_base_url: Option<String>,
}

impl Config {
    /// Defaults for an application whose users message `business_phone`.
    pub fn new(business_phone: Phone) -> Self {
        Config {
            business_phone,
            code_format: CodeFormat::default(),
            default_expires_minutes: 5,
            max_expires_minutes: 10,
            messages: Messages {
                link: "Just tap the \"send\" button.".into(),
                expiration: "This code has expired. Please request a new one.".into(),
                failure: "We could not complete your verification. Please try again.".into(),
                response: "Thanks! Your phone number is verified.".into(),
            },
            unauthorized_message: Some("This number is not allowed to use this code.".into()),
            unknown_code_message: None,
            allow_insecure_callback: false,
            allow_private_callback: false,
            default_region: None,
            max_attempts: 5,
            per_phone_limit: (5, Duration::from_secs(600)),
            per_app_limit: (1000, Duration::from_secs(600)),
            per_prefix_limit: (20, Duration::from_secs(600)),
            per_sender_failures: (10, Duration::from_secs(600)),
            qr_base_url: None,
        }
    }

    /// Code length and alphabet. Defaults to 10 lower-case hex characters.
    pub fn code_format(mut self, f: CodeFormat) -> Self {
        self.code_format = f;
        self
    }
    /// Lifetime when a request gives none. Defaults to 5 minutes.
    pub fn default_expires_minutes(mut self, m: u32) -> Self {
        self.default_expires_minutes = m.max(1);
        self
    }
    /// Longest lifetime a request may ask for. Defaults to 10 minutes (NIST SP 800-63B's
    /// ceiling for out-of-band secrets).
    pub fn max_expires_minutes(mut self, m: u32) -> Self {
        self.max_expires_minutes = m.max(1);
        self
    }
    /// Default `link_message`.
    pub fn link_message(mut self, s: impl Into<String>) -> Self {
        self.messages.link = s.into();
        self
    }
    /// Default `expiration_message`.
    pub fn expiration_message(mut self, s: impl Into<String>) -> Self {
        self.messages.expiration = s.into();
        self
    }
    /// Default `failure_message`.
    pub fn failure_message(mut self, s: impl Into<String>) -> Self {
        self.messages.failure = s.into();
        self
    }
    /// Default `response_message`.
    pub fn response_message(mut self, s: impl Into<String>) -> Self {
        self.messages.response = s.into();
        self
    }
    /// Reply to a sender not in `authorized_numbers` (`None`: no reply). Has a default.
    pub fn unauthorized_message(mut self, s: Option<String>) -> Self {
        self.unauthorized_message = s;
        self
    }
    /// Reply to a code that matches nothing (`None`, the default: no reply, so senders
    /// cannot probe for codes).
    pub fn unknown_code_message(mut self, s: Option<String>) -> Self {
        self.unknown_code_message = s;
        self
    }
    /// Accept `http://` callback URLs (tests only). Defaults to `false`.
    pub fn allow_insecure_callback(mut self, yes: bool) -> Self {
        self.allow_insecure_callback = yes;
        self
    }
    /// Accept callback URLs whose host is `localhost` or a loopback, private, link-local
    /// or other non-public IP literal (tests only). Defaults to `false`. A host name's
    /// addresses are checked where the callback is delivered, at connect time.
    pub fn allow_private_callback(mut self, yes: bool) -> Self {
        self.allow_private_callback = yes;
        self
    }
    /// Region for authorized numbers written nationally. Defaults to none.
    pub fn default_region(mut self, r: impl Into<String>) -> Self {
        self.default_region = Some(r.into());
        self
    }
    /// Wrong-sender attempts before a code locks until it expires. Defaults to 5.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
    /// Verifications per authorized number per window. Defaults to 5 per 10 minutes.
    pub fn per_phone_limit(mut self, n: u32, window: Duration) -> Self {
        self.per_phone_limit = (n.max(1), window);
        self
    }
    /// Verifications per application per window. Defaults to 1,000 per 10 minutes.
    pub fn per_app_limit(mut self, n: u32, window: Duration) -> Self {
        self.per_app_limit = (n.max(1), window);
        self
    }
    /// Verifications per number prefix (the number without its last 4 digits) per window,
    /// against sweeps through a number range. Defaults to 20 per 10 minutes.
    pub fn per_prefix_limit(mut self, n: u32, window: Duration) -> Self {
        self.per_prefix_limit = (n.max(1), window);
        self
    }
    /// Failed inbound attempts per sender per window before the sender is ignored.
    /// Defaults to 10 per 10 minutes.
    pub fn per_sender_failures(mut self, n: u32, window: Duration) -> Self {
        self.per_sender_failures = (n.max(1), window);
        self
    }
    /// Base URL of a QR endpoint: with `qr`, the response's `qr` is
    /// `<base>?data=<encoded link>`. Defaults to none: `qr` is then the link itself (the
    /// payload to render).
    pub fn qr_base_url(mut self, s: impl Into<String>) -> Self {
        self.qr_base_url = Some(s.into());
        self
    }
}

/// The parameters of `GET /api/v1/verification_code`, WhatAuth's names. Every field is
/// optional: unset ones take the application's defaults ([`Request::with_defaults`]), then
/// the [`Config`]'s.
///
/// # Examples
/// ```
/// use wa_verify::Request;
/// let defaults = Request { expires_at: Some(10), qr: Some(true), ..Request::default() };
/// let req = Request { expires_at: Some(3), ..Request::default() }.with_defaults(&defaults);
/// assert_eq!((req.expires_at, req.qr), (Some(3), Some(true)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Request {
    /// Lifetime in minutes (≥ 1).
    pub expires_at: Option<u32>,
    /// Where to POST the result.
    pub callback_url: Option<String>,
    /// Only these numbers may validate the code (any human format).
    pub authorized_numbers: Option<Vec<String>>,
    /// Override of the default link message.
    pub link_message: Option<String>,
    /// Override of the default expiration message.
    pub expiration_message: Option<String>,
    /// Override of the default failure message.
    pub failure_message: Option<String>,
    /// Override of the default response message.
    pub response_message: Option<String>,
    /// Also return a QR.
    pub qr: Option<bool>,
    /// WhatsApp or SMS.
    pub channel: Option<Channel>,
}

impl Request {
    /// This request with every unset field taken from `defaults` (an application's
    /// stored defaults).
    pub fn with_defaults(self, defaults: &Request) -> Request {
        let d = defaults.clone();
        Request {
            expires_at: self.expires_at.or(d.expires_at),
            callback_url: self.callback_url.or(d.callback_url),
            authorized_numbers: self.authorized_numbers.or(d.authorized_numbers),
            link_message: self.link_message.or(d.link_message),
            expiration_message: self.expiration_message.or(d.expiration_message),
            failure_message: self.failure_message.or(d.failure_message),
            response_message: self.response_message.or(d.response_message),
            qr: self.qr.or(d.qr),
            channel: self.channel.or(d.channel),
        }
    }
}

/// One verification, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verification {
    /// UUID.
    pub id: String,
    /// The application that issued it.
    pub app_id: String,
    /// The code (lower-case).
    pub code: String,
    /// Current status.
    pub status: Status,
    /// Channel.
    pub channel: Channel,
    /// Whether a QR was asked for (kept for re-issue).
    pub qr: bool,
    /// Issue time.
    pub requested_at: Timestamp,
    /// Expiry time.
    pub expires_at: Timestamp,
    /// When it was validated.
    pub validated_at: Option<Timestamp>,
    /// Who validated it (phone, or BSUID when WhatsApp withholds the number).
    pub phone_number: Option<Recipient>,
    /// The sender's WhatsApp profile name.
    pub profile_name: Option<String>,
    /// Allowed senders (empty: anyone).
    pub authorized_numbers: Vec<Phone>,
    /// Customer callback.
    pub callback_url: Option<String>,
    /// The texts.
    pub messages: Messages,
    /// Wrong-sender attempts so far.
    pub attempts: u32,
    /// Why it failed.
    pub error: Option<String>,
    /// Bumped by every change; a store writes a change only over the revision before it
    /// (see [`crate::VerificationStore::update`]), so concurrent writers cannot lose one.
    pub revision: u32,
}

impl Verification {
    /// The status as of `now`: a `requested` verification past its expiry reads as
    /// `expired` even before the expiry sweep ([`crate::expire_due`]) records it.
    pub fn status_at(&self, now: Timestamp) -> Status {
        if self.status == Status::Requested && now >= self.expires_at {
            Status::Expired
        } else {
            self.status
        }
    }

    /// The callback body for this verification.
    pub fn callback_payload(&self) -> CallbackPayload {
        CallbackPayload {
            id: self.id.clone(),
            status: self.status,
            verification_code: self.code.clone(),
            phone_number: self.phone_number.as_ref().map(ToString::to_string),
            profile_name: self.profile_name.clone(),
            expires_at: self.expires_at,
            requested_at: self.requested_at,
            validated_at: self.validated_at,
            authorized_numbers: self
                .authorized_numbers
                .iter()
                .map(|p| p.e164().to_owned())
                .collect(),
            error: self.error.clone(),
        }
    }
}

/// The body POSTed to the customer's `callback_url`: exactly WhatAuth's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackPayload {
    /// Verification id.
    pub id: String,
    /// `validated`, `expired`, `failed` or `requested`.
    pub status: Status,
    /// The code.
    pub verification_code: String,
    /// The sender, `+E.164` (or a BSUID).
    pub phone_number: Option<String>,
    /// The sender's profile name.
    pub profile_name: Option<String>,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Issue time.
    pub requested_at: Timestamp,
    /// Validation time.
    pub validated_at: Option<Timestamp>,
    /// Allowed senders, `+E.164`.
    pub authorized_numbers: Vec<String>,
    /// Failure reason.
    pub error: Option<String>,
}

/// The response to an issue request: WhatAuth's `{code, link, qr, deep_link}` plus our
/// `id` (for polling) and `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issued {
    /// Verification id (our addition).
    pub id: String,
    /// The code.
    pub code: String,
    /// `https://wa.me/<business digits>?text=>>code<<…` (an `sms:` link on the SMS channel).
    pub link: String,
    /// A QR image URL or payload, when asked for.
    pub qr: Option<String>,
    /// `whatsapp://send?phone=…&text=…` (the `sms:` link on the SMS channel).
    pub deep_link: String,
    /// Expiry (our addition).
    pub expires_at: Timestamp,
}

/// An inbound WhatsApp message, as the webhook parser hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The sender: phone (`wa_id`), or BSUID when the number is withheld.
    pub from: Recipient,
    /// The sender's profile name.
    pub profile_name: Option<String>,
    /// The message text.
    pub text: String,
}

/// What an inbound message did. Every variant says what to reply (if anything).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// No `>>code<<` in the message: not for the verifier.
    NoCode,
    /// The sender hit the failed-attempt limit: ignored, no reply.
    SenderRateLimited,
    /// No verification has this code.
    UnknownCode {
        /// Optional reply (off by default).
        reply: Option<String>,
    },
    /// Validated: reply, then POST `callback` if there is one.
    Validated {
        /// The updated verification.
        verification: Box<Verification>,
        /// The response message.
        reply: String,
        /// The callback to POST.
        callback: Option<Box<Callback>>,
    },
    /// The code expired.
    Expired {
        /// The updated verification.
        verification: Box<Verification>,
        /// The expiration message.
        reply: String,
    },
    /// The sender is not an authorized number.
    Unauthorized {
        /// The verification (attempts incremented).
        verification: Box<Verification>,
        /// Optional reply.
        reply: Option<String>,
    },
    /// Too many wrong-sender attempts: locked until it expires.
    Locked {
        /// The verification.
        verification: Box<Verification>,
    },
    /// The code was already used (or the verification failed).
    AlreadyUsed {
        /// The verification.
        verification: Box<Verification>,
    },
}

impl Outcome {
    /// The text to send back to the user, if any.
    pub fn reply(&self) -> Option<&str> {
        match self {
            Outcome::UnknownCode { reply } | Outcome::Unauthorized { reply, .. } => {
                reply.as_deref()
            }
            Outcome::Validated { reply, .. } | Outcome::Expired { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// A stable name, e.g. `validated`, `unknown_code`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::NoCode => "no_code",
            Outcome::SenderRateLimited => "sender_rate_limited",
            Outcome::UnknownCode { .. } => "unknown_code",
            Outcome::Validated { .. } => "validated",
            Outcome::Expired { .. } => "expired",
            Outcome::Unauthorized { .. } => "unauthorized",
            Outcome::Locked { .. } => "locked",
            Outcome::AlreadyUsed { .. } => "already_used",
        }
    }
}

/// A callback to deliver: POST `payload` as JSON to `url`; 200 or 204 means success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The customer's URL.
    pub url: String,
    /// The body.
    pub payload: CallbackPayload,
}
