//! `[telemetry]`: where generation spans are exported.

use serde::{Deserialize, Serialize};

/// `[telemetry]` in the config.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// An OTLP/HTTP collector's base URL (`http://127.0.0.1:4318`): one span per
    /// generation goes to its `/v1/traces`, as JSON. Absent: no spans.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` the spans carry.
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "rill".into(),
        }
    }
}
