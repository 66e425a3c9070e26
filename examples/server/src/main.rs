//! `cargo run -p wa-server-example` serves on 127.0.0.1:8080 with a local SQLite file
//! (`wa-kit.db`) and the dry-run backend for accounts without Meta credentials; `--help`
//! lists every flag and its environment variable.

use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wa_server_example::Config;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("wa_server_example=info,wa_send=info,tower_http=info"));
    if config.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        // Colours only on a terminal: a log file or journald gets plain text.
        tracing_subscriber::fmt()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .with_env_filter(filter)
            .init();
    }
    // Load libphonenumber metadata before accepting traffic, so no request pays for it.
    wa_validate::phone::warm_up();
    let bind = config.bind;
    let header_timeout = Duration::from_millis(config.header_timeout_ms);
    let request_timeout = Duration::from_millis(config.request_timeout_ms);
    let database = redact(&config.database);
    let mut server = wa_server_example::build(config).await?;
    let router = server.router();
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!(addr = %listener.local_addr()?, %database, "wa-kit server listening");
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let background = tokio::spawn(async move {
        server
            .run_background(async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            })
            .await;
    });
    // Requests in flight at SIGTERM get up to the request timeout to finish.
    wa_server_example::serve::serve(
        listener,
        router,
        header_timeout,
        request_timeout,
        shutdown_signal(),
    )
    .await?;
    // Stop claiming; sends in flight finish (up to the drain timeout) and are recorded.
    let _ = stop_tx.send(true);
    let _ = background.await;
    tracing::info!("stopped");
    Ok(())
}

/// The database URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{user}:***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
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
