-- parallelprompt schema, version 2: read-only views so that `sqlite3 results.db` answers the
-- common questions directly. They read the latest run under its own rule profile (the run's
-- `rules`); for another run or profile, query `results` JOIN `verdicts` directly.
-- docs/results.md documents every view and its columns.

-- The latest run and the profile its verdicts were stored under.
CREATE VIEW current_run AS
SELECT id AS run_id, rules AS profile, model_id, api, backend, contract_version, created_at
FROM runs
ORDER BY id DESC
LIMIT 1;

-- One row per unique prompt processed in the latest run: the answer's verdict and its usage.
CREATE VIEW current_verdicts AS
SELECT r.run_id, v.profile, r.id AS result_id, r.work_id, w.prompt,
       v.outcome, v.reason, v.tier_label, v.validation_passed, v.parallelizable,
       v.category, v.is_novel_category, v.category_description,
       v.serial, v.template, v.context, v.data_json, v.n,
       r.input_tokens, r.output_tokens, r.cost_usd, r.latency_ms, r.attempts,
       r.error_code, r.error_message, r.created_at
FROM current_run AS c
JOIN results AS r ON r.run_id = c.run_id
JOIN verdicts AS v ON v.result_id = r.id AND v.profile = c.profile
JOIN work AS w ON w.id = r.work_id;

-- Every prompt the model called parallelizable, with its schema and whether it passed.
CREATE VIEW parallelizable_prompts AS
SELECT cv.work_id, cv.prompt, cv.category, cv.is_novel_category, cv.category_description,
       cv.serial, cv.template, cv.context, cv.data_json, cv.n,
       cv.outcome, cv.reason, cv.tier_label, cv.validation_passed,
       (SELECT count(*) FROM sources AS s WHERE s.work_id = cv.work_id) AS source_rows
FROM current_verdicts AS cv
WHERE cv.parallelizable = 1;

-- Per category: classified parallelizable, passed (high + medium), failed, pass rate.
CREATE VIEW category_stats AS
SELECT coalesce(category, '(none)') AS category,
       max(coalesce(is_novel_category, 0)) AS is_novel_category,
       count(*) AS classified,
       sum(outcome IN ('high_confidence', 'medium_confidence')) AS passed,
       sum(outcome NOT IN ('high_confidence', 'medium_confidence')) AS failed,
       sum(outcome = 'high_confidence') AS high,
       sum(outcome = 'medium_confidence') AS medium,
       round(1.0 * sum(outcome IN ('high_confidence', 'medium_confidence')) / count(*), 4)
           AS pass_rate
FROM current_verdicts
WHERE parallelizable = 1
GROUP BY 1;

-- Every prompt that did not pass for a reason other than a plain "no": rule failures, parse
-- failures and dead letters, with the reason and (for dead letters) the last error.
CREATE VIEW failures AS
SELECT work_id, prompt, outcome, reason, category, error_code, error_message, attempts,
       result_id
FROM current_verdicts
WHERE outcome IN ('failed', 'unparseable', 'dead');

-- Labels outside the seven canonical categories (normalised), with their first description.
CREATE VIEW novel_categories AS
SELECT category,
       (SELECT v2.category_description FROM current_verdicts AS v2
        WHERE v2.category = cv.category AND v2.is_novel_category = 1
          AND v2.category_description IS NOT NULL
        ORDER BY v2.result_id LIMIT 1) AS description,
       count(*) AS prompts,
       sum(outcome IN ('high_confidence', 'medium_confidence')) AS passed,
       min(created_at) AS first_seen_at
FROM current_verdicts AS cv
WHERE is_novel_category = 1 AND parallelizable = 1 AND category IS NOT NULL
GROUP BY category;

-- Outcome counts of the latest run (they sum to the prompts processed).
CREATE VIEW outcome_counts AS
SELECT outcome, count(*) AS prompts
FROM current_verdicts
GROUP BY outcome;

-- Per language (from the source rows: a prompt seen in two languages counts in both).
CREATE VIEW language_stats AS
SELECT coalesce(s.language, 'unknown') AS language,
       count(*) AS source_rows,
       count(DISTINCT cv.work_id) AS prompts,
       count(DISTINCT CASE WHEN cv.parallelizable = 1 THEN cv.work_id END) AS parallelizable,
       count(DISTINCT CASE WHEN cv.outcome IN ('high_confidence', 'medium_confidence')
                           THEN cv.work_id END) AS passed
FROM current_verdicts AS cv
JOIN sources AS s ON s.work_id = cv.work_id
GROUP BY 1;

-- Per source dataset: source rows, unique prompts, parallelizable and passed prompts.
CREATE VIEW source_stats AS
SELECT s.source,
       count(*) AS source_rows,
       count(DISTINCT cv.work_id) AS prompts,
       count(DISTINCT CASE WHEN cv.parallelizable = 1 THEN cv.work_id END) AS parallelizable,
       count(DISTINCT CASE WHEN cv.outcome IN ('high_confidence', 'medium_confidence')
                           THEN cv.work_id END) AS passed
FROM current_verdicts AS cv
JOIN sources AS s ON s.work_id = cv.work_id
GROUP BY 1;
