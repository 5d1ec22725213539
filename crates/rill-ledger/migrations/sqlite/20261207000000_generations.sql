-- One row per generation, however it ended.
CREATE TABLE generations (
    id TEXT PRIMARY KEY NOT NULL,
    started_at_ms INTEGER NOT NULL,
    day TEXT NOT NULL,
    key_name TEXT,
    dialect TEXT NOT NULL,
    model_requested TEXT NOT NULL,
    model_served TEXT,
    provider TEXT,
    attempts INTEGER NOT NULL,
    ttft_ms REAL,
    duration_ms REAL NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    input_estimated INTEGER NOT NULL,
    output_estimated INTEGER NOT NULL,
    cost_usd REAL,
    price TEXT,
    outcome TEXT NOT NULL,
    error_kind TEXT
);
CREATE INDEX generations_started ON generations (started_at_ms);
CREATE INDEX generations_key_started ON generations (key_name, started_at_ms);
