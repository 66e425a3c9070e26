//! Wiring: one database for everything, the accounts, the dispatcher and its routing, the
//! send state, and the background tasks. `main` and the tests start the server through
//! [`build`].

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::mpsc;
use wa_send::queue::{Database, SqlStore, WebhookDelivery};
use wa_send::{Clock, DispatchConfig, Dispatcher, StatusUpdate, SystemClock};

use crate::config::Config;
use crate::crypto::SecretBox;
use crate::send::routing::{BackendSettings, Routing};
use crate::send::{BulkCaps, SendState, auth};
use crate::state::AppState;
use crate::storage::{Accounts, Seen};
use crate::verification::store::SqlVerificationStore;

/// How long settled verifications and velocity-limit events are kept.
const VERIFICATION_RETENTION_MS: u64 = 7 * 24 * 3_600_000;

/// The built server: its state, and the feeds its background tasks consume.
#[derive(Debug)]
pub struct Server {
    /// The state every route shares.
    pub state: AppState,
    statuses: Option<mpsc::UnboundedReceiver<StatusUpdate>>,
    finished: Option<mpsc::UnboundedReceiver<WebhookDelivery>>,
}

fn dispatch_config(config: &Config) -> DispatchConfig {
    let mut dc = DispatchConfig::default();
    dc.rate_per_second = Some(config.dispatch_rate);
    dc.bulk_cap = config
        .bulk_cap_enterprise
        .max(config.bulk_cap_pro)
        .max(config.bulk_cap_basic)
        .max(config.bulk_cap_free)
        .max(1);
    dc.allow_private_webhook_targets = config.allow_private_targets;
    dc.webhook_retry.base = Duration::from_millis(config.webhook_retry_ms.max(1));
    dc.reconcile_window_ms = config.reconcile_ms;
    dc.lease_ms = config.lease_ms;
    dc.concurrency = usize::try_from(config.dispatch_concurrency).unwrap_or(256);
    dc
}

/// Opens the database named by the configuration (running every migration), and builds
/// the accounts, the dispatcher and the routes' state.
///
/// # Errors
/// When the database cannot be opened or migrated, or the secret key is malformed.
pub async fn build(config: Config) -> Result<Server, String> {
    build_with_clock(config, Arc::new(SystemClock)).await
}

/// [`build`] with the clock every component reads (tests drive time with a
/// [`wa_send::ManualClock`]; the HTTP limiters keep real time).
///
/// # Errors
/// As [`build`].
pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Server, String> {
    let config = Arc::new(config);
    let secrets = SecretBox::new(config.secret_key.as_deref())?;
    if !secrets.is_encrypting() {
        tracing::warn!("WA_SECRET_KEY is not set: provider credentials are stored unencrypted");
    }
    let (db, store) = open_database(&config.database, config.db_connections).await?;
    let accounts = Accounts::new(db.clone(), secrets);
    let (routing, statuses, finished) = routing(&config, &accounts);
    let dispatcher = Dispatcher::new(
        Arc::new(store),
        routing.clone(),
        clock.clone(),
        dispatch_config(&config),
    )
    .map_err(|e| e.to_string())?
    .with_webhooks(routing.clone());
    let send = Arc::new(SendState {
        accounts,
        dispatcher: Arc::new(dispatcher),
        seen: Seen::new(db.clone()),
        verifications: Arc::new(SqlVerificationStore::new(db.clone())),
        clock,
        routing,
        limits: auth::Limits::new(config.plan_limit_multiplier, key_limiter(&db)),
        bulk_caps: BulkCaps {
            free: config.bulk_cap_free.min(config.bulk_cap_basic),
            basic: config.bulk_cap_basic,
            pro: config.bulk_cap_pro,
            enterprise: config.bulk_cap_enterprise,
        },
        config: config.clone(),
    });
    Ok(Server {
        state: AppState::new(config, send),
        statuses: Some(statuses),
        finished: Some(finished),
    })
}

/// The database at `url` with every migration applied, and the queue store on it.
async fn open_database(url: &str, connections: u32) -> Result<(Database, SqlStore), String> {
    let mut options = wa_send::queue::sql::DatabaseOptions::default();
    options.max_connections = connections;
    let db = Database::open_with(url, options)
        .await
        .map_err(|e| format!("database {url}: {e}"))?;
    let store = SqlStore::open(db.clone())
        .await
        .map_err(|e| format!("queue migrations: {e}"))?;
    crate::storage::migrate(&db)
        .await
        .map_err(|e| format!("server migrations: {e}"))?;
    Ok((db, store))
}

/// On PostgreSQL several replicas share the per-key limits; SQLite has one process.
fn key_limiter(db: &Database) -> auth::KeyLimiter {
    match db.engine() {
        wa_send::queue::sql::Engine::Postgres => {
            auth::KeyLimiter::Shared(crate::limit::SharedLimiter::new(db.clone()))
        }
        _ => auth::KeyLimiter::Local(crate::limit::LocalLimiter::default()),
    }
}

/// The dispatcher's view of accounts, with the dry-run backend's statuses and the
/// finished webhook deliveries as feeds for the background tasks.
fn routing(
    config: &Config,
    accounts: &Accounts,
) -> (
    Arc<Routing>,
    mpsc::UnboundedReceiver<StatusUpdate>,
    mpsc::UnboundedReceiver<WebhookDelivery>,
) {
    let (status_tx, status_rx) = mpsc::unbounded_channel();
    let dry_run: wa_send::SharedBackend =
        Arc::new(wa_send::DryRunBackend::new().on_status(move |s| {
            let _ = status_tx.send(s);
        }));
    let settings = BackendSettings {
        graph_base_url: config.graph_base_url.clone(),
        graph_version: config.graph_version.clone(),
        wsapi_base_url: config.wsapi_base_url.clone(),
    };
    let routing = Arc::new(Routing::new(accounts.clone(), settings, dry_run));
    let (finished_tx, finished_rx) = mpsc::unbounded_channel();
    routing.on_finished(move |d| {
        let _ = finished_tx.send(d);
    });
    (routing, status_rx, finished_rx)
}

impl Server {
    /// The HTTP application.
    pub fn router(&self) -> Router {
        crate::app(self.state.clone())
    }

    /// The send side.
    pub fn send(&self) -> &Arc<SendState> {
        &self.state.send
    }

    /// Starts the background work: the dispatcher (sends and webhook deliveries), the
    /// dry-run backend's synthetic statuses, verification callbacks' outcomes, and hourly
    /// housekeeping. Returns when `shutdown` completes and the dispatcher has drained.
    pub async fn run_background(&mut self, shutdown: impl Future<Output = ()> + Send) {
        let send = self.state.send.clone();
        let mut tasks = Vec::new();
        if let Some(mut rx) = self.statuses.take() {
            let d = send.dispatcher.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(update) = rx.recv().await {
                    if let Err(e) = d.apply_status(&update).await {
                        tracing::warn!(code = e.code(), "could not apply a dry-run status");
                    }
                }
            }));
        }
        if let Some(mut rx) = self.finished.take() {
            let s = send.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(d) = rx.recv().await {
                    crate::verification::flow::callback_finished(s.clone(), d).await;
                }
            }));
        }
        let s = send.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Err(e) = crate::verification::flow::sweep_expired(&s).await {
                    tracing::warn!(code = e.code, "the verification expiry sweep failed");
                }
            }
        }));
        let state = self.state.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                housekeeping(&state).await;
            }
        }));
        let poll = Duration::from_millis(self.state.config.poll_ms.max(10));
        send.dispatcher.clone().run(poll, shutdown).await;
        for t in tasks {
            t.abort();
        }
    }
}

/// Minutely: limiter tables, handled webhook ids, old verifications and limit events.
async fn housekeeping(state: &AppState) {
    state.retain_recent().await;
    let now = state.send.now();
    if let Err(e) = state.send.seen.prune(now).await {
        tracing::warn!(code = e.code(), "pruning handled webhook ids failed");
    }
    let cutoff =
        wa_send::Timestamp::from_millis(now.as_millis().saturating_sub(VERIFICATION_RETENTION_MS));
    if let Err(e) = state.send.verifications.prune(cutoff).await {
        tracing::warn!(error = %e, "pruning old verifications failed");
    }
}
