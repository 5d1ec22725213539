//! What a client can do with its connection, over real sockets: half-sent heads, idle
//! keep-alives, stalled or trickled bodies, oversized bodies announced with
//! `Expect: 100-continue`, too many connections; and that a stream still stays open for
//! as long as it streams. (Floods and descriptor counts run against the binary, in
//! `crates/rill/tests`, where the process's descriptors are the server's alone.)

use std::time::Duration;

use rill_server::{AppState, ModelRegistry, ServerConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::support::*;

fn limits(header: f64, idle: f64, body: f64) -> ServerConfig {
    ServerConfig {
        header_timeout_secs: header,
        idle_timeout_secs: idle,
        body_timeout_secs: body,
        body_min_bytes_per_sec: 100,
        max_body_bytes: 64 * 1024,
        ..ServerConfig::default()
    }
}

async fn serve(config: ServerConfig) -> Running {
    let models = vec![
        scripted("echo", text("hello there", 0.0)),
        // 20 tokens over two seconds.
        scripted("slow", text(&"tick ".repeat(20), 10.0)),
    ];
    spawn(AppState::new(config, ModelRegistry::new(models))).await
}

async fn connect(url: &str) -> TcpStream {
    TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent, and when it closed.
/// Panics if it is still open after `limit`.
async fn read_until_closed(socket: &mut TcpStream, limit: Duration) -> (String, Instant) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                return (String::from_utf8_lossy(&received).into(), Instant::now());
            }
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "still open after {limit:?}; received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
}

fn request(path: &str, content_length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {content_length}\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn a_half_sent_head_or_nothing_at_all_is_closed_after_the_header_timeout() {
    let server = serve(limits(0.5, 30.0, 30.0)).await;
    let mut silent = connect(&server.url).await;
    let mut half = connect(&server.url).await;
    let opened = Instant::now();
    half.write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0")
        .await
        .unwrap();
    let (_, closed) = read_until_closed(&mut half, Duration::from_secs(5)).await;
    assert!(
        closed - opened >= Duration::from_millis(450),
        "{:?}",
        closed - opened
    );
    let (sent, _) = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(sent.is_empty(), "{sent}");
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_once_idle_and_a_new_request_gets_the_header_timeout() {
    let server = serve(limits(0.4, 1.0, 30.0)).await;
    let mut socket = connect(&server.url).await;
    socket
        .write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = socket.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let answered = Instant::now();
    // Idle, not sending a head: the longer idle timeout applies, not the header one.
    let (_, closed) = read_until_closed(&mut socket, Duration::from_secs(5)).await;
    let idle = closed - answered;
    assert!(idle >= Duration::from_millis(900), "closed after {idle:?}");

    // On a kept-alive connection, the first byte of the next request starts the header
    // clock.
    let mut socket = connect(&server.url).await;
    socket
        .write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let n = socket.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    socket.write_all(b"GET /hea").await.unwrap();
    let started = Instant::now();
    let (sent, closed) = read_until_closed(&mut socket, Duration::from_secs(5)).await;
    assert!(sent.is_empty(), "{sent}");
    let waited = closed - started;
    assert!(waited < Duration::from_millis(900), "{waited:?}");
    assert!(waited >= Duration::from_millis(350), "{waited:?}");
}

#[tokio::test]
async fn a_body_that_stops_halfway_gets_408_in_the_dialect() {
    let server = serve(limits(5.0, 30.0, 0.5)).await;
    for (path, check) in [
        ("/v1/chat/completions", "invalid_request_error"),
        ("/v1/messages", "\"type\":\"error\""),
    ] {
        let mut socket = connect(&server.url).await;
        let head = request(path, 100, "");
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(b"{\"model\":").await.unwrap();
        let (sent, _) = read_until_closed(&mut socket, Duration::from_secs(5)).await;
        assert!(sent.starts_with("HTTP/1.1 408"), "{path}: {sent}");
        assert!(
            sent.contains(check) && sent.contains("too slowly"),
            "{path}: {sent}"
        );
    }
}

#[tokio::test]
async fn a_trickled_body_is_cut_off_at_the_minimum_rate() {
    let server = serve(limits(5.0, 30.0, 0.5)).await;
    let mut socket = connect(&server.url).await;
    socket
        .write_all(request("/v1/chat/completions", 1000, "").as_bytes())
        .await
        .unwrap();
    let started = Instant::now();
    // 20 bytes a second against a minimum of 100: the deadline (0.5 s plus 1 s per 100
    // bytes) comes at about 0.6 s.
    let writer = async {
        for _ in 0..100 {
            if socket.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(3), writer).await;
    let (sent, _) = read_until_closed(&mut socket, Duration::from_secs(5)).await;
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_oversized_body_announced_with_expect_continue_gets_413_not_100() {
    let server = serve(limits(5.0, 30.0, 5.0)).await;
    for path in [
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/responses",
        "/api/chat",
    ] {
        let mut socket = connect(&server.url).await;
        let head = request(path, 999_999_999, "expect: 100-continue\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
            .await
            .expect("no answer")
            .unwrap();
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(!answer.contains("100 Continue"), "{path}: {answer}");
    }
}

#[tokio::test]
async fn a_stream_stays_open_for_as_long_as_it_streams() {
    // Every connection timeout is far shorter than the two-second stream.
    let server = serve(limits(0.3, 0.3, 0.3)).await;
    let response = http()
        .post(format!("{}/v1/chat/completions", server.url))
        .json(&serde_json::json!({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let events = read_sse(response).await;
    let text: String = events
        .iter()
        .filter_map(|(_, data)| serde_json::from_str::<Value>(data).ok())
        .filter_map(|chunk| {
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "tick ".repeat(20));
    assert_eq!(events.last().unwrap().1, "[DONE]");
}

#[tokio::test]
async fn at_the_cap_an_idle_connection_makes_room_and_when_all_are_busy_a_new_one_gets_503() {
    let config = ServerConfig {
        max_connections: 3,
        ..limits(30.0, 30.0, 30.0)
    };
    let server = serve(config).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(connect(&server.url).await);
    }
    // A fourth client is served: the oldest idle connection was closed for it.
    let health = http()
        .get(format!("{}/health", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let (sent, _) = read_until_closed(&mut idle[0], Duration::from_secs(2)).await;
    assert!(sent.is_empty(), "{sent}");
    drop(idle);

    // Three streams fill every place with work; a new connection is refused at once.
    let body = serde_json::json!({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let mut streams = Vec::new();
    for _ in 0..3 {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{}/v1/chat/completions", server.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        streams.push(response);
    }
    let mut refused = connect(&server.url).await;
    let (sent, _) = read_until_closed(&mut refused, Duration::from_secs(1)).await;
    assert!(sent.starts_with("HTTP/1.1 503"), "{sent}");
    assert!(sent.contains("too_many_connections"), "{sent}");
    // The streams were not disturbed.
    for response in streams {
        assert_eq!(read_sse(response).await.last().unwrap().1, "[DONE]");
    }
    let metrics = http()
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("rill_connections_closed_total{reason=\"refused\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rill_connections_closed_total{reason=\"evicted\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_ipv4_client_of_a_dual_stack_socket_counts_as_loopback() {
    let Ok(listener) = tokio::net::TcpListener::bind("[::]:0").await else {
        // No IPv6 on this machine: nothing dual-stack to test.
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let state = AppState::new(
        ServerConfig::default(),
        ModelRegistry::new(vec![scripted("echo", text("hi", 0.0))]),
    );
    tokio::spawn(rill_server::serve(listener, state));
    let response = http()
        .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .json(
            &serde_json::json!({"model": "echo", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}
