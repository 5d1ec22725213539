//! The documented setup of several instances: `deploy/cluster/nginx.conf` (Debian's
//! nginx, installed by `scripts/test`) in front of two `rill serve` processes sharing one
//! Redis.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::serve::{QUICK, pair};

/// nginx run with the repository's config, its instances and port put in; stopped when
/// dropped.
struct Nginx {
    child: Child,
    url: String,
    /// Its config, pid file and temporary directories.
    prefix: PathBuf,
}

impl Nginx {
    fn start(instances: [SocketAddr; 2]) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/cluster");
        let config = std::fs::read_to_string(root.join("nginx.conf")).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let replaced = [
            (
                "listen 127.0.0.1:8080;",
                format!("listen 127.0.0.1:{port};"),
            ),
            (
                "server 127.0.0.1:8081 ",
                format!("server {} ", instances[0]),
            ),
            (
                "server 127.0.0.1:8082 ",
                format!("server {} ", instances[1]),
            ),
        ];
        let mut config = config;
        for (from, to) in replaced {
            assert!(
                config.contains(from),
                "deploy/cluster/nginx.conf has no `{from}`"
            );
            config = config.replace(from, &to);
        }
        let prefix =
            std::env::temp_dir().join(format!("rill-nginx-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&prefix).unwrap();
        std::fs::write(prefix.join("nginx.conf"), config).unwrap();
        let nginx = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|path| Command::new(path).arg("-v").output().is_ok())
            .expect("nginx: run ./scripts/test, which installs Debian's");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(&prefix)
            .args(["-c", "nginx.conf"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            prefix,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}

/// A stream's frames as (event id, data), read to the end of the body or until `enough`.
async fn frames(
    response: reqwest::Response,
    enough: impl Fn(&[(u64, String)]) -> bool,
) -> Vec<(u64, String)> {
    let status = response.status();
    if status != 200 {
        panic!("{status}: {}", response.text().await.unwrap_or_default());
    }
    let mut decoder = rill_sse::Decoder::new();
    let mut body = response.bytes_stream();
    let mut out = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), body.next())
        .await
        .expect("no frame within 30 s")
    {
        for event in decoder.feed(&chunk.unwrap()).unwrap() {
            out.push((event.last_event_id.parse().unwrap(), event.data));
        }
        if enough(&out) {
            break;
        }
    }
    out
}

fn text(frames: &[(u64, String)]) -> String {
    frames
        .iter()
        .filter(|(_, data)| data != "[DONE]")
        .filter_map(|(_, data)| {
            let chunk: Value = serde_json::from_str(data).unwrap();
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

fn ask(client: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
    client
        .post(format!("{url}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(
            json!({"model": "quick", "stream": true,
                   "messages": [{"role": "user", "content": "count"}]})
            .to_string(),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_streams_through_nginx_over_two_instances_are_exact_and_resume_anywhere() {
    // Two instances, nginx, Redis and 2,000 clients on two cores: Redis may wait seconds
    // for a core during the ramp, and with a 3 s lease the instances would rightly refuse
    // new generations meanwhile. A lease above those pauses, as README advises.
    let (a, b) = pair(10);
    let nginx = Nginx::start([a.addr, b.addr]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let streams: Vec<_> = (0..2000)
        .map(|_| {
            let request = ask(&client, &nginx.url);
            tokio::spawn(async move { frames(request.send().await.unwrap(), |_| false).await })
        })
        .collect();
    let mut exact = 0;
    for stream in streams {
        let frames = stream.await.unwrap();
        let ids: Vec<u64> = frames.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, (0..frames.len() as u64).collect::<Vec<_>>());
        assert_eq!(text(&frames), QUICK);
        assert_eq!(frames.last().unwrap().1, "[DONE]");
        exact += 1;
    }
    assert_eq!(exact, 2000);
    // A client that loses its connection resumes through nginx, on whichever instance it
    // lands (nginx takes turns): exactly the frames it had not had.
    for _ in 0..4 {
        let request = ask(&client, &nginx.url).header("x-rill-resumable", "1");
        let first = frames(request.send().await.unwrap(), |frames| frames.len() >= 5).await;
        let id = serde_json::from_str::<Value>(&first[0].1).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let rest = client
            .get(format!("{}/v1/streams/{id}", nginx.url))
            .header("last-event-id", first.last().unwrap().0.to_string())
            .send()
            .await
            .unwrap();
        let rest = frames(rest, |_| false).await;
        let whole: Vec<(u64, String)> = first.into_iter().chain(rest).collect();
        let ids: Vec<u64> = whole.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, (0..whole.len() as u64).collect::<Vec<_>>());
        assert_eq!(text(&whole), QUICK);
    }
}
