//! The dispatcher's view of accounts ([`BackendRouter`], [`WebhookTargets`]): which
//! backend sends an account's messages, where its status webhooks go and which secret
//! signs them. Read from the database, with a cache of at most [`TTL_MS`] so a change of
//! credentials or webhook on any replica is seen within that time; built backends are
//! reused while the credentials are the same.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wa_send::queue::{DeliveryKind, StoreError, WebhookDelivery};
use wa_send::{
    BackendRouter, CloudApiBackend, SharedBackend, Timestamp, WebhookTarget, WebhookTargets,
    WsapiBackend, async_trait,
};

use crate::storage::{Account, Accounts, StoredCredentials};

/// How long an account's routing is cached (ms).
pub const TTL_MS: u64 = 500;

/// Where provider APIs live.
#[derive(Debug, Clone)]
pub struct BackendSettings {
    /// Graph API host.
    pub graph_base_url: String,
    /// Graph API version.
    pub graph_version: String,
    /// WSAPI host.
    pub wsapi_base_url: String,
}

type Finished = Box<dyn Fn(WebhookDelivery) + Send + Sync>;

/// Accounts as the dispatcher sees them.
pub struct Routing {
    accounts: Accounts,
    settings: BackendSettings,
    dry_run: SharedBackend,
    /// account id → (fetched at, account).
    cache: Mutex<HashMap<String, (Timestamp, Option<Account>)>>,
    /// credentials JSON → backend built from them.
    backends: Mutex<HashMap<String, SharedBackend>>,
    finished: std::sync::OnceLock<Finished>,
}

impl std::fmt::Debug for Routing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routing").finish_non_exhaustive()
    }
}

fn now() -> Timestamp {
    wa_send::Clock::timestamp(&wa_send::SystemClock)
}

impl Routing {
    /// Routing over `accounts`; accounts without credentials use `dry_run`.
    pub fn new(accounts: Accounts, settings: BackendSettings, dry_run: SharedBackend) -> Self {
        Routing {
            accounts,
            settings,
            dry_run,
            cache: Mutex::new(HashMap::new()),
            backends: Mutex::new(HashMap::new()),
            finished: std::sync::OnceLock::new(),
        }
    }

    /// Calls `f` for every webhook delivery that reaches its final state.
    pub fn on_finished(&self, f: impl Fn(WebhookDelivery) + Send + Sync + 'static) {
        let _ = self.finished.set(Box::new(f));
    }

    /// Forgets the cached routing of `account` (after a change made here).
    pub fn invalidate(&self, account: &str) {
        crate::lock(&self.cache).remove(account);
    }

    async fn account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let t = now();
        if let Some((at, a)) = crate::lock(&self.cache).get(id)
            && t.millis_since(*at) < TTL_MS
        {
            return Ok(a.clone());
        }
        let a = self.accounts.get(id).await?;
        let mut cache = crate::lock(&self.cache);
        if cache.len() > 10_000 {
            cache.retain(|_, (at, _)| t.millis_since(*at) < TTL_MS);
        }
        cache.insert(id.to_owned(), (t, a.clone()));
        Ok(a)
    }

    /// Builds (or reuses) the backend for `credentials`.
    ///
    /// # Errors
    /// `delivery_config_invalid` when the credentials cannot make a backend, or a secret
    /// does not open.
    pub fn backend(
        &self,
        credentials: Option<&StoredCredentials>,
    ) -> Result<SharedBackend, wa_send::DeliveryError> {
        let Some(creds) = credentials else {
            return Ok(self.dry_run.clone());
        };
        let fingerprint = serde_json::to_string(creds).unwrap_or_default();
        if let Some(b) = crate::lock(&self.backends).get(&fingerprint) {
            return Ok(b.clone());
        }
        let open = |sealed: &str| {
            self.accounts
                .secrets()
                .open(sealed)
                .map_err(|detail| wa_send::DeliveryError::Config { detail })
        };
        let s = &self.settings;
        let backend: SharedBackend = match creds {
            StoredCredentials::Meta {
                access_token,
                phone_number_id,
                ..
            } => Arc::new(
                CloudApiBackend::builder(open(access_token)?, phone_number_id.clone())
                    .base_url(&s.graph_base_url)
                    .graph_version(&s.graph_version)
                    .build()?,
            ),
            StoredCredentials::Wsapi {
                api_key,
                instance_id,
                ..
            } => Arc::new(
                WsapiBackend::builder(open(api_key)?, instance_id.clone())
                    .base_url(&s.wsapi_base_url)
                    .build()?,
            ),
        };
        let mut backends = crate::lock(&self.backends);
        if backends.len() > 10_000 {
            backends.clear();
        }
        backends.insert(fingerprint, backend.clone());
        Ok(backend)
    }
}

#[async_trait]
impl BackendRouter for Routing {
    async fn backend_for(&self, account: &str) -> Result<Option<SharedBackend>, StoreError> {
        let Some(a) = self.account(account).await? else {
            return Ok(None);
        };
        match self.backend(a.credentials.as_ref()) {
            Ok(b) => Ok(Some(b)),
            Err(e) => {
                tracing::error!(account = %account, code = e.code(), "the account's credentials cannot build a backend");
                Ok(None)
            }
        }
    }
}

#[async_trait]
impl WebhookTargets for Routing {
    async fn target_for(&self, account: &str) -> Result<Option<WebhookTarget>, StoreError> {
        let Some(a) = self.account(account).await? else {
            return Ok(None);
        };
        Ok(a.webhook_url.and_then(|url| {
            Some(WebhookTarget {
                url,
                secret: self.accounts.open(&a.signing_secret)?,
            })
        }))
    }

    async fn secret_for(
        &self,
        account: &str,
        kind: DeliveryKind,
    ) -> Result<Option<String>, StoreError> {
        let Some(a) = self.account(account).await? else {
            return Ok(None);
        };
        let sealed = match kind {
            DeliveryKind::Callback => &a.callback_secret,
            _ => &a.signing_secret,
        };
        Ok(self.accounts.open(sealed))
    }

    async fn delivery_finished(&self, delivery: &WebhookDelivery) {
        if let Some(f) = self.finished.get() {
            f(delivery.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretBox;
    use wa_send::queue::sql::Database;

    fn settings() -> BackendSettings {
        BackendSettings {
            graph_base_url: "http://127.0.0.1:9".into(),
            graph_version: "v23.0".into(),
            wsapi_base_url: "http://127.0.0.1:9".into(),
        }
    }

    /// Two replicas' routing views on one database: credentials saved through one are
    /// used by the other once its cache entry is older than [`TTL_MS`] (well within a
    /// second).
    #[tokio::test]
    async fn a_credential_change_on_another_replica_is_seen_within_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let db = Database::open(&url).await.unwrap();
        crate::storage::migrate(&db).await.unwrap();
        let dry_run: SharedBackend = Arc::new(wa_send::DryRunBackend::new());
        let accounts = Accounts::new(db.clone(), SecretBox::new(None).unwrap());
        let a = Routing::new(accounts.clone(), settings(), dry_run.clone());
        let b = Routing::new(
            Accounts::new(db, SecretBox::new(None).unwrap()),
            settings(),
            dry_run,
        );
        let (account, _) = accounts
            .register("r".into(), "r@example.com".into(), now())
            .await
            .unwrap();
        let name = |r: Option<SharedBackend>| r.map(|b| b.name());
        assert_eq!(
            name(b.backend_for(&account.id).await.unwrap()),
            Some("dry_run")
        );
        let creds = StoredCredentials::Meta {
            access_token: accounts.secrets().seal("EAAG-token"),
            phone_number_id: "106540352242922".into(),
            display_phone_number: None,
        };
        accounts
            .set_credentials(&account.id, Some(&creds))
            .await
            .unwrap();
        a.invalidate(&account.id);
        assert_eq!(
            name(a.backend_for(&account.id).await.unwrap()),
            Some("cloud_api")
        );
        tokio::time::sleep(std::time::Duration::from_millis(TTL_MS + 100)).await;
        assert_eq!(
            name(b.backend_for(&account.id).await.unwrap()),
            Some("cloud_api")
        );
    }
}
