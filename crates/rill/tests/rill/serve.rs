//! `rill serve` as its own process, under connection floods: the server's descriptors
//! are the process's own, so a leak shows in `/proc/<pid>/fd`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `rill serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// `rill serve` with this config (a scripted model; no engine) and environment.
    fn start(config: &str, env: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "rill-serve-test-{}-{}",
            std::process::id(),
            fastrand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rill.toml");
        let config = format!("{config}\n[[models]]\nname = \"echo\"\nprovider = \"scripted\"\n");
        std::fs::write(&path, config).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_rill"));
        command
            .args(["serve", "--port", "0", "--config"])
            .arg(&path)
            .env_remove("RILL_LOG")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("rill listening on http://")
            .unwrap_or_else(|| panic!("{line}"))
            .parse()
            .unwrap();
        Self {
            child,
            addr,
            stderr,
        }
    }

    /// Descriptors the server process has open.
    fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    /// Waits until the server holds at most `limit` descriptors; how many it holds.
    fn settle_descriptors(&self, limit: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.descriptors();
            if now <= limit || Instant::now() > deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET /health` on a new connection: the status line and how long it took.
    fn health(&self) -> (String, Duration) {
        let started = Instant::now();
        let mut socket = TcpStream::connect(self.addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        socket
            .write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = socket.read_to_string(&mut answer);
        let status = answer.lines().next().unwrap_or_default().to_owned();
        (status, started.elapsed())
    }

    /// Probes `/health` ten times while something else goes on; every probe must be
    /// answered, and the median within 100 ms.
    fn assert_health_answers(&self, during: &str) {
        let mut times = Vec::new();
        for _ in 0..10 {
            let (status, took) = self.health();
            assert_eq!(status, "HTTP/1.1 200 OK", "{during}");
            times.push(took);
            std::thread::sleep(Duration::from_millis(30));
        }
        times.sort();
        let median = times[times.len() / 2];
        assert!(
            median < Duration::from_millis(100),
            "{during}: /health took {times:?}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Whether the server has closed `socket` (reads end or fail), waiting up to `limit`.
fn closed_by_server(mut socket: &TcpStream, limit: Duration) -> bool {
    socket.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error) => {
                return !matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

#[test]
fn hundreds_of_slow_heads_neither_starve_the_server_nor_leak_descriptors() {
    let server = Server::start(
        "[server]\nheader_timeout_secs = 1.0\nidle_timeout_secs = 1.0\nmax_connections = 1000",
        &[],
    );
    server.health();
    let baseline = server.settle_descriptors(usize::MAX);
    let opened = Instant::now();
    let slow: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut socket = TcpStream::connect(server.addr).unwrap();
            socket.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
            socket
        })
        .collect();
    // One more header line to each every 100 ms, never the blank line that ends a head.
    let drip: Vec<TcpStream> = slow.iter().map(|s| s.try_clone().unwrap()).collect();
    let dripping = std::thread::spawn(move || {
        for _ in 0..15 {
            for mut socket in &drip {
                let _ = socket.write_all(b"x-slow: 1\r\n");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    server.assert_health_answers("300 slow heads");
    // Each was closed once its header timeout passed, however it kept sending.
    for socket in &slow {
        assert!(closed_by_server(socket, Duration::from_secs(5)));
    }
    assert!(opened.elapsed() < Duration::from_secs(8));
    dripping.join().unwrap();
    drop(slow);
    let after = server.settle_descriptors(baseline);
    assert!(after <= baseline, "{after} descriptors, {baseline} before");
}

#[test]
fn a_flood_past_the_connection_cap_is_shed_and_health_keeps_answering() {
    let server = Server::start(
        "[server]\nheader_timeout_secs = 30.0\nidle_timeout_secs = 30.0\nmax_connections = 64",
        &[],
    );
    server.health();
    let baseline = server.settle_descriptors(usize::MAX);
    let flood: Vec<TcpStream> = (0..500)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    server.assert_health_answers("500 idle connections against a cap of 64");
    // The server holds at most its cap (plus what shedding has not closed yet).
    let held = server.settle_descriptors(baseline + 64);
    assert!(
        held <= baseline + 64,
        "{held} descriptors, {baseline} before"
    );
    // The oldest were closed to make room, at once; the newest are kept.
    let closed = flood
        .iter()
        .filter(|socket| closed_by_server(socket, Duration::from_millis(20)))
        .count();
    assert!(closed >= 500 - 64, "only {closed} of 500 were shed");
    drop(flood);
    let after = server.settle_descriptors(baseline);
    assert!(after <= baseline, "{after} descriptors, {baseline} before");
}

#[test]
fn rust_log_is_read_when_rill_log_is_not_set() {
    let debug = "started processing request";
    let server = Server::start("", &[("RUST_LOG", "tower_http=debug")]);
    server.health();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        server.stderr.lock().unwrap().contains(debug),
        "RUST_LOG was ignored"
    );
    drop(server);
    // `RILL_LOG` wins when both are set.
    let server = Server::start(
        "",
        &[("RUST_LOG", "tower_http=debug"), ("RILL_LOG", "warn")],
    );
    server.health();
    std::thread::sleep(Duration::from_millis(200));
    assert!(!server.stderr.lock().unwrap().contains(debug));
}

/// A non-streaming chat request to `model`, on a connection of its own: the status line.
fn chat(addr: SocketAddr, model: &str) -> String {
    let body = format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#);
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        socket,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = socket.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

fn usage(args: &[&str], data_dir: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rill"))
        .arg("usage")
        .args(args)
        .env("RILL_DATA_DIR", data_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn the_ledger_is_kept_with_no_setup_and_rill_usage_reads_it() {
    let data_dir = std::env::temp_dir().join(format!(
        "rill-usage-test-{}-{}",
        std::process::id(),
        fastrand_suffix()
    ));
    let dir = data_dir.to_str().unwrap();
    let server = Server::start("", &[("RILL_DATA_DIR", dir)]);
    for _ in 0..3 {
        assert_eq!(chat(server.addr, "echo"), "HTTP/1.1 200 OK");
    }
    // From the running server...
    let url = format!("http://{}", server.addr);
    let table = usage(&["--url", &url, "--group-by", "model"], &data_dir);
    let row = table
        .lines()
        .find(|l| l.starts_with("echo"))
        .unwrap_or_else(|| panic!("{table}"));
    assert_eq!(row.split_whitespace().nth(1), Some("3"), "{table}");
    // ... and straight from the file it keeps in its data directory.
    assert!(data_dir.join("ledger.sqlite").exists());
    let json = usage(&["--local", "--group-by", "model", "--json"], &data_dir);
    let groups: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(groups[0]["group"], "echo", "{json}");
    assert_eq!(groups[0]["requests"], 3, "{json}");
    // One log line per generation, naming no key and no content.
    let log = server.stderr.lock().unwrap().clone();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(" generation ")).collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(
        lines[0].contains("outcome=\"stop\"") || lines[0].contains("outcome=stop"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("hi\""), "{}", lines[0]);
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// What the model `quick` says, 20 words a second.
pub(crate) const QUICK: &str =
    "q0 q1 q2 q3 q4 q5 q6 q7 q8 q9 q10 q11 q12 q13 q14 q15 q16 q17 q18 q19 ";

/// Two `rill serve` processes sharing one Redis (started by `scripts/test`), each with a
/// model `slow` that says 60 words at 10 a second, and [`QUICK`].
pub(crate) fn pair(lease_secs: u64) -> (Server, Server) {
    let url = std::env::var("RILL_TEST_REDIS_URL")
        .expect("RILL_TEST_REDIS_URL: run ./scripts/test, which starts redis-server");
    let words: String = (0..60).map(|n| format!("w{n} ")).collect();
    let config = format!(
        "[cluster]\nredis_url = \"{url}\"\nkey_prefix = \"rill-test-{}\"\nlease_secs = {lease_secs}\n\
         [[models]]\nname = \"slow\"\nprovider = \"scripted\"\n\
         script = {{ text = \"{words}\", tokens_per_second = 10.0 }}\n\
         [[models]]\nname = \"quick\"\nprovider = \"scripted\"\n\
         script = {{ text = \"{QUICK}\", tokens_per_second = 20.0 }}\n",
        fastrand_suffix()
    );
    (Server::start(&config, &[]), Server::start(&config, &[]))
}

/// Reads SSE frames (last event id, data) from `socket` into `frames` until `enough`
/// says so or the body ends.
fn read_frames(
    reader: &mut BufReader<TcpStream>,
    frames: &mut Vec<(String, String)>,
    mut enough: impl FnMut(&[(String, String)]) -> bool,
) {
    let (mut id, mut data) = (String::new(), String::new());
    let mut line = String::new();
    while !enough(frames) {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        // Chunked transfer: the size lines are not SSE lines, and no SSE line of these
        // streams is made of hex digits alone.
        let text = line.trim_end_matches(['\r', '\n']);
        if let Some(value) = text.strip_prefix("id: ") {
            id = value.to_owned();
        } else if let Some(value) = text.strip_prefix("data: ") {
            data = value.to_owned();
        } else if text.is_empty() && !data.is_empty() {
            frames.push((id.clone(), std::mem::take(&mut data)));
        }
    }
}

/// Sends `head` and `body` on a new connection; returns the reader past the headers.
fn request(addr: SocketAddr, head: &str, body: &str) -> BufReader<TcpStream> {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        socket,
        "{head}\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(socket);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    while line != "\r\n" {
        line.clear();
        reader.read_line(&mut line).unwrap();
    }
    reader
}

#[test]
fn readers_elsewhere_of_a_killed_instance_get_every_logged_frame_then_an_error_within_the_lease() {
    let lease = 2;
    let (mut owner, other) = pair(lease);
    let body = r#"{"model":"slow","stream":true,"messages":[{"role":"user","content":"talk"}]}"#;
    let mut client = request(owner.addr, "POST /v1/chat/completions HTTP/1.1", body);
    let mut seen = Vec::new();
    read_frames(&mut client, &mut seen, |frames| frames.len() >= 5);
    let id = serde_json::from_str::<serde_json::Value>(&seen[0].1).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A reader on the other instance follows the stream live.
    let mut follower = request(other.addr, &format!("GET /v1/streams/{id} HTTP/1.1"), "");
    let mut followed = Vec::new();
    read_frames(&mut follower, &mut followed, |frames| frames.len() >= 8);
    // Everything the owner's client had by then was logged.
    read_frames(&mut client, &mut seen, |frames| frames.len() >= 10);
    std::thread::sleep(Duration::from_millis(100));
    owner.child.kill().unwrap(); // SIGKILL: no goodbye.
    let killed = Instant::now();
    owner.child.wait().unwrap();
    read_frames(&mut follower, &mut followed, |frames| {
        frames
            .last()
            .is_some_and(|(_, data)| data.contains("\"error\""))
    });
    let took = killed.elapsed();
    let (last, before) = followed.split_last().expect("frames");
    assert!(last.1.contains("stopped"), "{}", last.1);
    assert!(
        took <= Duration::from_secs(lease) + Duration::from_millis(500),
        "the error came {took:?} after the kill"
    );
    // Every frame the owner sent before it died, in order, with the same numbers.
    assert!(
        before.len() >= seen.len(),
        "{} < {}",
        before.len(),
        seen.len()
    );
    assert_eq!(&before[..seen.len()], &seen[..]);
    assert!(followed.iter().all(|(_, data)| data != "[DONE]"));
}
