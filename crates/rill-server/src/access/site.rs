//! Which web pages may reach a keyless rill.
//!
//! Without keys, rill serves whoever can connect from loopback, and a browser on the
//! same machine can connect on any page's behalf. Two checks keep pages elsewhere out:
//!
//! - **`Host`**: a page whose own name an attacker re-points at 127.0.0.1 (DNS
//!   rebinding) is same-origin with rill as far as the browser knows, so it could read
//!   answers; but its requests still carry its own name in `Host`. Only loopback names
//!   (`localhost`, `*.localhost`, which browsers resolve themselves), IP addresses (an
//!   address cannot be re-pointed) and `server.allowed_hosts` are answered.
//! - **`Origin`**: browsers send it with every cross-site POST, including the "simple"
//!   ones they send without asking first (a form, `text/plain`). A request from an origin
//!   other than rill's own or one of `server.cors_origins` is refused before it can
//!   spend anything.
//!
//! With keys configured neither applies: a page cannot send a key it does not have.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use rill_core::{Error, ErrorKind};

use crate::config::ServerConfig;

/// Whether a keyless server answers a request with these headers (see the module docs).
/// `check_origin` is false for the chat page's own files, which any page may load.
pub fn check(headers: &HeaderMap, config: &ServerConfig, check_origin: bool) -> Result<(), Error> {
    let host = headers
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
    if let Some(host) = &host
        && !host_allowed(host, &config.allowed_hosts)
    {
        return Err(Error::new(
            ErrorKind::Permission,
            format!(
                "rill does not answer to the host name `{}` without keys\nhint: add it to `server.allowed_hosts`, or configure `[[keys]]`",
                host.escape_default()
            ),
        )
        .with_code("host_not_allowed"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes());
    if !check_origin || origin_allowed(&origin, host.as_deref(), &config.cors_origins) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Permission,
        format!(
            "requests from pages at `{}` are not allowed\nhint: list the page's origin in `server.cors_origins`",
            origin.escape_default()
        ),
    )
    .with_code("origin_not_allowed"))
}

/// The host part of a `Host` value (`name`, `name:port`, `[v6]:port`), lowercased and
/// without a trailing dot.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok()
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(&name))
}

fn origin_allowed(origin: &str, host: Option<&str>, cors_origins: &[String]) -> bool {
    if cors_origins
        .iter()
        .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    // Same origin: the page was served by this very host (rill's own chat page).
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn hosts() {
        let allowed = vec!["rill.internal".to_owned()];
        for ok in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.:8080",
            "app.localhost:3000",
            "127.0.0.1:8080",
            "[::1]:8080",
            "10.1.2.3",
            "rill.internal:8080",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "rebind.attacker.example",
            "rebind.attacker.example:8080",
            "localhost.attacker.example",
            "rill.internal.evil",
            "",
        ] {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
    }

    #[test]
    fn origins() {
        let config = ServerConfig {
            cors_origins: vec!["http://localhost:3000".into()],
            ..ServerConfig::default()
        };
        let ok = |pairs: &[(&'static str, &str)]| check(&headers(pairs), &config, true).is_ok();
        assert!(ok(&[("host", "127.0.0.1:8080")]), "no origin");
        assert!(ok(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ]));
        assert!(ok(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://localhost:3000")
        ]));
        assert!(!ok(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ]));
        assert!(!ok(&[("host", "127.0.0.1:8080"), ("origin", "null")]));
        assert!(!ok(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:9999")
        ]));
        let error = check(
            &headers(&[("host", "rebind.attacker.example:8080")]),
            &config,
            true,
        )
        .unwrap_err();
        assert_eq!(error.status_code(), 403);
        assert!(error.message.contains("allowed_hosts"), "{}", error.message);
    }
}
