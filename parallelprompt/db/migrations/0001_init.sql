-- parallelprompt schema, version 1. Never edit a released migration: add 0002_*.sql instead.

-- One row per unique prompt (the dedup unit) and its place in the lease protocol.
CREATE TABLE work (
    id               INTEGER PRIMARY KEY,
    text_hash        BLOB    NOT NULL UNIQUE,        -- hash of the normalised prompt text
    prompt           TEXT    NOT NULL,               -- the first user turn, stripped
    chars            INTEGER NOT NULL,
    flags            INTEGER NOT NULL DEFAULT 0,     -- bit 0: oversized
    status           TEXT    NOT NULL DEFAULT 'ready'
                     CHECK (status IN ('ready', 'leased', 'done', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,     -- claims charged so far
    available_at     REAL    NOT NULL DEFAULT 0,     -- unix seconds; retry backoff
    lease_owner      TEXT,
    lease_expires_at REAL,
    last_error       TEXT,
    created_at       REAL    NOT NULL,
    updated_at       REAL    NOT NULL
);
-- The claimable sets, kept small: ready rows in id order, and leases by expiry.
CREATE INDEX work_ready  ON work (id, available_at) WHERE status = 'ready';
CREATE INDEX work_leased ON work (lease_expires_at)  WHERE status = 'leased';

-- One row per ingest (a producer invocation) with its counts.
CREATE TABLE ingests (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    split        TEXT NOT NULL,
    layout       TEXT NOT NULL,
    inputs       TEXT NOT NULL,          -- JSON list: dataset id or files
    started_at   REAL NOT NULL,
    finished_at  REAL,
    rows_read    INTEGER NOT NULL DEFAULT 0,
    kept         INTEGER NOT NULL DEFAULT 0,
    new_prompts  INTEGER NOT NULL DEFAULT 0,
    new_sources  INTEGER NOT NULL DEFAULT 0,
    skipped_json TEXT    NOT NULL DEFAULT '{}'   -- {reason: count}
);

-- Provenance: every kept source row, pointing to its unique prompt.
CREATE TABLE sources (
    id              INTEGER PRIMARY KEY,
    work_id         INTEGER NOT NULL REFERENCES work (id),
    source          TEXT    NOT NULL,    -- dataset name, e.g. lmsys/lmsys-chat-1m
    split           TEXT    NOT NULL,
    row_index       INTEGER NOT NULL,    -- position in the dataset split
    conversation_id TEXT,
    language        TEXT,
    model           TEXT,
    toxic           INTEGER,
    redacted        INTEGER,
    ingest_id       INTEGER REFERENCES ingests (id),
    UNIQUE (source, split, row_index)
);
CREATE INDEX sources_work ON sources (work_id);

-- A run: one configuration (model, API, contract version, rule profile) applied to the queue.
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    created_at       REAL NOT NULL,
    model_id         TEXT NOT NULL,
    api              TEXT NOT NULL,
    contract_version TEXT NOT NULL,
    rules            TEXT NOT NULL,
    backend          TEXT NOT NULL,      -- 'bedrock' or 'emulator' (heuristic answers)
    config_json      TEXT NOT NULL       -- settings without credentials
);

-- Live worker processes: the fleet-shared limiter divides the quota by the live count.
CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    run_id       INTEGER REFERENCES runs (id),
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    concurrency  INTEGER NOT NULL,
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    stopped_at   REAL
);

-- One row per unique prompt per run: the model's raw answer (or the transport error).
CREATE TABLE results (
    id            INTEGER PRIMARY KEY,
    work_id       INTEGER NOT NULL REFERENCES work (id),
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    worker_id     TEXT,
    model_id      TEXT    NOT NULL,
    raw_text      TEXT,                -- NULL when no answer came back (dead)
    stop_reason   TEXT,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL    NOT NULL DEFAULT 0,
    latency_ms    REAL,
    attempts      INTEGER NOT NULL,
    error_code    TEXT,                -- dead letters: last error class
    error_message TEXT,
    created_at    REAL    NOT NULL,
    UNIQUE (work_id, run_id)
);
CREATE INDEX results_run ON results (run_id, created_at);

-- The judgement of a result under a rule profile; revalidation adds rows for other profiles.
CREATE TABLE verdicts (
    result_id            INTEGER NOT NULL REFERENCES results (id),
    profile              TEXT    NOT NULL,
    contract_version     TEXT    NOT NULL,
    outcome              TEXT    NOT NULL CHECK (outcome IN ('high_confidence',
                         'medium_confidence', 'not_parallelizable', 'failed', 'unparseable',
                         'dead')),
    reason               TEXT,
    tier_label           TEXT,
    validation_passed    INTEGER NOT NULL,
    parallelizable       INTEGER,
    category             TEXT,
    is_novel_category    INTEGER,
    category_description TEXT,
    serial               TEXT,
    template             TEXT,
    context              TEXT,
    data_json            TEXT,
    n                    INTEGER,
    created_at           REAL    NOT NULL,
    PRIMARY KEY (result_id, profile)
) WITHOUT ROWID;
CREATE INDEX verdicts_outcome ON verdicts (profile, outcome);
