-- One row per generation, however it ended.
CREATE TABLE generations (
    id TEXT PRIMARY KEY NOT NULL,
    started_at_ms BIGINT NOT NULL,
    day TEXT NOT NULL,
    key_name TEXT,
    dialect TEXT NOT NULL,
    model_requested TEXT NOT NULL,
    model_served TEXT,
    provider TEXT,
    attempts BIGINT NOT NULL,
    ttft_ms DOUBLE PRECISION,
    duration_ms DOUBLE PRECISION NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cached_input_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    input_estimated BOOLEAN NOT NULL,
    output_estimated BOOLEAN NOT NULL,
    cost_usd DOUBLE PRECISION,
    price TEXT,
    outcome TEXT NOT NULL,
    error_kind TEXT
);
CREATE INDEX generations_started ON generations (started_at_ms);
CREATE INDEX generations_key_started ON generations (key_name, started_at_ms);
