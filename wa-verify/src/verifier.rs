//! The verification state machine: `requested → validated | expired | failed`.

use std::sync::Arc;
use std::time::Duration;

use wa_links::Link;
use wa_validate::{PhoneOptions, Recipient};

use crate::code::{codes_equal, extract_codes, message_text};
use crate::error::{Error, Result};
use crate::limiter::Window;
use crate::model::{
    Callback, Channel, Config, Inbound, Issued, MAX_MESSAGE_CHARS, Outcome, Request, Status,
    Timestamp, Verification,
};
use crate::seams::{Clock, CodeRng, OsRng, SystemClock};
use crate::store::{StoreError, VerificationStore};

/// Issues verifications and settles them from inbound messages.
///
/// # Examples
/// ```
/// use wa_validate::{Phone, Recipient};
/// use wa_verify::{Config, Inbound, MemoryStore, Outcome, Request, Verifier};
///
/// let business = Phone::parse("+56 9 4342 6553")?;
/// let verifier = Verifier::new(Config::new(business), MemoryStore::new());
///
/// let issued = verifier.issue("app-1", &Request::default())?;
/// assert!(issued.link.starts_with("https://wa.me/56943426553?text=%3E%3E"));
///
/// // The user taps the link and sends the prefilled text:
/// let outcome = verifier.handle_inbound(&Inbound {
///     from: Recipient::parse("+1 415 555 2671")?,
///     profile_name: Some("Ana".into()),
///     text: format!(">>{}<<\nJust tap the \"send\" button.", issued.code),
/// })?;
/// assert!(matches!(outcome, Outcome::Validated { .. }));
/// assert_eq!(verifier.get(&issued.id)?.status.as_str(), "validated");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Verifier<S> {
    config: Config,
    store: S,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn CodeRng>,
    per_phone: Window,
    per_app: Window,
    sender_failures: Window,
}

impl<S> std::fmt::Debug for Verifier<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: VerificationStore> Verifier<S> {
    /// A verifier using the system clock and the OS CSPRNG.
    pub fn new(config: Config, store: S) -> Self {
        Self::new_with(config, store, Arc::new(SystemClock), Arc::new(OsRng))
    }

    /// A verifier with an injected clock and RNG (tests use [`crate::ManualClock`] and
    /// [`crate::SeededRng`]).
    pub fn new_with(
        config: Config,
        store: S,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn CodeRng>,
    ) -> Self {
        Verifier {
            config,
            store,
            clock,
            rng,
            per_phone: Window::default(),
            per_app: Window::default(),
            sender_failures: Window::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Issues a verification for application `app_id`.
    ///
    /// # Errors
    /// Request validation codes (`verify_expiry_*`, `verify_callback_url_*`,
    /// `verify_authorized_number_invalid`, `verify_message_too_long`),
    /// `verify_rate_limited`, `verify_rng_failed`, `verify_code_space_exhausted`,
    /// `verify_store_failed`.
    pub fn issue(&self, app_id: &str, req: &Request) -> Result<Issued> {
        let now = self.clock.now();
        let c = &self.config;
        let minutes = req.expires_at.unwrap_or(c.default_expires_minutes);
        if minutes < 1 {
            return Err(Error::ExpiryTooShort);
        }
        if minutes > c.max_expires_minutes {
            return Err(Error::ExpiryTooLong {
                max: c.max_expires_minutes,
            });
        }
        let callback_url = req
            .callback_url
            .as_deref()
            .map(|u| self.check_callback(u))
            .transpose()?;
        let mut opts = PhoneOptions::new();
        if let Some(r) = &c.default_region {
            opts = opts.region(r.clone());
        }
        let mut authorized = Vec::with_capacity(req.authorized_numbers.len());
        for (index, n) in req.authorized_numbers.iter().enumerate() {
            let p = opts
                .parse(n)
                .map_err(|source| Error::AuthorizedNumberInvalid { index, source })?;
            if !authorized.contains(&p) {
                authorized.push(p);
            }
        }
        let pick = |field: &'static str, v: &Option<String>, default: &String| -> Result<String> {
            let s = v.clone().unwrap_or_else(|| default.clone());
            if s.chars().count() > MAX_MESSAGE_CHARS {
                return Err(Error::MessageTooLong {
                    field,
                    max: MAX_MESSAGE_CHARS,
                });
            }
            Ok(s)
        };
        let messages = crate::model::Messages {
            link: pick("link_message", &req.link_message, &c.messages.link)?,
            expiration: pick(
                "expiration_message",
                &req.expiration_message,
                &c.messages.expiration,
            )?,
            failure: pick("failure_message", &req.failure_message, &c.messages.failure)?,
            response: pick(
                "response_message",
                &req.response_message,
                &c.messages.response,
            )?,
        };

        // Velocity limits: per application, and per target number when one is bound.
        let (app_n, app_w) = c.per_app_limit;
        let (ph_n, ph_w) = c.per_phone_limit;
        let app_key = format!("app:{app_id}");
        self.per_app
            .check(&app_key, app_n, app_w, now)
            .map_err(|retry_after| Error::RateLimited { retry_after })?;
        let (px_n, px_w) = c.per_prefix_limit;
        for p in &authorized {
            self.per_phone
                .check(&format!("phone:{}", p.e164()), ph_n, ph_w, now)
                .map_err(|retry_after| Error::RateLimited { retry_after })?;
            self.per_phone
                .check(&prefix_key(p), px_n, px_w, now)
                .map_err(|retry_after| Error::RateLimited { retry_after })?;
        }

        let mut v = Verification {
            id: self.uuid()?,
            app_id: app_id.to_owned(),
            code: String::new(),
            status: Status::Requested,
            channel: req.channel,
            qr: req.qr,
            requested_at: now,
            expires_at: now + Duration::from_secs(u64::from(minutes) * 60),
            validated_at: None,
            phone_number: None,
            profile_name: None,
            authorized_numbers: authorized,
            callback_url,
            messages,
            attempts: 0,
            error: None,
        };
        self.insert_with_fresh_code(&mut v)?;
        self.per_app.record(&app_key, app_w, now);
        for p in &v.authorized_numbers {
            self.per_phone
                .record(&format!("phone:{}", p.e164()), ph_w, now);
            self.per_phone.record(&prefix_key(p), px_w, now);
        }
        Ok(self.issued(&v))
    }

    /// Replaces a pending verification with a new one (new code, same options); the old
    /// one becomes `failed` with error `superseded`.
    ///
    /// # Errors
    /// `verify_not_found`, `verify_not_pending`, and those of [`Verifier::issue`].
    pub fn reissue(&self, id: &str) -> Result<Issued> {
        let mut old = self.get(id)?;
        if old.status != Status::Requested {
            return Err(Error::NotPending);
        }
        let req = Request {
            expires_at: Some(
                u32::try_from(
                    old.expires_at
                        .duration_since(old.requested_at)
                        .unwrap_or_default()
                        .as_secs()
                        / 60,
                )
                .unwrap_or(1)
                .max(1),
            ),
            callback_url: old.callback_url.clone(),
            authorized_numbers: old
                .authorized_numbers
                .iter()
                .map(|p| p.e164().to_owned())
                .collect(),
            link_message: Some(old.messages.link.clone()),
            expiration_message: Some(old.messages.expiration.clone()),
            failure_message: Some(old.messages.failure.clone()),
            response_message: Some(old.messages.response.clone()),
            qr: old.qr,
            channel: old.channel,
        };
        let issued = self.issue(&old.app_id, &req)?;
        old.status = Status::Failed;
        old.error = Some("superseded".into());
        self.store.update(&old).map_err(store_err)?;
        Ok(issued)
    }

    /// The verification with this id, with a due expiry applied.
    ///
    /// # Errors
    /// `verify_not_found`, `verify_store_failed`.
    pub fn get(&self, id: &str) -> Result<Verification> {
        let mut v = self
            .store
            .get(id)
            .map_err(store_err)?
            .ok_or(Error::NotFound)?;
        self.expire_if_due(&mut v)?;
        Ok(v)
    }

    /// Matches an inbound message against pending verifications.
    ///
    /// The sender is bound: with `authorized_numbers`, only those numbers validate. Codes
    /// are compared in constant time; each wrong-sender attempt counts toward the code's
    /// attempt limit, and unknown codes toward the sender's failure limit.
    ///
    /// # Errors
    /// `verify_store_failed`.
    pub fn handle_inbound(&self, msg: &Inbound) -> Result<Outcome> {
        let codes = extract_codes(&msg.text);
        if codes.is_empty() {
            return Ok(Outcome::NoCode);
        }
        let now = self.clock.now();
        let (fail_n, fail_w) = self.config.per_sender_failures;
        let sender_key = format!("sender:{}", msg.from);
        if self
            .sender_failures
            .check(&sender_key, fail_n, fail_w, now)
            .is_err()
        {
            return Ok(Outcome::SenderRateLimited);
        }
        let mut found = None;
        for candidate in &codes {
            if let Some(v) = self.store.find_by_code(candidate).map_err(store_err)?
                && codes_equal(&v.code, candidate)
            {
                found = Some(v);
                break;
            }
        }
        let Some(mut v) = found else {
            self.sender_failures.record(&sender_key, fail_w, now);
            return Ok(Outcome::UnknownCode {
                reply: self.config.unknown_code_message.clone(),
            });
        };
        self.expire_if_due(&mut v)?;
        match v.status {
            Status::Expired => {
                let reply = v.messages.expiration.clone();
                Ok(Outcome::Expired {
                    verification: Box::new(v),
                    reply,
                })
            }
            Status::Validated | Status::Failed => {
                self.sender_failures.record(&sender_key, fail_w, now);
                Ok(Outcome::AlreadyUsed {
                    verification: Box::new(v),
                })
            }
            Status::Requested if v.attempts >= self.config.max_attempts => {
                self.sender_failures.record(&sender_key, fail_w, now);
                Ok(Outcome::Locked {
                    verification: Box::new(v),
                })
            }
            Status::Requested => {
                if !v.authorized_numbers.is_empty() && !is_authorized(&v, &msg.from) {
                    v.attempts += 1;
                    self.store.update(&v).map_err(store_err)?;
                    self.sender_failures.record(&sender_key, fail_w, now);
                    return Ok(Outcome::Unauthorized {
                        verification: Box::new(v),
                        reply: self.config.unauthorized_message.clone(),
                    });
                }
                v.status = Status::Validated;
                v.validated_at = Some(now);
                v.phone_number = Some(msg.from.clone());
                v.profile_name = msg.profile_name.clone();
                self.store.update(&v).map_err(store_err)?;
                let callback = v.callback_url.clone().map(|url| {
                    Box::new(Callback {
                        url,
                        payload: v.callback_payload(),
                    })
                });
                let reply = v.messages.response.clone();
                Ok(Outcome::Validated {
                    verification: Box::new(v),
                    reply,
                    callback,
                })
            }
        }
    }

    /// Records that the customer's callback for a validated verification failed (not
    /// 200/204, or not reachable after retries): the verification becomes `failed` and
    /// the returned text (`failure_message`) is what to reply to the user.
    ///
    /// # Errors
    /// `verify_not_found`, `verify_not_pending` (not `validated`), `verify_store_failed`.
    pub fn callback_failed(&self, id: &str, error: &str) -> Result<(Verification, String)> {
        let mut v = self
            .store
            .get(id)
            .map_err(store_err)?
            .ok_or(Error::NotFound)?;
        if v.status != Status::Validated {
            return Err(Error::NotPending);
        }
        v.status = Status::Failed;
        v.error = Some(error.chars().take(500).collect());
        self.store.update(&v).map_err(store_err)?;
        let reply = v.messages.failure.clone();
        Ok((v, reply))
    }

    fn expire_if_due(&self, v: &mut Verification) -> Result<()> {
        if v.status == Status::Requested && self.clock.now() >= v.expires_at {
            v.status = Status::Expired;
            self.store.update(v).map_err(store_err)?;
        }
        Ok(())
    }

    fn insert_with_fresh_code(&self, v: &mut Verification) -> Result<()> {
        for _ in 0..16 {
            v.code = self
                .config
                .code_format
                .generate(self.rng.as_ref())?
                .to_ascii_lowercase();
            match self.store.insert(v) {
                Ok(()) => return Ok(()),
                Err(StoreError::CodeInUse) => {}
                Err(e) => return Err(store_err(e)),
            }
        }
        Err(Error::CodeSpaceExhausted)
    }

    fn check_callback(&self, url: &str) -> Result<String> {
        let parsed = url::Url::parse(url).map_err(|_| Error::CallbackUrlInvalid)?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.config.allow_insecure_callback => {}
            "http" => return Err(Error::CallbackUrlInsecure),
            _ => return Err(Error::CallbackUrlInvalid),
        }
        if parsed.host_str().is_none_or(str::is_empty) || url.len() > 2048 {
            return Err(Error::CallbackUrlInvalid);
        }
        Ok(parsed.to_string())
    }

    fn issued(&self, v: &Verification) -> Issued {
        let text = message_text(&v.code, &v.messages.link);
        let link = Link::phone(&self.config.business_phone).text(text);
        let (main, deep) = match v.channel {
            Channel::Sms => {
                let sms = link.sms().unwrap_or_default();
                (sms.clone(), sms)
            }
            _ => (link.wa_me(), link.deep_link().unwrap_or_default()),
        };
        let qr = v.qr.then(|| match &self.config.qr_base_url {
            Some(base) => format!("{base}?data={}", wa_links::encode_text(&main)),
            None => main.clone(),
        });
        Issued {
            id: v.id.clone(),
            code: v.code.clone(),
            link: main,
            qr,
            deep_link: deep,
            expires_at: Timestamp(v.expires_at),
        }
    }

    fn uuid(&self) -> Result<String> {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b).map_err(|_| Error::RngFailed)?;
        Ok(wa_validate::random::uuid_v4(b))
    }
}

/// The number without its last 4 digits: one key per block of 10,000 numbers.
fn prefix_key(p: &wa_validate::Phone) -> String {
    let d = p.digits();
    format!("prefix:{}", &d[..d.len().saturating_sub(4)])
}

fn is_authorized(v: &Verification, from: &Recipient) -> bool {
    from.phone_digits()
        .is_some_and(|d| v.authorized_numbers.iter().any(|p| p.digits() == d))
}

fn store_err(e: StoreError) -> Error {
    Error::Store(e.to_string())
}
