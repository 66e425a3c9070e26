//! The server's own state, in the same database as wa-send's queue ([`Database`]): accounts
//! with hashed keys and sealed secrets, and the ids of Meta webhook events already handled.
//! Every change is one targeted `UPDATE` (never a read-modify-write of a whole account), so
//! concurrent requests cannot undo each other — a rotated key stays rotated.

use serde::{Deserialize, Serialize};
use wa_send::Timestamp;
use wa_send::queue::sql::{Arg, Conn, Row};
use wa_send::queue::{Database, StoreError};

use crate::crypto::{SecretBox, hashes_equal, key_hash, new_api_key};

/// Applies the server's migrations (versions 1000+).
///
/// # Errors
/// `store_failed`.
pub async fn migrate(db: &Database) -> Result<(), StoreError> {
    db.migrate(sqlx::migrate!("./migrations")).await
}

/// A plan: per-key request limit and bulk cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// 20 requests/min.
    Free,
    /// 100 requests/min.
    Basic,
    /// 500 requests/min.
    Pro,
    /// 2 000 requests/min.
    Enterprise,
}

impl Plan {
    /// Every plan.
    pub const ALL: [Plan; 4] = [Plan::Free, Plan::Basic, Plan::Pro, Plan::Enterprise];

    /// Requests per minute per key (WhatsAPI's table).
    pub fn per_minute(self) -> u32 {
        match self {
            Plan::Free => 20,
            Plan::Basic => 100,
            Plan::Pro => 500,
            Plan::Enterprise => 2000,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Basic => "basic",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }

    /// Parses [`Plan::as_str`].
    pub fn parse(s: &str) -> Option<Plan> {
        Plan::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Delivery credentials as stored (secrets sealed; `Debug` shows no secret, sealed or not).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum StoredCredentials {
    /// Meta Cloud API.
    Meta {
        /// Sealed access token.
        access_token: String,
        /// Phone number id.
        phone_number_id: String,
        /// The business number users write to (verification links).
        display_phone_number: Option<String>,
    },
    /// WSAPI-style instance.
    Wsapi {
        /// Sealed API key.
        api_key: String,
        /// Instance id.
        instance_id: String,
        /// The business number users write to.
        display_phone_number: Option<String>,
    },
}

impl StoredCredentials {
    /// `meta` or `wsapi`.
    pub fn provider(&self) -> &'static str {
        match self {
            StoredCredentials::Meta { .. } => "meta",
            StoredCredentials::Wsapi { .. } => "wsapi",
        }
    }

    /// The business number, when known.
    pub fn display_phone_number(&self) -> Option<&str> {
        match self {
            StoredCredentials::Meta {
                display_phone_number,
                ..
            }
            | StoredCredentials::Wsapi {
                display_phone_number,
                ..
            } => display_phone_number.as_deref(),
        }
    }
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoredCredentials::Meta {
                phone_number_id, ..
            } => f
                .debug_struct("Meta")
                .field("phone_number_id", phone_number_id)
                .field("access_token", &"<redacted>")
                .finish(),
            StoredCredentials::Wsapi { instance_id, .. } => f
                .debug_struct("Wsapi")
                .field("instance_id", instance_id)
                .field("api_key", &"<redacted>")
                .finish(),
        }
    }
}

/// One account (`Debug` shows neither the key hash nor any secret).
#[derive(Clone)]
pub struct Account {
    /// `acc_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Contact e-mail.
    pub email: String,
    /// Plan.
    pub plan: Plan,
    /// SHA-256 of the API key.
    pub key_hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Delivery credentials (none: the dry-run backend).
    pub credentials: Option<StoredCredentials>,
    /// The Meta phone number id it proved it owns (routes inbound traffic).
    pub phone_number_id: Option<String>,
    /// Status webhook URL.
    pub webhook_url: Option<String>,
    /// Sealed `whsec_…` secret that signs status webhooks.
    pub signing_secret: String,
    /// Sealed `whsec_…` secret that signs verification callbacks.
    pub callback_secret: String,
    /// Verification API defaults (JSON).
    pub verification_defaults: Option<String>,
    /// When the operator deactivated it (its key then answers 403 `account_deactivated`).
    pub deactivated_at: Option<Timestamp>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("plan", &self.plan)
            .field("credentials", &self.credentials)
            .field("webhook_url", &self.webhook_url)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, name, email, plan, key_hash, created_at, credentials, phone_number_id, \
                       webhook_url, signing_secret, callback_secret, verification_defaults, deactivated_at";

fn account_from(row: &Row) -> Result<Account, StoreError> {
    let id = row.text(0)?;
    let corrupt = |detail: String| StoreError::Corrupt {
        id: id.clone(),
        detail,
    };
    let plan = row.text(3)?;
    let credentials = row
        .opt_text(6)?
        .map(|c| serde_json::from_str(&c).map_err(|e| corrupt(e.to_string())))
        .transpose()?;
    Ok(Account {
        name: row.text(1)?,
        email: row.text(2)?,
        plan: Plan::parse(&plan).ok_or_else(|| corrupt(format!("plan {plan:?}")))?,
        key_hash: row.text(4)?,
        created_at: row.ts(5)?,
        credentials,
        phone_number_id: row.opt_text(7)?,
        webhook_url: row.opt_text(8)?,
        signing_secret: row.text(9)?,
        callback_secret: row.text(10)?,
        verification_defaults: row.opt_text(11)?,
        deactivated_at: row.opt_ts(12)?,
        id,
    })
}

/// Why an account change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another account already owns this phone number id.
    #[error("this phone number id belongs to another account")]
    PhoneNumberIdTaken,
}

/// Accounts, keys and secrets in the database.
#[derive(Debug, Clone)]
pub struct Accounts {
    db: Database,
    secrets: SecretBox,
}

async fn one(c: &mut dyn Conn, sql: &str, args: &[Arg<'_>]) -> Result<Option<Account>, StoreError> {
    c.fetch_optional(sql, args)
        .await?
        .map(|r| account_from(&r))
        .transpose()
}

impl Accounts {
    /// Accounts in `db`, sealing secrets with `secrets`.
    pub fn new(db: Database, secrets: SecretBox) -> Self {
        Accounts { db, secrets }
    }

    /// The secrets box.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    async fn read_one(&self, sql: String, arg: String) -> Result<Option<Account>, StoreError> {
        self.db
            .read(move |c| Box::pin(async move { one(c, &sql, &[arg.as_str().into()]).await }))
            .await
    }

    /// Creates an account on the free plan; returns it and its API key (shown once).
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn register(
        &self,
        name: String,
        email: String,
        now: Timestamp,
    ) -> Result<(Account, String), StoreError> {
        let key = new_api_key();
        let account = Account {
            id: wa_send::ids::prefixed("acc", now),
            name,
            email,
            plan: Plan::Free,
            key_hash: key_hash(&key),
            created_at: now,
            credentials: None,
            phone_number_id: None,
            webhook_url: None,
            signing_secret: self
                .secrets
                .seal(&wa_send::webhook::outgoing::generate_secret()),
            callback_secret: self
                .secrets
                .seal(&wa_send::webhook::outgoing::generate_secret()),
            verification_defaults: None,
            deactivated_at: None,
        };
        let a = account.clone();
        self.db
            .write(move |c| {
                Box::pin(async move {
                    c.execute(
                        "INSERT INTO wa_accounts (id, name, email, plan, key_hash, created_at, \
                         signing_secret, callback_secret) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        &[
                            (&a.id).into(),
                            (&a.name).into(),
                            (&a.email).into(),
                            a.plan.as_str().into(),
                            (&a.key_hash).into(),
                            a.created_at.into(),
                            (&a.signing_secret).into(),
                            (&a.callback_secret).into(),
                        ],
                    )
                    .await
                    .map(drop)
                })
            })
            .await?;
        Ok((account, key))
    }

    /// The account an API key belongs to: looked up by the key's hash, then compared in
    /// constant time. Always read from the database, so a rotation anywhere is seen at once.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn authenticate(&self, key: &str) -> Result<Option<Account>, StoreError> {
        let hash = key_hash(key);
        let found = self
            .read_one(
                format!("SELECT {COLUMNS} FROM wa_accounts WHERE key_hash = $1"),
                hash.clone(),
            )
            .await?;
        Ok(found.filter(|a| hashes_equal(&a.key_hash, &hash)))
    }

    /// One account.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn get(&self, id: &str) -> Result<Option<Account>, StoreError> {
        self.read_one(
            format!("SELECT {COLUMNS} FROM wa_accounts WHERE id = $1"),
            id.to_owned(),
        )
        .await
    }

    /// The account that proved it owns Meta phone number id `pnid`.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn by_phone_number_id(&self, pnid: &str) -> Result<Option<Account>, StoreError> {
        self.read_one(
            format!("SELECT {COLUMNS} FROM wa_accounts WHERE phone_number_id = $1"),
            pnid.to_owned(),
        )
        .await
    }

    async fn set(
        &self,
        sql: &'static str,
        id: String,
        value: Option<String>,
    ) -> Result<bool, StoreError> {
        self.db
            .write(move |c| {
                Box::pin(async move {
                    let n = c
                        .execute(sql, &[id.as_str().into(), value.as_deref().into()])
                        .await?;
                    Ok(n == 1)
                })
            })
            .await
    }

    /// Replaces the account's API key; returns the new key. The old one stops working at
    /// once (one `UPDATE`; every request reads the key from the database).
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn rotate_key(&self, id: &str) -> Result<String, StoreError> {
        let key = new_api_key();
        self.set(
            "UPDATE wa_accounts SET key_hash = $2 WHERE id = $1",
            id.to_owned(),
            Some(key_hash(&key)),
        )
        .await?;
        Ok(key)
    }

    /// Saves (or with `None` removes) delivery credentials. The phone number id stops
    /// routing inbound traffic until the new credentials are verified again.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn set_credentials(
        &self,
        id: &str,
        credentials: Option<&StoredCredentials>,
    ) -> Result<(), StoreError> {
        let json = credentials
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::backend(e.to_string()))?;
        self.set(
            "UPDATE wa_accounts SET credentials = $2, phone_number_id = NULL WHERE id = $1",
            id.to_owned(),
            json,
        )
        .await
        .map(drop)
    }

    /// Records that the account proved it owns Meta phone number id `pnid` (its credential
    /// check succeeded); from then on inbound traffic for `pnid` goes to it.
    ///
    /// # Errors
    /// `phone_number_id_taken` when another account owns it, or `store_failed`.
    pub async fn claim_phone_number_id(&self, id: &str, pnid: &str) -> Result<(), AccountError> {
        if let Some(owner) = self.by_phone_number_id(pnid).await?
            && owner.id != id
        {
            return Err(AccountError::PhoneNumberIdTaken);
        }
        // The unique index settles a race between two accounts.
        self.set(
            "UPDATE wa_accounts SET phone_number_id = $2 WHERE id = $1",
            id.to_owned(),
            Some(pnid.to_owned()),
        )
        .await
        .map(drop)
        .map_err(|e| match e {
            StoreError::Backend(ref b) if b.to_string().to_lowercase().contains("unique") => {
                AccountError::PhoneNumberIdTaken
            }
            other => AccountError::Store(other),
        })
    }

    /// Sets (or removes) the status webhook; a new URL gets a new signing secret, returned
    /// once.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn set_webhook(
        &self,
        id: &str,
        url: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let (id, url) = (id.to_owned(), url.map(str::to_owned));
        let secret = url
            .as_ref()
            .map(|_| wa_send::webhook::outgoing::generate_secret());
        let sealed = secret.as_deref().map(|s| self.secrets.seal(s));
        self.db
            .write(move |c| {
                Box::pin(async move {
                    match &sealed {
                        Some(s) => c
                            .execute(
                                "UPDATE wa_accounts SET webhook_url = $2, signing_secret = $3 WHERE id = $1",
                                &[id.as_str().into(), url.as_deref().into(), s.as_str().into()],
                            )
                            .await?,
                        None => c
                            .execute(
                                "UPDATE wa_accounts SET webhook_url = NULL WHERE id = $1",
                                &[id.as_str().into()],
                            )
                            .await?,
                    };
                    Ok(())
                })
            })
            .await?;
        Ok(secret)
    }

    /// Sets the plan (operators only).
    ///
    /// # Errors
    /// `store_failed`; `Ok(false)` when there is no such account.
    pub async fn set_plan(&self, id: &str, plan: Plan) -> Result<bool, StoreError> {
        self.set(
            "UPDATE wa_accounts SET plan = $2 WHERE id = $1",
            id.to_owned(),
            Some(plan.as_str().to_owned()),
        )
        .await
    }

    /// Deactivates (`active == false`, from `now`) or reactivates an account; `false` when
    /// there is no such account.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn set_active(
        &self,
        id: &str,
        active: bool,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        let at = (!active).then_some(now);
        self.db
            .write(move |c| {
                Box::pin(async move {
                    let n = c
                        .execute(
                            "UPDATE wa_accounts SET deactivated_at = $2 WHERE id = $1",
                            &[id.as_str().into(), at.into()],
                        )
                        .await?;
                    Ok(n == 1)
                })
            })
            .await
    }

    /// Stores the verification defaults (JSON).
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn set_verification_defaults(
        &self,
        id: &str,
        json: String,
    ) -> Result<(), StoreError> {
        self.set(
            "UPDATE wa_accounts SET verification_defaults = $2 WHERE id = $1",
            id.to_owned(),
            Some(json),
        )
        .await
        .map(drop)
    }

    /// A new callback signing secret (returned once).
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn rotate_callback_secret(&self, id: &str) -> Result<String, StoreError> {
        let secret = wa_send::webhook::outgoing::generate_secret();
        self.set(
            "UPDATE wa_accounts SET callback_secret = $2 WHERE id = $1",
            id.to_owned(),
            Some(self.secrets.seal(&secret)),
        )
        .await?;
        Ok(secret)
    }

    /// Opens a sealed secret of `account`.
    pub fn open(&self, sealed: &str) -> Option<String> {
        self.secrets.open(sealed).ok()
    }
}

mod seen;
pub use seen::{SEEN_RETENTION_MS, Seen};
