//! `cargo run -p wa-server-example` serves on 127.0.0.1:8080 with a local SQLite file
//! (`wa-kit.db`) and the dry-run backend for accounts without Meta credentials; `--help`
//! lists every flag and its environment variable.

use std::net::SocketAddr;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wa_server_example::{AppState, Config, app};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("wa_server_example=info,tower_http=info")),
        )
        .init();
    // Load libphonenumber metadata before accepting traffic, so no request pays for it.
    wa_validate::phone::warm_up();
    let (send, background) = wa_server_example::send_api::open(&config)
        .await
        .map_err(|e| format!("send API: {e}"))?;
    let send = std::sync::Arc::new(send);
    background.spawn(&send);
    let dispatcher = send.dispatcher.clone();
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(addr = %listener.local_addr()?, database = %config.database.display(), "wa-kit server listening");
    let poll = std::time::Duration::from_millis(config.poll_ms.max(10));
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(dispatcher.clone().run(poll, async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));
    let service = app(AppState::new(config).with_send_arc(send))
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // Let the workers finish their round; unfinished messages keep their leases and are
    // claimed again on the next start.
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), workers).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
