//! The send API (WhatsAPI's wire format): accounts and keys, messages, analytics, and the
//! operator API.
//!
//! | file | what it owns |
//! |---|---|
//! | `mod.rs` | [`SendState`], the router |
//! | `auth.rs` | `Authorization: Bearer` keys, per-plan limits, the registration limit |
//! | `accounts.rs` | `/auth/*` handlers |
//! | `messages.rs` | `/send-message`, `/messages*`, `/analytics/summary` handlers |
//! | `admin.rs` | `/admin/*` (operator token) |
//! | `dto.rs` | every request and response body |
//! | `routing.rs` | the dispatcher's view of accounts: backends and webhook targets |

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod dto;
pub mod messages;
pub mod routing;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};
use wa_send::Dispatcher;

use crate::config::Config;
use crate::storage::{Accounts, Plan, Seen};

/// Per-plan bulk caps (WhatsAPI: Basic 100, Pro 1,000, Enterprise 5,000; Free as Basic).
#[derive(Debug, Clone, Copy)]
pub struct BulkCaps {
    /// Free.
    pub free: usize,
    /// Basic.
    pub basic: usize,
    /// Pro.
    pub pro: usize,
    /// Enterprise.
    pub enterprise: usize,
}

impl BulkCaps {
    /// The cap of `plan`.
    pub fn of(&self, plan: Plan) -> usize {
        match plan {
            Plan::Free => self.free,
            Plan::Basic => self.basic,
            Plan::Pro => self.pro,
            Plan::Enterprise => self.enterprise,
        }
    }
}

/// What the send API, the verification API and Meta's webhooks run on.
pub struct SendState {
    /// Accounts, keys, secrets.
    pub accounts: Accounts,
    /// The queue and its workers.
    pub dispatcher: Arc<Dispatcher>,
    /// Meta webhook events already handled.
    pub seen: Seen,
    /// The dispatcher's view of accounts.
    pub routing: Arc<routing::Routing>,
    /// Per-key plan limits and the registration limit.
    pub limits: auth::Limits,
    /// Bulk caps per plan.
    pub bulk_caps: BulkCaps,
    /// The configuration.
    pub config: Arc<Config>,
    /// Verifications (in the database).
    pub verifications: crate::verification::SharedStore,
    /// The clock (the system's, except in tests).
    pub clock: Arc<dyn wa_send::Clock>,
}

impl std::fmt::Debug for SendState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendState")
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

impl SendState {
    /// The clock everything here reads.
    pub fn now(&self) -> wa_send::Timestamp {
        self.clock.timestamp()
    }
}

/// The send API's routes (`/auth/*`, `/send-message`, `/messages*`, `/analytics/*`,
/// `/admin/*`).
pub fn router(send: Arc<SendState>) -> Router {
    let authed = Router::new()
        .route("/auth/me", get(accounts::me))
        .route("/auth/me/rotate-key", post(accounts::rotate_key))
        .route(
            "/auth/me/credentials",
            put(accounts::put_credentials).delete(accounts::delete_credentials),
        )
        .route(
            "/auth/me/credentials/verify",
            post(accounts::verify_credentials),
        )
        .route(
            "/auth/me/webhook",
            put(accounts::put_webhook).delete(accounts::delete_webhook),
        )
        .route("/send-message", post(messages::send_message))
        .route("/messages/bulk", post(messages::bulk))
        .route("/messages", get(messages::list))
        .route("/messages/{id}", get(messages::get_one))
        .route("/messages/{id}/cancel", post(messages::cancel))
        .route("/messages/{id}/retry", post(messages::retry))
        .route("/analytics/summary", get(messages::summary))
        .route_layer(axum::middleware::from_fn_with_state(
            send.clone(),
            auth::authenticate,
        ));
    let register = Router::new()
        .route("/auth/register", post(accounts::register))
        .route_layer(axum::middleware::from_fn_with_state(
            send.clone(),
            auth::register_limit,
        ));
    let admin = Router::new()
        .route("/admin/accounts/{id}/plan", put(admin::set_plan))
        .route("/admin/accounts/{id}/status", put(admin::set_status));
    authed.merge(register).merge(admin).with_state(send)
}
