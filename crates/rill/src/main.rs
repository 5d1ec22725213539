//! The `rill` command: parses arguments and dispatches. Everything else lives in the
//! library crates.

mod chat;
mod cli;
mod key;
mod serve;
mod usage;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    // reqwest is built without a default TLS provider (aws-lc needs cmake); use ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::serve(args).await,
            Command::MockUpstream(args) => serve::mock_upstream(args).await,
            Command::Chat(args) => chat::chat(args).await,
            Command::Models(args) => chat::models(args).await,
            Command::Fetch => serve::fetch().await,
            Command::Key(command) => key::run(command),
            Command::Usage(args) => usage::usage(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(cli: &Cli) {
    let default = match cli.command {
        Command::Serve(_) | Command::MockUpstream(_) | Command::Fetch => "info",
        Command::Chat(_) | Command::Models(_) | Command::Key(_) | Command::Usage(_) => "warn",
    };
    // `RILL_LOG` first, then the ecosystem's `RUST_LOG`; the same filter syntax.
    let configured = ["RILL_LOG", "RUST_LOG"]
        .into_iter()
        .find_map(|name| Some((name, std::env::var(name).ok()?)));
    let filter = match configured {
        Some((name, directives)) => tracing_subscriber::EnvFilter::try_new(&directives)
            .unwrap_or_else(|error| {
                eprintln!(
                    "warning: `{name}` is not a valid log filter ({error}); using `{default}`"
                );
                tracing_subscriber::EnvFilter::new(default)
            }),
        None => tracing_subscriber::EnvFilter::new(default),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
