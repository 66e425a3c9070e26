//! The verification state machine: `requested → validated | expired | failed`.

use std::sync::Arc;
use std::time::Duration;

use wa_links::Link;
use wa_validate::{PhoneOptions, Recipient};

use crate::code::{codes_equal, extract_codes, message_text};
use crate::error::{Error, Result};
use crate::model::{
    Callback, Channel, Config, Inbound, Issued, MAX_MESSAGE_CHARS, Messages, Outcome, Request,
    Status, Timestamp, Verification,
};
use crate::seams::{Clock, CodeRng, OsRng, SystemClock};
use crate::store::{StoreError, VerificationStore};

/// How often a write that lost an optimistic race is retried on a fresh read.
const MAX_CONFLICTS: usize = 8;

/// Issues verifications and settles them from inbound messages.
///
/// A verifier holds no state of its own: verifications and the velocity-limit counters
/// live in its [`VerificationStore`], so a verifier can be built per request and several
/// processes can share one database.
///
/// # Examples
/// ```
/// use wa_validate::{Phone, Recipient};
/// use wa_verify::{Config, Inbound, MemoryStore, Outcome, Request, Verifier};
///
/// # pollster::block_on(async {
/// let business = Phone::parse("+56 9 4342 6553")?;
/// let verifier = Verifier::new(Config::new(business), MemoryStore::new());
///
/// let issued = verifier.issue("app-1", &Request::default()).await?;
/// assert!(issued.link.starts_with("https://wa.me/56943426553?text=%3E%3E"));
///
/// // The user taps the link and sends the prefilled text:
/// let outcome = verifier.handle_inbound("app-1", &Inbound {
///     from: Recipient::parse("+1 415 555 2671")?,
///     profile_name: Some("Ana".into()),
///     text: format!(">>{}<<\nJust tap the \"send\" button.", issued.code),
/// }).await?;
/// assert!(matches!(outcome, Outcome::Validated { .. }));
/// assert_eq!(verifier.get(&issued.id).await?.status.as_str(), "validated");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Verifier<S> {
    config: Config,
    store: S,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn CodeRng>,
}

impl<S> std::fmt::Debug for Verifier<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What an inbound message did to a pending verification.
#[derive(Clone, Copy)]
enum Applied {
    Unauthorized,
    Validated,
}

/// A request checked against the configuration, ready to become a verification.
struct Prepared {
    minutes: u32,
    callback_url: Option<String>,
    authorized: Vec<wa_validate::Phone>,
    messages: Messages,
    qr: bool,
    channel: Channel,
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
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Checks a request (or an application's stored defaults) without issuing anything.
    ///
    /// # Errors
    /// The request validation codes of [`Verifier::issue`].
    pub fn check(&self, req: &Request) -> Result<()> {
        self.prepare(req).map(drop)
    }

    fn prepare(&self, req: &Request) -> Result<Prepared> {
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
        let numbers = req.authorized_numbers.as_deref().unwrap_or_default();
        let mut authorized = Vec::with_capacity(numbers.len());
        for (index, n) in numbers.iter().enumerate() {
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
        let m = &c.messages;
        let messages = Messages {
            link: pick("link_message", &req.link_message, &m.link)?,
            expiration: pick("expiration_message", &req.expiration_message, &m.expiration)?,
            failure: pick("failure_message", &req.failure_message, &m.failure)?,
            response: pick("response_message", &req.response_message, &m.response)?,
        };
        Ok(Prepared {
            minutes,
            callback_url,
            authorized,
            messages,
            qr: req.qr.unwrap_or(false),
            channel: req.channel.unwrap_or_default(),
        })
    }

    /// Issues a verification for application `app_id`.
    ///
    /// # Errors
    /// Request validation codes (`verify_expiry_*`, `verify_callback_url_*`,
    /// `verify_authorized_number_invalid`, `verify_message_too_long`),
    /// `verify_rate_limited`, `verify_rng_failed`, `verify_code_space_exhausted`,
    /// `verify_store_failed`.
    pub async fn issue(&self, app_id: &str, req: &Request) -> Result<Issued> {
        let p = self.prepare(req)?;
        let windows = self.issue_windows(app_id, &p.authorized);
        self.check_windows(&windows).await?;
        let now = self.clock.timestamp();
        let mut v = Verification {
            id: self.uuid()?,
            app_id: app_id.to_owned(),
            code: String::new(),
            status: Status::Requested,
            channel: p.channel,
            qr: p.qr,
            requested_at: now,
            expires_at: now.plus(Duration::from_secs(u64::from(p.minutes) * 60)),
            validated_at: None,
            phone_number: None,
            profile_name: None,
            authorized_numbers: p.authorized,
            callback_url: p.callback_url,
            messages: p.messages,
            attempts: 0,
            error: None,
            revision: 0,
        };
        self.insert_with_fresh_code(&mut v).await?;
        for (key, _) in &windows {
            self.store.record_event(key, now).await.map_err(store_err)?;
        }
        Ok(self.issued(&v))
    }

    /// Replaces a pending verification with a new one (new code, same options); the old
    /// one becomes `failed` with error `superseded`.
    ///
    /// # Errors
    /// `verify_not_found`, `verify_not_pending`, and those of [`Verifier::issue`].
    pub async fn reissue(&self, id: &str) -> Result<Issued> {
        let old = self.get(id).await?;
        if old.status != Status::Requested {
            return Err(Error::NotPending);
        }
        let minutes = old.expires_at.millis_since(old.requested_at) / 60_000;
        let req = Request {
            expires_at: Some(u32::try_from(minutes).unwrap_or(1).max(1)),
            callback_url: old.callback_url.clone(),
            authorized_numbers: Some(
                old.authorized_numbers
                    .iter()
                    .map(|p| p.e164().to_owned())
                    .collect(),
            ),
            link_message: Some(old.messages.link.clone()),
            expiration_message: Some(old.messages.expiration.clone()),
            failure_message: Some(old.messages.failure.clone()),
            response_message: Some(old.messages.response.clone()),
            qr: Some(old.qr),
            channel: Some(old.channel),
        };
        let issued = self.issue(&old.app_id, &req).await?;
        self.settle(id, |v| {
            if v.status_at(self.clock.timestamp()) != Status::Requested {
                return Err(Error::NotPending);
            }
            v.status = Status::Failed;
            v.error = Some("superseded".into());
            Ok(())
        })
        .await?;
        Ok(issued)
    }

    /// The verification with this id, as of now (a due expiry reads as `expired`).
    ///
    /// # Errors
    /// `verify_not_found`, `verify_store_failed`.
    pub async fn get(&self, id: &str) -> Result<Verification> {
        let mut v = self
            .store
            .get(id)
            .await
            .map_err(store_err)?
            .ok_or(Error::NotFound)?;
        v.status = v.status_at(self.clock.timestamp());
        Ok(v)
    }

    /// Re-reads verification `id` and applies `change` until the write wins the
    /// optimistic race (or `change` refuses).
    async fn settle(
        &self,
        id: &str,
        change: impl Fn(&mut Verification) -> Result<()>,
    ) -> Result<Verification> {
        for _ in 0..MAX_CONFLICTS {
            let mut v = self
                .store
                .get(id)
                .await
                .map_err(store_err)?
                .ok_or(Error::NotFound)?;
            change(&mut v)?;
            v.revision = v.revision.wrapping_add(1);
            if self.store.update(&v).await.map_err(store_err)? {
                return Ok(v);
            }
        }
        Err(Error::Store("too many concurrent changes".into()))
    }

    /// Matches an inbound message to application `app_id`'s business number against its
    /// pending verifications.
    ///
    /// The sender is bound: with `authorized_numbers`, only those numbers validate. Codes
    /// are compared in constant time; each wrong-sender attempt counts toward the code's
    /// attempt limit, and unknown codes toward the sender's failure limit.
    ///
    /// # Errors
    /// `verify_store_failed`.
    pub async fn handle_inbound(&self, app_id: &str, msg: &Inbound) -> Result<Outcome> {
        let codes = extract_codes(&msg.text);
        if codes.is_empty() {
            return Ok(Outcome::NoCode);
        }
        let (fail_n, fail_w) = self.config.per_sender_failures;
        let sender_key = format!("sender:{app_id}:{}", msg.from);
        let now = self.clock.timestamp();
        if self
            .window_full(&sender_key, fail_n, fail_w, now)
            .await?
            .is_some()
        {
            return Ok(Outcome::SenderRateLimited);
        }
        let mut found = None;
        for candidate in &codes {
            if let Some(v) = self
                .store
                .find_by_code(app_id, candidate)
                .await
                .map_err(store_err)?
                && codes_equal(&v.code, candidate)
            {
                found = Some(v);
                break;
            }
        }
        let outcome = match found {
            None => Outcome::UnknownCode {
                reply: self.config.unknown_code_message.clone(),
            },
            Some(v) => self.settle_inbound(v, msg).await?,
        };
        if matches!(
            outcome,
            Outcome::UnknownCode { .. }
                | Outcome::AlreadyUsed { .. }
                | Outcome::Locked { .. }
                | Outcome::Unauthorized { .. }
        ) {
            self.store
                .record_event(&sender_key, now)
                .await
                .map_err(store_err)?;
        }
        Ok(outcome)
    }

    async fn settle_inbound(&self, found: Verification, msg: &Inbound) -> Result<Outcome> {
        let mut v = found;
        for _ in 0..MAX_CONFLICTS {
            let now = self.clock.timestamp();
            let applied = match v.status_at(now) {
                Status::Expired => {
                    v.status = Status::Expired;
                    let reply = v.messages.expiration.clone();
                    return Ok(Outcome::Expired {
                        verification: Box::new(v),
                        reply,
                    });
                }
                Status::Validated | Status::Failed => {
                    return Ok(Outcome::AlreadyUsed {
                        verification: Box::new(v),
                    });
                }
                Status::Requested if v.attempts >= self.config.max_attempts => {
                    return Ok(Outcome::Locked {
                        verification: Box::new(v),
                    });
                }
                Status::Requested => Self::validate(&mut v, msg, now),
            };
            v.revision = v.revision.wrapping_add(1);
            if self.store.update(&v).await.map_err(store_err)? {
                return Ok(self.describe(applied, v));
            }
            v = self
                .store
                .get(&v.id)
                .await
                .map_err(store_err)?
                .ok_or(Error::NotFound)?;
        }
        Err(Error::Store("too many concurrent changes".into()))
    }

    /// Applies a message to a pending verification; says what happened, to describe once
    /// the write has won.
    fn validate(v: &mut Verification, msg: &Inbound, now: Timestamp) -> Applied {
        if !v.authorized_numbers.is_empty() && !is_authorized(v, &msg.from) {
            v.attempts += 1;
            return Applied::Unauthorized;
        }
        v.status = Status::Validated;
        v.validated_at = Some(now);
        v.phone_number = Some(msg.from.clone());
        v.profile_name = msg.profile_name.clone();
        Applied::Validated
    }

    fn describe(&self, applied: Applied, v: Verification) -> Outcome {
        match applied {
            Applied::Unauthorized => Outcome::Unauthorized {
                verification: Box::new(v),
                reply: self.config.unauthorized_message.clone(),
            },
            Applied::Validated => {
                let callback = v.callback_url.clone().map(|url| {
                    Box::new(Callback {
                        url,
                        payload: v.callback_payload(),
                    })
                });
                let reply = v.messages.response.clone();
                Outcome::Validated {
                    verification: Box::new(v),
                    reply,
                    callback,
                }
            }
        }
    }

    /// Records that the customer's callback for a validated verification failed (not
    /// 200/204, or not reachable after retries): the verification becomes `failed` and
    /// the returned text (`failure_message`) is what to reply to the user.
    ///
    /// # Errors
    /// `verify_not_found`, `verify_not_pending` (not `validated`), `verify_store_failed`.
    pub async fn callback_failed(&self, id: &str, error: &str) -> Result<(Verification, String)> {
        let v = self
            .settle(id, |v| {
                if v.status != Status::Validated {
                    return Err(Error::NotPending);
                }
                v.status = Status::Failed;
                v.error = Some(error.chars().take(500).collect());
                Ok(())
            })
            .await?;
        let reply = v.messages.failure.clone();
        Ok((v, reply))
    }

    async fn insert_with_fresh_code(&self, v: &mut Verification) -> Result<()> {
        for _ in 0..16 {
            v.code = self
                .config
                .code_format
                .generate(self.rng.as_ref())?
                .to_ascii_lowercase();
            match self.store.insert(v).await {
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
        if url.len() > 2048 {
            return Err(Error::CallbackUrlInvalid);
        }
        let private = match parsed.host() {
            None => return Err(Error::CallbackUrlInvalid),
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d.is_empty() || d == "localhost" || d.ends_with(".localhost")
            }
            Some(url::Host::Ipv4(ip)) => !wa_validate::net::is_public_ip(ip.into()),
            Some(url::Host::Ipv6(ip)) => !wa_validate::net::is_public_ip(ip.into()),
        };
        if private && !self.config.allow_private_callback {
            return Err(Error::CallbackUrlPrivate);
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
            expires_at: v.expires_at,
        }
    }

    fn uuid(&self) -> Result<String> {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b).map_err(|_| Error::RngFailed)?;
        Ok(wa_validate::random::uuid_v4(b))
    }
}

/// Records the expiry of up to `limit` verifications whose time has passed and returns
/// the ones this call settled (each exactly once, even with several processes sweeping
/// one store): post each one's [`Verification::callback_payload`] to its `callback_url`.
///
/// # Errors
/// `verify_store_failed`.
///
/// # Examples
/// ```
/// # pollster::block_on(async {
/// use std::{sync::Arc, time::Duration};
/// use wa_verify::*;
/// let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
/// let store = Arc::new(MemoryStore::new());
/// let verifier = Verifier::new_with(
///     Config::new(wa_validate::Phone::parse("+56943426553").unwrap()),
///     store.clone(), clock.clone(), Arc::new(SeededRng::new(1)),
/// );
/// let req = Request { expires_at: Some(1), ..Request::default() };
/// verifier.issue("app", &req).await.unwrap();
/// clock.advance(Duration::from_secs(60));
/// let expired = expire_due(&store, clock.timestamp(), 100).await.unwrap();
/// assert_eq!(expired[0].status, Status::Expired);
/// assert!(expire_due(&store, clock.timestamp(), 100).await.unwrap().is_empty());
/// # });
/// ```
pub async fn expire_due<S: VerificationStore + ?Sized>(
    store: &S,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<Verification>> {
    let due = store.due_for_expiry(now, limit).await.map_err(store_err)?;
    let mut settled = Vec::with_capacity(due.len());
    for mut v in due {
        v.status = Status::Expired;
        v.revision = v.revision.wrapping_add(1);
        if store.update(&v).await.map_err(store_err)? {
            settled.push(v);
        }
    }
    Ok(settled)
}

fn minus(t: Timestamp, d: Duration) -> Timestamp {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Timestamp::from_millis(t.as_millis().saturating_sub(ms))
}

/// The number without its last 4 digits: one key per block of 10,000 numbers.
fn prefix_key(app_id: &str, p: &wa_validate::Phone) -> String {
    let d = p.digits();
    format!("prefix:{app_id}:{}", &d[..d.len().saturating_sub(4)])
}

fn is_authorized(v: &Verification, from: &Recipient) -> bool {
    from.phone_digits()
        .is_some_and(|d| v.authorized_numbers.iter().any(|p| p.digits() == d))
}

fn store_err(e: StoreError) -> Error {
    Error::Store(e.to_string())
}

mod windows;
