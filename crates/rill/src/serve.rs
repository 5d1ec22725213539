//! `rill serve` and `rill mock-upstream`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rill_providers::ScriptedProvider;
use rill_server::{AppState, Config, ModelRegistry, ServerConfig};

use crate::cli::{MockArgs, ServeArgs};

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(host) = args.host {
        config.server.host = host;
    }
    if let Some(port) = args.port {
        config.server.port = port;
    }
    if let Some(model) = args.model {
        config.engine.model = Some(model);
    }
    // Before the models load: a Redis that cannot be reached stops the start at once.
    let cluster = rill_server::Cluster::connect(&config.cluster).await?;
    let registry = ModelRegistry::from_config(&config).await?;
    let names: Vec<&str> = registry.entries().iter().map(|e| e.name.as_str()).collect();
    tracing::info!(models = ?names, "models ready");
    if !config.keys.is_empty() {
        let keys: Vec<&str> = config.keys.iter().map(|k| k.name.as_str()).collect();
        tracing::info!(?keys, "every request needs one of these keys");
    }
    let models = config.effective_models();
    let state = AppState::new(config.server, registry)
        .with_sessions(config.sessions)
        .with_keys(config.keys)?
        .with_cluster(cluster.as_ref())
        .with_cache(&config.cache, &models, cluster.as_ref())
        .with_ledger_config(&config.ledger)?
        .with_telemetry(rill_server::Telemetry::new(&config.telemetry)?);
    state.load_budgets().await;
    run(state).await
}

pub async fn fetch() -> anyhow::Result<()> {
    let path = rill_fetch::ensure(&rill_fetch::SMOLLM2_135M_INSTRUCT, None).await?;
    println!("{}", path.display());
    Ok(())
}

pub async fn mock_upstream(args: MockArgs) -> anyhow::Result<()> {
    let provider = Arc::new(ScriptedProvider::new("mock", args.script()));
    let server = ServerConfig {
        host: args.host,
        port: args.port,
        ..ServerConfig::default()
    };
    run(AppState::new(server, ModelRegistry::catch_all(provider))).await
}

async fn run(state: AppState) -> anyhow::Result<()> {
    let addr = SocketAddr::new(state.server.host, state.server.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() && !state.server.allow_remote && !state.access.has_keys() {
        tracing::warn!(
            "listening on {local}, but only loopback clients are served (`server.allow_remote` is off)"
        );
    }
    // Scripts and tests read this line to find the port.
    println!("rill listening on http://{local}");
    let grace = Duration::from_secs(state.server.shutdown_grace_secs);
    let shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: no new connections, streams get the grace period"
        );
        shutdown.begin(grace);
        // Streams end at the grace deadline; this is the backstop if something hangs.
        tokio::time::sleep(grace + Duration::from_secs(5)).await;
        tracing::error!("shutdown did not finish in time; exiting");
        std::process::exit(1);
    });
    rill_server::serve(listener, state)
        .await
        .context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
