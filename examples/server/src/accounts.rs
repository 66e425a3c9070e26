//! Accounts of the send API: API keys (stored as SHA-256 only), plans, delivery
//! credentials (sealed at rest), webhook targets. Persisted in SQLite, mirrored in memory;
//! the registry is the dispatcher's [`BackendRouter`] and [`WebhookTargets`].

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use wa_send::{
    BackendRouter, CloudApiBackend, SharedBackend, WebhookTarget, WebhookTargets, WsapiBackend,
};

use crate::crypto::{SecretBox, hashes_equal, key_hash, new_api_key};

/// A plan: per-key request limit and bulk cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// 20 requests/min, bulk ≤ 100.
    Free,
    /// 100 requests/min, bulk ≤ 1 000.
    Basic,
    /// 500 requests/min, bulk ≤ 5 000.
    Pro,
    /// 2 000 requests/min, bulk ≤ 5 000.
    Enterprise,
}

impl Plan {
    /// Requests per minute per key.
    pub fn per_minute(self) -> u32 {
        match self {
            Plan::Free => 20,
            Plan::Basic => 100,
            Plan::Pro => 500,
            Plan::Enterprise => 2000,
        }
    }

    /// Most messages in one bulk call.
    pub fn bulk_cap(self) -> usize {
        match self {
            Plan::Free => 100,
            Plan::Basic => 1000,
            Plan::Pro | Plan::Enterprise => 5000,
        }
    }

    /// Every plan.
    pub const ALL: [Plan; 4] = [Plan::Free, Plan::Basic, Plan::Pro, Plan::Enterprise];
}

/// Delivery credentials as stored (secrets sealed; `Debug` shows no secret, sealed or not).
#[derive(Clone, Serialize, Deserialize)]
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

/// One account (`Debug` shows neither the key hash nor any secret).
#[derive(Clone, Serialize, Deserialize)]
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
    /// Unix ms.
    pub created_at: u64,
    /// Messages accepted for sending.
    pub messages_sent: u64,
    /// Delivery credentials (none: the dry-run backend).
    pub credentials: Option<StoredCredentials>,
    /// Status webhook URL.
    pub webhook_url: Option<String>,
    /// Sealed `whsec_…` secret that signs webhooks and verification callbacks.
    pub signing_secret: String,
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

struct Entry {
    account: Account,
    backend: SharedBackend,
}

/// Backend settings for building accounts' backends.
#[derive(Debug, Clone)]
pub struct BackendSettings {
    /// Graph API host.
    pub graph_base_url: String,
    /// Graph API version.
    pub graph_version: String,
    /// WSAPI host.
    pub wsapi_base_url: String,
}

/// All accounts.
pub struct Registry {
    pool: SqlitePool,
    secrets: SecretBox,
    settings: BackendSettings,
    dry_run: SharedBackend,
    inner: RwLock<(HashMap<String, Entry>, HashMap<String, String>)>,
    failed: std::sync::Mutex<
        Option<tokio::sync::mpsc::UnboundedSender<wa_send::queue::WebhookDelivery>>,
    >,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

/// Errors of account operations (mapped to send-API errors by the routes).
#[derive(Debug)]
pub enum AccountError {
    /// The database failed.
    Db(String),
    /// Stored secrets cannot be opened with the configured key.
    Secret(String),
    /// The credentials cannot build a backend.
    Credentials(wa_send::DeliveryError),
}

fn db(e: impl std::fmt::Display) -> AccountError {
    AccountError::Db(e.to_string())
}

fn now_ms() -> u64 {
    wa_send::Clock::unix_millis(&wa_send::SystemClock)
}

impl Registry {
    /// Opens the accounts table in the SQLite file at `path` and loads every account.
    ///
    /// # Errors
    /// When the database cannot be opened or an account's secrets cannot be opened.
    pub async fn open(
        path: &std::path::Path,
        secrets: SecretBox,
        settings: BackendSettings,
        dry_run: SharedBackend,
    ) -> Result<Self, AccountError> {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(db)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(db)?;
        sqlx::query("CREATE TABLE IF NOT EXISTS server_accounts (id TEXT PRIMARY KEY NOT NULL, key_hash TEXT NOT NULL UNIQUE, body TEXT NOT NULL)")
            .execute(&pool)
            .await
            .map_err(db)?;
        let rows = sqlx::query("SELECT body FROM server_accounts")
            .fetch_all(&pool)
            .await
            .map_err(db)?;
        let registry = Registry {
            pool,
            secrets,
            settings,
            dry_run,
            inner: RwLock::new((HashMap::new(), HashMap::new())),
            failed: std::sync::Mutex::new(None),
        };
        for row in rows {
            let account: Account = serde_json::from_str(row.get::<&str, _>(0)).map_err(db)?;
            registry.cache(account)?;
        }
        Ok(registry)
    }

    fn build_backend(&self, account: &Account) -> Result<SharedBackend, AccountError> {
        let s = &self.settings;
        Ok(match &account.credentials {
            None => self.dry_run.clone(),
            Some(StoredCredentials::Meta {
                access_token,
                phone_number_id,
                ..
            }) => {
                let token = self
                    .secrets
                    .open(access_token)
                    .map_err(AccountError::Secret)?;
                Arc::new(
                    CloudApiBackend::builder(token, phone_number_id.clone())
                        .base_url(&s.graph_base_url)
                        .graph_version(&s.graph_version)
                        .build()
                        .map_err(AccountError::Credentials)?,
                )
            }
            Some(StoredCredentials::Wsapi {
                api_key,
                instance_id,
                ..
            }) => {
                let key = self.secrets.open(api_key).map_err(AccountError::Secret)?;
                Arc::new(
                    WsapiBackend::builder(key, instance_id.clone())
                        .base_url(&s.wsapi_base_url)
                        .build()
                        .map_err(AccountError::Credentials)?,
                )
            }
        })
    }

    fn cache(&self, account: Account) -> Result<(), AccountError> {
        let backend = self.build_backend(&account)?;
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = inner.0.get(&account.id) {
            let old_hash = old.account.key_hash.clone();
            inner.1.remove(&old_hash);
        }
        inner.1.insert(account.key_hash.clone(), account.id.clone());
        inner
            .0
            .insert(account.id.clone(), Entry { account, backend });
        Ok(())
    }

    async fn persist(&self, account: &Account) -> Result<(), AccountError> {
        let body = serde_json::to_string(account).map_err(db)?;
        sqlx::query("INSERT INTO server_accounts (id, key_hash, body) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET key_hash = excluded.key_hash, body = excluded.body")
            .bind(&account.id)
            .bind(&account.key_hash)
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Saves and caches an account (after checking its credentials build a backend).
    ///
    /// # Errors
    /// On database or credential failures (nothing is changed then).
    pub async fn save(&self, account: Account) -> Result<(), AccountError> {
        self.build_backend(&account)?;
        self.persist(&account).await?;
        self.cache(account)
    }

    /// Creates an account; returns it and its API key (shown once).
    ///
    /// # Errors
    /// On database failures.
    pub async fn register(
        &self,
        name: String,
        email: String,
    ) -> Result<(Account, String), AccountError> {
        let key = new_api_key();
        let account = Account {
            id: wa_send::queue::new_id("acc", now_ms()),
            name,
            email,
            plan: Plan::Free,
            key_hash: key_hash(&key),
            created_at: now_ms(),
            messages_sent: 0,
            credentials: None,
            webhook_url: None,
            signing_secret: self.secrets.seal(&wa_send::outbound::generate_secret()),
        };
        self.save(account.clone()).await?;
        Ok((account, key))
    }

    /// The account an API key belongs to (hash lookup, then a constant-time comparison).
    pub fn authenticate(&self, key: &str) -> Option<Account> {
        let hash = key_hash(key);
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = inner.1.get(&hash)?;
        let entry = inner.0.get(id)?;
        hashes_equal(&entry.account.key_hash, &hash).then(|| entry.account.clone())
    }

    /// One account.
    pub fn get(&self, id: &str) -> Option<Account> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .get(id)
            .map(|e| e.account.clone())
    }

    /// The account whose Meta credentials use `phone_number_id`.
    pub fn by_phone_number_id(&self, phone_number_id: &str) -> Option<Account> {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner
            .0
            .values()
            .find(|e| matches!(&e.account.credentials, Some(StoredCredentials::Meta { phone_number_id: p, .. }) if p == phone_number_id))
            .map(|e| e.account.clone())
    }

    /// Where finished deliveries are reported (verification callbacks then turn into the
    /// `response_message` or `failure_message` reply).
    pub fn report_failures_to(
        &self,
        tx: tokio::sync::mpsc::UnboundedSender<wa_send::queue::WebhookDelivery>,
    ) {
        *self
            .failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tx);
    }

    /// The secrets box.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// Counts accepted messages.
    pub async fn add_sent(&self, id: &str, n: u64) {
        if let Some(mut account) = self.get(id) {
            account.messages_sent += n;
            if self.persist(&account).await.is_ok() {
                let _ = self.cache(account);
            }
        }
    }
}

impl BackendRouter for Registry {
    fn backend_for(&self, account: &str) -> Option<SharedBackend> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .get(account)
            .map(|e| e.backend.clone())
    }
}

impl WebhookTargets for Registry {
    fn target_for(&self, account: &str) -> Option<WebhookTarget> {
        let a = self.get(account)?;
        let secret = self.secrets.open(&a.signing_secret).ok()?;
        Some(WebhookTarget {
            url: a.webhook_url?,
            secret,
        })
    }

    fn secret_for(&self, account: &str) -> Option<String> {
        signing_secret(self, account)
    }

    fn delivery_finished(&self, delivery: &wa_send::queue::WebhookDelivery) {
        if let Some(tx) = self
            .failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            let _ = tx.send(delivery.clone());
        }
    }
}

/// The signing secret of an account (for verification callbacks, which go to their own URL).
pub fn signing_secret(registry: &Registry, account: &str) -> Option<String> {
    registry
        .get(account)
        .and_then(|a| registry.secrets.open(&a.signing_secret).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let a = Account {
            id: "acc_1".into(),
            name: "n".into(),
            email: "e@x.example".into(),
            plan: Plan::Free,
            key_hash: "hash-of-key".into(),
            created_at: 0,
            messages_sent: 0,
            credentials: Some(StoredCredentials::Meta {
                access_token: "plain:EAAG-token".into(),
                phone_number_id: "1".into(),
                display_phone_number: None,
            }),
            webhook_url: None,
            signing_secret: "plain:whsec_abc".into(),
        };
        let shown = format!("{a:?}");
        for secret in ["EAAG-token", "whsec_abc", "hash-of-key"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
