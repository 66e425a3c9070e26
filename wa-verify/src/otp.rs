//! Forward OTP: the Cloud API payload of a copy-code authentication template.

use serde_json::{Value, json};
use wa_validate::Phone;

use crate::error::{Error, Result};

/// Meta's limit on an authentication-template code.
pub const OTP_MAX_LEN: usize = 15;

/// The `POST /{phone-number-id}/messages` body that sends authentication template
/// `template` in `language` with `code` in the body parameter and the copy-code (URL)
/// button, as Meta requires.
///
/// # Errors
/// `verify_otp_code_too_long` for a code over 15 characters (or an empty one).
///
/// # Examples
/// ```
/// let to = wa_validate::Phone::parse("+1 415 555 2671")?;
/// let body = wa_verify::otp_template_payload(&to, "login_code", "en_US", "J$FpnYnP")?;
/// assert_eq!(body["to"], "+14155552671");
/// assert_eq!(body["template"]["components"][1]["parameters"][0]["text"], "J$FpnYnP");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn otp_template_payload(
    to: &Phone,
    template: &str,
    language: &str,
    code: &str,
) -> Result<Value> {
    if code.is_empty() || code.chars().count() > OTP_MAX_LEN {
        return Err(Error::OtpCodeTooLong);
    }
    Ok(json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.e164(),
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": code}]},
                {"type": "button", "sub_type": "url", "index": "0",
                 "parameters": [{"type": "text", "text": code}]}
            ]
        }
    }))
}
