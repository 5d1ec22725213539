//! The floor for `bench/run gateway`: a TCP relay that forwards bytes between each client
//! connection and its own connection to one upstream, parsing nothing. Any HTTP gateway
//! does at least what this does per chunk (one read from the upstream, one write to the
//! client, the kernel's loopback work behind them), so its CPU time per chunk is the least
//! a gateway on this machine can spend; `bench/gateway.py` runs it as path `tcp-relay`.
//!
//! ```console
//! $ cargo run --release -p rill --example tcp_relay -- --upstream 127.0.0.1:9000
//! listening on http://127.0.0.1:40123
//! ```
//!
//! Same runtime as `rill serve` (tokio, multi-threaded, one worker per allowed core) and the
//! same socket options (`TCP_NODELAY` both ways).

use std::net::SocketAddr;

use clap::Parser;
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Parser)]
struct Args {
    /// Where to forward every connection, e.g. 127.0.0.1:9000.
    #[arg(long)]
    upstream: SocketAddr,
    /// Port to listen on (loopback); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (mut client, _) = listener.accept().await?;
        let upstream = args.upstream;
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            if client.set_nodelay(true).is_err() || server.set_nodelay(true).is_err() {
                return;
            }
            // Ends when either side closes; errors only mean the peer went away.
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
    }
}
