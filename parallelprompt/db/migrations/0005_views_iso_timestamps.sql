-- parallelprompt schema, views with readable timestamps: the views' time columns are ISO 8601
-- text in UTC (e.g. 2026-11-29T20:30:00.123Z) instead of unix seconds; the seconds stay
-- available beside them as *_unix for arithmetic. Tables keep unix seconds.

DROP VIEW IF EXISTS novel_categories;
DROP VIEW IF EXISTS current_verdicts;
DROP VIEW IF EXISTS current_run;

CREATE VIEW current_run AS
SELECT id AS run_id, rules AS profile, model_id, api, backend, contract_version,
       strftime('%Y-%m-%dT%H:%M:%fZ', created_at, 'unixepoch') AS created_at,
       created_at AS created_at_unix
FROM runs
ORDER BY id DESC
LIMIT 1;

CREATE VIEW current_verdicts AS
SELECT r.run_id, v.profile, r.id AS result_id, r.work_id, w.prompt,
       v.outcome, v.reason, v.tier_label, v.validation_passed, v.parallelizable,
       v.category, v.is_novel_category, v.category_description,
       v.serial, v.template, v.context, v.data_json, v.n,
       r.input_tokens, r.output_tokens, r.cost_usd, r.latency_ms, r.attempts,
       r.error_code, r.error_message,
       strftime('%Y-%m-%dT%H:%M:%fZ', r.created_at, 'unixepoch') AS created_at,
       r.created_at AS created_at_unix
FROM current_run AS c
JOIN results AS r ON r.run_id = c.run_id
JOIN verdicts AS v ON v.result_id = r.id AND v.profile = c.profile
JOIN work AS w ON w.id = r.work_id;

CREATE VIEW novel_categories AS
SELECT category,
       (SELECT v2.category_description FROM current_verdicts AS v2
        WHERE v2.category = cv.category AND v2.is_novel_category = 1
          AND v2.category_description IS NOT NULL
        ORDER BY v2.result_id LIMIT 1) AS description,
       count(*) AS prompts,
       sum(outcome IN ('high_confidence', 'medium_confidence')) AS passed,
       strftime('%Y-%m-%dT%H:%M:%fZ', min(created_at_unix), 'unixepoch') AS first_seen_at,
       min(created_at_unix) AS first_seen_at_unix
FROM current_verdicts AS cv
WHERE is_novel_category = 1 AND parallelizable = 1 AND category IS NOT NULL
GROUP BY category;
