-- Named queries of the work table. `-- name: NAME` starts a query; :params are named.

-- name: create_stage
-- Enqueue stages a batch in a temp table, then moves it with two set-based statements: about
-- twice as fast as row-by-row inserts with a lookup per source row. Source and split are the
-- same for a whole batch, so they are bound once per statement instead of per row.
CREATE TEMP TABLE IF NOT EXISTS stage (
    text_hash BLOB, prompt TEXT, chars INTEGER, flags INTEGER, row_index INTEGER,
    conversation_id TEXT, language TEXT, model TEXT, toxic INTEGER, redacted INTEGER
);

-- name: stage_row
INSERT INTO temp.stage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: enqueue_work
INSERT INTO work (text_hash, prompt, chars, flags, created_at, updated_at)
SELECT text_hash, prompt, chars, flags, :now, :now FROM temp.stage WHERE true
ON CONFLICT (text_hash) DO NOTHING;

-- name: count_enqueued
-- the running totals (work_counts) gain the prompts the enqueue just inserted as 'ready'
UPDATE work_counts SET n = n + :n WHERE status = 'ready';

-- name: enqueue_sources
INSERT INTO sources (work_id, source, split, row_index, conversation_id, language, model,
                     toxic, redacted, ingest_id)
SELECT w.id, :source, :split, s.row_index, s.conversation_id, s.language, s.model,
       s.toxic, s.redacted, :ingest_id
FROM temp.stage AS s JOIN work AS w ON w.text_hash = s.text_hash WHERE true
ON CONFLICT (source, split, row_index) DO NOTHING;

-- name: clear_stage
DELETE FROM temp.stage;

-- name: claim
-- Expired leases first (they are the oldest work), then leases of dead workers, then ready rows
-- in id order; one statement, inside BEGIN IMMEDIATE, so no two claimers can ever receive the
-- same row. A worker is dead when it stopped, or when its heartbeat is :stale_s older than the
-- freshest heartbeat (not than now: when the whole fleet waited on a write lock, every
-- heartbeat is old and nobody is dead). UNION (not ALL): an expired lease of a dead worker
-- appears in both sets.
UPDATE work
SET status = 'leased', lease_owner = :owner, lease_expires_at = :expires,
    attempts = attempts + 1, updated_at = :now
WHERE id IN (
    SELECT id FROM (SELECT id FROM work
                    WHERE status = 'leased' AND lease_expires_at < :now LIMIT :n)
    UNION
    SELECT id FROM (SELECT w.id FROM work AS w JOIN workers AS k ON k.id = w.lease_owner
                    WHERE w.status = 'leased' AND w.lease_owner <> :owner
                      AND (k.stopped_at IS NOT NULL
                           OR k.heartbeat_at < (SELECT max(heartbeat_at) FROM workers)
                                               - :stale_s)
                    LIMIT :n)
    UNION
    SELECT id FROM (SELECT id FROM work
                    WHERE status = 'ready' AND available_at <= :now ORDER BY id LIMIT :n)
    LIMIT :n
)
RETURNING id, prompt, attempts, lease_expires_at;

-- name: extend
UPDATE work SET lease_expires_at = :expires, updated_at = :now
WHERE id = :id AND status = 'leased' AND lease_owner = :owner;

-- name: mark_done
UPDATE work SET status = 'done', lease_owner = NULL, lease_expires_at = NULL,
    last_error = NULL, updated_at = :now
WHERE id = :id AND status = 'leased' AND lease_owner = :owner;

-- name: mark_dead
UPDATE work SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL,
    last_error = :error, updated_at = :now
WHERE id = :id AND status = 'leased' AND lease_owner = :owner;

-- name: retry_later
UPDATE work SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL,
    available_at = :available_at, last_error = :error, updated_at = :now
WHERE id = :id AND status = 'leased' AND lease_owner = :owner;

-- name: release
-- Shutdown: give the row back without charging the attempt.
UPDATE work SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL,
    attempts = max(attempts - 1, 0), updated_at = :now
WHERE id = :id AND status = 'leased' AND lease_owner = :owner;

-- name: release_owner
UPDATE work SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL,
    attempts = max(attempts - 1, 0), updated_at = :now
WHERE status = 'leased' AND lease_owner = :owner;

-- name: release_dead
-- Shutdown: the leases of workers that died (stopped, or a heartbeat :stale_s older than the
-- freshest, as in claim) go back to ready, so that nothing stays leased when every worker has
-- stopped (after a budget stop, say). The attempt stays charged: the dead worker may have
-- called the model, and a claim of its lease would have charged it too.
UPDATE work SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE status = 'leased' AND lease_owner <> :owner
  AND lease_owner IN (SELECT id FROM workers
                      WHERE stopped_at IS NOT NULL
                         OR heartbeat_at < (SELECT max(heartbeat_at) FROM workers) - :stale_s);

-- name: insert_result
INSERT INTO results (work_id, run_id, worker_id, model_id, raw_text, stop_reason,
                     input_tokens, output_tokens, cost_usd, latency_ms, attempts,
                     error_code, error_message, created_at, cache_read_tokens,
                     cache_write_tokens)
VALUES (:work_id, :run_id, :worker_id, :model_id, :raw_text, :stop_reason,
        :input_tokens, :output_tokens, :cost_usd, :latency_ms, :attempts,
        :error_code, :error_message, :now, :cache_read_tokens, :cache_write_tokens)
ON CONFLICT (work_id, run_id) DO NOTHING
RETURNING id;

-- name: upsert_verdict
INSERT INTO verdicts (result_id, profile, contract_version, outcome, reason, tier_label,
                      validation_passed, parallelizable, category, is_novel_category,
                      category_description, serial, template, context, data_json, n,
                      repairs_json, created_at, serial_at, serial_to, template_at,
                      template_to, context_at, context_to)
VALUES (:result_id, :profile, :contract_version, :outcome, :reason, :tier_label,
        :validation_passed, :parallelizable, :category, :is_novel_category,
        :category_description, :serial, :template, :context, :data_json, :n,
        :repairs_json, :now, :serial_at, :serial_to, :template_at, :template_to,
        :context_at, :context_to)
ON CONFLICT (result_id, profile) DO UPDATE SET
    contract_version = excluded.contract_version, outcome = excluded.outcome,
    reason = excluded.reason, tier_label = excluded.tier_label,
    validation_passed = excluded.validation_passed, parallelizable = excluded.parallelizable,
    category = excluded.category, is_novel_category = excluded.is_novel_category,
    category_description = excluded.category_description, serial = excluded.serial,
    template = excluded.template, context = excluded.context, data_json = excluded.data_json,
    n = excluded.n, repairs_json = excluded.repairs_json, created_at = excluded.created_at,
    serial_at = excluded.serial_at, serial_to = excluded.serial_to,
    template_at = excluded.template_at, template_to = excluded.template_to,
    context_at = excluded.context_at, context_to = excluded.context_to;

-- name: work_prompt
SELECT prompt FROM work WHERE id = :id;

-- name: counts
SELECT status, count(*) FROM work GROUP BY status;

-- The same from the running totals (migration NNNN_work_counts): constant time at any table size.
-- name: running_counts
SELECT status, n FROM work_counts;

-- name: begin_ingest
INSERT INTO ingests (source, split, layout, inputs, started_at)
VALUES (:source, :split, :layout, :inputs, :now)
RETURNING id;

-- name: finish_ingest
UPDATE ingests SET finished_at = :now, rows_read = :rows_read, kept = :kept,
    new_prompts = :new_prompts, new_sources = :new_sources, skipped_json = :skipped_json
WHERE id = :id;

-- name: insert_run
INSERT INTO runs (created_at, model_id, api, contract_version, rules, backend, config_json)
VALUES (:now, :model_id, :api, :contract_version, :rules, :backend, :config_json)
RETURNING id;

-- name: latest_run
SELECT id, created_at, model_id, api, contract_version, rules, backend, config_json
FROM runs ORDER BY id DESC LIMIT 1;

-- name: run_by_id
SELECT id, created_at, model_id, api, contract_version, rules, backend, config_json
FROM runs WHERE id = :id;

-- name: run_result_count
SELECT count(*) FROM results WHERE run_id = :run_id;

-- name: reopen_for_run
-- A new run re-classifies every prompt: finished rows go back to the ready set.
UPDATE work SET status = 'ready', attempts = 0, available_at = 0, last_error = NULL,
    updated_at = :now
WHERE status IN ('done', 'dead');

-- name: register_worker
INSERT INTO workers (id, run_id, host, pid, concurrency, started_at, heartbeat_at)
VALUES (:id, :run_id, :host, :pid, :concurrency, :now, :now)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = :now, stopped_at = NULL, run_id = :run_id;

-- name: heartbeat
UPDATE workers SET heartbeat_at = :now, spent_usd = coalesce(:spent, spent_usd) WHERE id = :id;

-- name: stop_worker
UPDATE workers SET stopped_at = :now, heartbeat_at = :now,
    spent_usd = coalesce(:spent, spent_usd)
WHERE id = :id;

-- name: live_workers
SELECT count(*), coalesce(sum(concurrency), 0) FROM workers
WHERE stopped_at IS NULL AND heartbeat_at >= :since;

-- ---- added by worker/ (issue 5) -------------------------------------------------------------

-- name: run_cost
-- The money a run has spent so far (all workers, each as of its last heartbeat): the budget
-- stop counts it. One row per worker process, not per result.
SELECT coalesce(sum(spent_usd), 0.0) FROM workers WHERE run_id = :run_id;

-- name: leased_by_others
-- What a worker with nothing to claim waits on: other workers' leases, and when the last ends.
SELECT count(*), max(lease_expires_at) FROM work
WHERE status = 'leased' AND lease_owner <> :owner;

-- name: recorded_sources
-- The prompts already recorded for a source's row indices in a range (one batch's): an ingest
-- does not store a row whose index is recorded for a different prompt.
SELECT s.row_index, w.text_hash FROM sources AS s JOIN work AS w ON w.id = s.work_id
WHERE s.source = :source AND s.split = :split AND s.row_index BETWEEN :first AND :last;

-- name: result_count
SELECT count(*) FROM results;

-- name: running_workers
SELECT count(*) FROM workers WHERE stopped_at IS NULL;

-- name: pending_workload
SELECT count(*), coalesce(sum(chars), 0) FROM work WHERE status IN ('ready', 'leased');

-- name: answered_usage
-- Answered calls (dead letters excluded), for the spending guard's estimate; :model NULL = any.
SELECT count(*),
       coalesce(sum(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens), 0),
       coalesce(sum(r.output_tokens), 0), coalesce(sum(w.chars), 0)
FROM results AS r
JOIN work AS w ON w.id = r.work_id
WHERE r.raw_text IS NOT NULL AND r.input_tokens + r.cache_read_tokens + r.cache_write_tokens > 0
  AND (:model IS NULL OR r.model_id = :model);
