-- The statistics queries as they were before the single pass (issue 12.5): one pass over
-- the results each. Kept as the reference that tests/results/test_stats_single_pass.py checks
-- db.stats against.

-- name: outcome_counts
-- Per outcome and the contract version its verdicts were judged under (revalidate may have
-- used another contract than the run's).
SELECT coalesce(v.outcome, 'unjudged') AS outcome,
       count(*) AS prompts,
       coalesce(sum(v.parallelizable = 1), 0) AS parallelizable,
       v.contract_version
FROM results AS r
LEFT JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
WHERE r.run_id = :run_id
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source))
GROUP BY 1, 4;

-- name: category_counts
SELECT coalesce(v.category, '(none)') AS category,
       max(coalesce(v.is_novel_category, 0)) AS novel,
       count(*) AS classified,
       sum(v.outcome IN ('high_confidence', 'medium_confidence')) AS passed,
       sum(v.outcome = 'high_confidence') AS high
FROM results AS r
JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
WHERE r.run_id = :run_id AND v.parallelizable = 1
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source))
GROUP BY 1
ORDER BY classified DESC, category;

-- name: reason_counts
SELECT v.outcome, coalesce(v.reason, r.error_code, '(none)') AS reason, count(*) AS prompts
FROM results AS r
JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
WHERE r.run_id = :run_id
  AND v.outcome IN ('high_confidence', 'medium_confidence', 'failed', 'unparseable', 'dead')
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source))
GROUP BY 1, 2
ORDER BY prompts DESC, reason;

-- name: language_counts
-- Source-level: a prompt seen in two languages counts once in each.
SELECT coalesce(s.language, 'unknown') AS language,
       count(*) AS source_rows,
       count(DISTINCT r.id) AS prompts,
       count(DISTINCT CASE WHEN v.parallelizable = 1 THEN r.id END) AS parallelizable,
       count(DISTINCT CASE WHEN v.outcome IN ('high_confidence', 'medium_confidence')
                           THEN r.id END) AS passed
FROM results AS r
JOIN sources AS s ON s.work_id = r.work_id
LEFT JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
WHERE r.run_id = :run_id AND (:source IS NULL OR s.source = :source)
GROUP BY 1
ORDER BY source_rows DESC, language;

-- name: source_outcome_counts
-- Per source dataset and outcome: source rows and unique prompts. Summed over outcomes, the
-- rows give the dataset's processed source rows and the prompts its unique prompts.
SELECT s.source, coalesce(v.outcome, 'unjudged') AS outcome,
       count(*) AS source_rows,
       count(DISTINCT r.id) AS prompts,
       count(DISTINCT CASE WHEN v.parallelizable = 1 THEN r.id END) AS parallelizable
FROM results AS r
JOIN sources AS s ON s.work_id = r.work_id
LEFT JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
WHERE r.run_id = :run_id AND (:source IS NULL OR s.source = :source)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: novel_categories
SELECT v.category,
       count(*) AS prompts,
       sum(v.outcome IN ('high_confidence', 'medium_confidence')) AS passed,
       min(r.created_at) AS first_seen_at,
       min(r.id) AS first_result_id
FROM results AS r
JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
WHERE r.run_id = :run_id AND v.is_novel_category = 1 AND v.parallelizable = 1
  AND v.category IS NOT NULL
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source))
GROUP BY v.category
ORDER BY prompts DESC, v.category;

-- name: novel_emergence
-- For each novel label, how many prompts of the run had been processed when it first appeared.
WITH ranked AS (
    SELECT r.id, row_number() OVER (ORDER BY r.id) AS pos
    FROM results AS r
    WHERE r.run_id = :run_id
      AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                      WHERE s.work_id = r.work_id AND s.source = :source))
),
firsts AS (
    SELECT v.category, min(r.id) AS first_id
    FROM results AS r
    JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
    WHERE r.run_id = :run_id AND v.is_novel_category = 1 AND v.parallelizable = 1
      AND v.category IS NOT NULL
    GROUP BY v.category
)
SELECT f.category, k.pos FROM firsts AS f JOIN ranked AS k ON k.id = f.first_id
ORDER BY k.pos;

-- name: run_totals
SELECT count(*) AS prompts,
       coalesce(sum(r.input_tokens), 0) AS input_tokens,
       coalesce(sum(r.output_tokens), 0) AS output_tokens,
       coalesce(sum(r.cost_usd), 0.0) AS cost_usd,
       min(r.created_at) AS first_at,
       max(r.created_at) AS last_at,
       avg(r.latency_ms) AS avg_latency_ms,
       coalesce(sum(r.attempts), 0) AS attempts
FROM results AS r
WHERE r.run_id = :run_id
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source));

-- name: run_cache
-- Answered calls of a run (dead letters have no answer) and their prompt-cache usage, with the
-- prompt characters of those calls (the lever breakdown projects per-prompt tokens from them).
SELECT count(*) AS answered,
       coalesce(sum(r.cache_read_tokens > 0), 0) AS calls_reading,
       coalesce(sum(r.cache_write_tokens > 0), 0) AS calls_writing,
       coalesce(sum(r.cache_read_tokens), 0) AS cache_read_tokens,
       coalesce(sum(r.cache_write_tokens), 0) AS cache_write_tokens,
       coalesce(sum(r.input_tokens), 0) AS input_tokens,
       coalesce(sum(r.output_tokens), 0) AS output_tokens,
       coalesce(sum(w.chars), 0) AS chars
FROM results AS r
JOIN work AS w ON w.id = r.work_id
WHERE r.run_id = :run_id AND r.raw_text IS NOT NULL
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source));
