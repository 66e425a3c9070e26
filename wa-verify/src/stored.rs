//! One serialised form of a [`Verification`] for stores that keep it as a document (the
//! SQL stores keep the few columns they query, and this JSON beside them).

use serde::{Deserialize, Serialize};
use wa_validate::{Phone, Recipient};

use crate::model::{Channel, Messages, Status, Timestamp, Verification};
use crate::store::StoreError;

#[derive(Serialize, Deserialize)]
struct Stored {
    id: String,
    app_id: String,
    code: String,
    status: Status,
    channel: Channel,
    qr: bool,
    requested_at: Timestamp,
    expires_at: Timestamp,
    validated_at: Option<Timestamp>,
    /// `+E.164` or a BSUID.
    phone_number: Option<String>,
    profile_name: Option<String>,
    /// `+E.164` each.
    authorized_numbers: Vec<String>,
    callback_url: Option<String>,
    messages: Messages,
    attempts: u32,
    error: Option<String>,
    revision: u32,
}

/// Reads back a sender this crate wrote (see [`Recipient::parse_trusted`]).
fn recipient(s: &str) -> Result<Recipient, StoreError> {
    Recipient::parse_trusted(s)
        .map_err(|e| StoreError::Other(format!("stored sender: {}", e.code())))
}

impl Verification {
    /// The verification as a JSON document (every field; numbers as `+E.164`).
    ///
    /// # Errors
    /// `StoreError::Other` if serialisation fails (it does not for valid values).
    ///
    /// # Examples
    /// ```
    /// # pollster::block_on(async {
    /// use wa_verify::{Config, MemoryStore, Request, Verification, Verifier};
    /// let verifier = Verifier::new(
    ///     Config::new(wa_validate::Phone::parse("+56943426553").unwrap()),
    ///     MemoryStore::new(),
    /// );
    /// let issued = verifier.issue("app", &Request::default()).await.unwrap();
    /// let v = verifier.get(&issued.id).await.unwrap();
    /// let back = Verification::from_json(&v.to_json().unwrap()).unwrap();
    /// assert_eq!(back, v);
    /// # });
    /// ```
    pub fn to_json(&self) -> Result<String, StoreError> {
        let s = Stored {
            id: self.id.clone(),
            app_id: self.app_id.clone(),
            code: self.code.clone(),
            status: self.status,
            channel: self.channel,
            qr: self.qr,
            requested_at: self.requested_at,
            expires_at: self.expires_at,
            validated_at: self.validated_at,
            phone_number: self.phone_number.as_ref().map(ToString::to_string),
            profile_name: self.profile_name.clone(),
            authorized_numbers: self
                .authorized_numbers
                .iter()
                .map(|p| p.e164().to_owned())
                .collect(),
            callback_url: self.callback_url.clone(),
            messages: self.messages.clone(),
            attempts: self.attempts,
            error: self.error.clone(),
            revision: self.revision,
        };
        serde_json::to_string(&s).map_err(|e| StoreError::Other(e.to_string()))
    }

    /// Reads a document written by [`Verification::to_json`].
    ///
    /// # Errors
    /// `StoreError::Other` when the document is not one.
    pub fn from_json(json: &str) -> Result<Verification, StoreError> {
        let s: Stored = serde_json::from_str(json).map_err(|e| StoreError::Other(e.to_string()))?;
        let authorized_numbers = s
            .authorized_numbers
            .iter()
            .map(|n| {
                Phone::from_wa_id(n)
                    .map_err(|e| StoreError::Other(format!("stored number: {}", e.code())))
            })
            .collect::<Result<_, _>>()?;
        Ok(Verification {
            id: s.id,
            app_id: s.app_id,
            code: s.code,
            status: s.status,
            channel: s.channel,
            qr: s.qr,
            requested_at: s.requested_at,
            expires_at: s.expires_at,
            validated_at: s.validated_at,
            phone_number: s.phone_number.as_deref().map(recipient).transpose()?,
            profile_name: s.profile_name,
            authorized_numbers,
            callback_url: s.callback_url,
            messages: s.messages,
            attempts: s.attempts,
            error: s.error,
            revision: s.revision,
        })
    }
}
