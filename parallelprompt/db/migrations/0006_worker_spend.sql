-- parallelprompt schema, version 6: each worker's spend, written as it happens (heartbeat and
-- every flush), so the budget counts every paid call, also those of a worker that crashed
-- before its results were written, and reads it in O(workers) instead of summing all results.
ALTER TABLE workers ADD COLUMN spent_usd REAL NOT NULL DEFAULT 0;

UPDATE workers SET spent_usd = coalesce(
    (SELECT sum(r.cost_usd) FROM results AS r
     WHERE r.worker_id = workers.id AND r.run_id = workers.run_id), 0);

CREATE INDEX workers_run ON workers (run_id);
