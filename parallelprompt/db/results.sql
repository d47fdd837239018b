-- Named queries of the results side: statistics, export, report, estimate, status and
-- revalidation. Loaded with db.sql.named_queries("results.sql").
--
-- Common parameters: :run_id, :profile (the rule profile whose verdicts are read) and :source
-- (NULL = every source dataset; else only prompts that have a source row in that dataset).
-- "Passed" always means outcome IN ('high_confidence', 'medium_confidence').

-- name: summary_sums
-- The sums of run_summary and run_summary_unjudged (written once; db/readside.py puts them
-- in place of /* summary_sums */): prompts, tokens, cost, first and last result, latency,
-- attempts, then the answered calls' prompt-cache figures, and the first result id. (One
-- GROUP BY over a CTE of both arms would write them once too, but SQLite then sorts every
-- row for the grouping: the index order of verdicts_summary is lost.)
count(*), sum(r.input_tokens), sum(r.output_tokens), sum(r.cost_usd),
min(r.created_at), max(r.created_at), sum(r.latency_ms), count(r.latency_ms),
sum(r.attempts),
sum(r.raw_text IS NOT NULL),
sum(r.raw_text IS NOT NULL AND r.cache_read_tokens > 0),
sum(r.raw_text IS NOT NULL AND r.cache_write_tokens > 0),
sum(CASE WHEN r.raw_text IS NOT NULL THEN r.cache_read_tokens END),
sum(CASE WHEN r.raw_text IS NOT NULL THEN r.cache_write_tokens END),
sum(CASE WHEN r.raw_text IS NOT NULL THEN r.input_tokens END),
sum(CASE WHEN r.raw_text IS NOT NULL THEN r.output_tokens END),
sum(CASE WHEN r.raw_text IS NOT NULL THEN w.chars END),
min(r.id)

-- name: run_summary
-- The statistics of a run in one pass over its verdicts, in the order of the index
-- verdicts_summary (no sort): one row per outcome, contract version, parallelizable,
-- category, novelty and reason, with every sum the statistics need (results/stats.py splits
-- it into outcomes, categories, reasons, novel labels, totals and cache figures).
SELECT v.outcome, v.contract_version, v.parallelizable, v.category, v.is_novel_category,
       v.reason, /* summary_sums */
FROM verdicts AS v INDEXED BY verdicts_summary
JOIN results AS r ON r.id = v.result_id
JOIN work AS w ON w.id = r.work_id
WHERE v.profile = :profile AND r.run_id = :run_id
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source))
GROUP BY v.outcome, v.contract_version, v.parallelizable, v.category, v.is_novel_category,
         v.reason;

-- name: run_summary_unjudged
-- The same sums over the run's results without a verdict under the profile ('unjudged'); a
-- probe of the verdicts per result, so db/readside.py runs it only when the run has more
-- results than run_summary counted.
SELECT 'unjudged', NULL, NULL, NULL, NULL, NULL, /* summary_sums */
FROM results AS r
JOIN work AS w ON w.id = r.work_id
WHERE r.run_id = :run_id
  AND NOT EXISTS (SELECT 1 FROM verdicts AS v
                  WHERE v.result_id = r.id AND v.profile = :profile)
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source));

-- name: source_rows
-- The run's source rows with their prompt's outcome under the profile, in the order of the
-- index sources_work: a prompt's rows come together, first row first, so results/stats.py
-- counts rows, prompts per source and prompts per language in one streaming pass (no sort:
-- SQLite's GROUP BY sorted all 1.1M rows of the 1M-prompt benchmark, and two probes per row
-- told a prompt's first row in its source and its language).
SELECT s.work_id, s.source, s.language, v.outcome, v.parallelizable
FROM sources AS s
CROSS JOIN results AS r ON r.work_id = s.work_id AND r.run_id = :run_id
LEFT JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
WHERE (:source IS NULL OR s.source = :source)
ORDER BY s.work_id, s.id;

-- name: results_before
-- How many of the run's results (in the source filter) have an id up to each of :ids (a JSON
-- list): where a novel label first appeared. Each count walks the rowid range up to its id.
SELECT f.value,
       (SELECT count(*) FROM results AS r
        WHERE r.id <= f.value AND +r.run_id = :run_id
          AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                          WHERE s.work_id = r.work_id AND s.source = :source)))
FROM json_each(:ids) AS f;

-- name: novel_examples
-- The first :examples prompts (by result id) of each novel label. The novel verdicts are
-- picked from the covering index verdicts_summary first: a column outside the index
-- (category_description) read in the same scan made SQLite fetch every verdict of the profile
-- (1M rows of the benchmark, about a second), not only the novel ones.
WITH novel AS MATERIALIZED (
    SELECT result_id, category FROM verdicts INDEXED BY verdicts_summary
    WHERE profile = :profile AND is_novel_category = 1 AND parallelizable = 1
      AND category IS NOT NULL
), firsts AS (
    SELECT result_id, category, rn FROM (
        SELECT n.result_id, n.category,
               row_number() OVER (PARTITION BY n.category ORDER BY n.result_id) AS rn
        FROM novel AS n
        JOIN results AS r ON r.id = n.result_id
        WHERE r.run_id = :run_id
          AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                          WHERE s.work_id = r.work_id AND s.source = :source))
    )
    WHERE rn <= :examples
)
SELECT f.category, v.category_description AS description, w.prompt
FROM firsts AS f
JOIN verdicts AS v ON v.result_id = f.result_id AND v.profile = :profile
JOIN results AS r ON r.id = f.result_id
JOIN work AS w ON w.id = r.work_id
ORDER BY f.category, f.rn;

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

-- name: worker_sessions
-- The run's worker processes, from registration to their stop (or last heartbeat): the time
-- spent working, for throughput.
SELECT started_at, coalesce(stopped_at, heartbeat_at) FROM workers WHERE run_id = :run_id;

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

-- name: corpus_totals
-- Everything ingested (whatever has been processed): unique prompts and source rows.
SELECT (SELECT count(*) FROM work AS w
        WHERE :source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                         WHERE s.work_id = w.id AND s.source = :source)),
       (SELECT count(*) FROM sources AS s WHERE :source IS NULL OR s.source = :source);

-- name: timeline_bucket
-- Results of one time bucket (bucket number CAST((created_at - :t0) / :bucket AS INTEGER)
-- from :first to :last), read from the range :lo..:hi of the index results_run that holds
-- them: the buckets in turn walk the run's results once, where one GROUP BY of the bucket
-- sorted them all.
SELECT count(*) AS prompts,
       coalesce(sum(r.input_tokens + r.output_tokens), 0) AS tokens,
       coalesce(sum(r.cost_usd), 0.0) AS cost_usd
FROM results AS r
WHERE r.run_id = :run_id AND r.created_at >= :lo AND r.created_at < :hi
  AND CAST((r.created_at - :t0) / :bucket AS INTEGER) BETWEEN :first AND :last
  AND (:source IS NULL OR EXISTS (SELECT 1 FROM sources AS s
                                  WHERE s.work_id = r.work_id AND s.source = :source));

-- name: export_by_source
-- serial, template and context come as stored, with their pointers into the prompt: db.export
-- rebuilds the texts (db.texts.expand_splice, the arithmetic of the view verdict_texts,
-- migration 0008) in Python, cheaper than SQLite's substr on every row.
-- One row per source row whose prompt has a verdict; duplicates fan out with their own
-- source and row index. :first and :last bound the source row ids (a part of a parallel
-- export, or the whole table). CROSS JOIN fixes the join order: sources are scanned in id order, so
-- ORDER BY needs no sort (a sort of millions of rows would be held in temp storage).
SELECT s.source, s.row_index, w.prompt, v.parallelizable, v.category, v.is_novel_category,
       v.category_description,
       v.serial, v.serial_at, v.serial_to, v.template, v.template_at, v.template_to,
       v.context, v.context_at, v.context_to,
       v.data_json, v.n, v.validation_passed, v.tier_label
FROM sources AS s
CROSS JOIN results AS r ON r.work_id = s.work_id AND r.run_id = :run_id
CROSS JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
CROSS JOIN work AS w ON w.id = s.work_id
WHERE s.id BETWEEN :first AND :last
  AND (:source IS NULL OR s.source = :source)
  AND (:language IS NULL OR coalesce(s.language, 'unknown') = :language COLLATE NOCASE)
  AND (:tiers IS NULL OR v.tier_label IN (SELECT value FROM json_each(:tiers)))
  AND (:category IS NULL OR v.category = :category COLLATE NOCASE)
ORDER BY s.id;

-- name: export_by_prompt
-- The texts as in export_by_source.
-- One row per unique prompt, in the order they were processed; source and row index are those
-- of its first source row (the first that matches the source and language filters); :first and
-- :last bound the result ids. Results
-- are scanned in id order (no sort), hence the CROSS JOINs and the unindexed +r.run_id.
SELECT s.source, s.row_index, w.prompt, v.parallelizable, v.category, v.is_novel_category,
       v.category_description,
       v.serial, v.serial_at, v.serial_to, v.template, v.template_at, v.template_to,
       v.context, v.context_at, v.context_to,
       v.data_json, v.n, v.validation_passed, v.tier_label
FROM results AS r
CROSS JOIN verdicts AS v ON v.result_id = r.id AND v.profile = :profile
CROSS JOIN work AS w ON w.id = r.work_id
LEFT JOIN sources AS s ON s.id = (
    SELECT min(s2.id) FROM sources AS s2
    WHERE s2.work_id = r.work_id
      AND (:source IS NULL OR s2.source = :source)
      AND (:language IS NULL OR coalesce(s2.language, 'unknown') = :language COLLATE NOCASE))
WHERE r.id BETWEEN :first AND :last AND +r.run_id = :run_id
  AND ((:source IS NULL AND :language IS NULL) OR s.id IS NOT NULL)
  AND (:tiers IS NULL OR v.tier_label IN (SELECT value FROM json_each(:tiers)))
  AND (:category IS NULL OR v.category = :category COLLATE NOCASE)
ORDER BY r.id;

-- name: export_chunk_after_source
-- The id :size source rows after :id (a row id that exists): where the next chunk of an
-- in-place export starts, whatever the gaps between ids; none past the end.
SELECT id FROM sources WHERE id >= :id ORDER BY id LIMIT 1 OFFSET :size;

-- name: export_chunk_after_prompt
SELECT id FROM results WHERE id >= :id ORDER BY id LIMIT 1 OFFSET :size;

-- name: export_id_span
-- The ids an export walks, min and max (both rowid look-ups): source rows, or results (per
-- prompt; every run's, which only sets where a parallel export splits).
SELECT CASE WHEN :per = 'source' THEN (SELECT min(id) FROM sources)
            ELSE (SELECT min(id) FROM results) END,
       CASE WHEN :per = 'source' THEN (SELECT max(id) FROM sources)
            ELSE (SELECT max(id) FROM results) END;

-- name: pending_work
SELECT count(*), coalesce(sum(chars), 0) FROM work WHERE status IN ('ready', 'leased');

-- name: completed_usage
-- Answered calls (dead letters excluded), for the token estimate; :model NULL = any model.
SELECT count(*),
       coalesce(sum(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens), 0),
       coalesce(sum(r.output_tokens), 0), coalesce(sum(w.chars), 0)
FROM results AS r
JOIN work AS w ON w.id = r.work_id
WHERE r.raw_text IS NOT NULL AND r.input_tokens + r.cache_read_tokens + r.cache_write_tokens > 0
  AND (:model IS NULL OR r.model_id = :model);

-- name: live_worker_rows
SELECT id, run_id, host, pid, concurrency, started_at, heartbeat_at
FROM workers
WHERE stopped_at IS NULL AND heartbeat_at >= :since
ORDER BY started_at, id;

-- name: worker_totals
SELECT count(*), coalesce(sum(stopped_at IS NULL), 0) FROM workers;

-- name: recent_results
SELECT count(*), coalesce(sum(input_tokens + output_tokens), 0), coalesce(sum(cost_usd), 0.0)
FROM results
WHERE run_id = :run_id AND created_at >= :since;

-- name: run_result_ids
SELECT id FROM results WHERE run_id = :run_id ORDER BY id;

-- name: results_to_judge
-- One batch of revalidate: the run's results in an id range (the rowid range is walked, no
-- sort).
SELECT r.id, w.prompt, r.raw_text, r.stop_reason, r.error_code
FROM results AS r
JOIN work AS w ON w.id = r.work_id
WHERE r.id BETWEEN :first AND :last AND +r.run_id = :run_id
ORDER BY r.id;

-- name: compare_missing
SELECT count(*), coalesce(sum(va.result_id IS NULL), 0), coalesce(sum(vb.result_id IS NULL), 0)
FROM results AS r
LEFT JOIN verdicts AS va ON va.result_id = r.id AND va.profile = :a
LEFT JOIN verdicts AS vb ON vb.result_id = r.id AND vb.profile = :b
WHERE r.run_id = :run_id;

-- name: compare_categories
-- Per category (the second profile's label, which is normalised, else the first's): prompts
-- classified parallelizable and passed under each profile.
SELECT coalesce(vb.category, va.category, '(none)') AS category,
       coalesce(sum(va.parallelizable = 1), 0) AS a_parallelizable,
       coalesce(sum(va.outcome IN ('high_confidence', 'medium_confidence')), 0) AS a_passed,
       coalesce(sum(vb.parallelizable = 1), 0) AS b_parallelizable,
       coalesce(sum(vb.outcome IN ('high_confidence', 'medium_confidence')), 0) AS b_passed
FROM results AS r
LEFT JOIN verdicts AS va ON va.result_id = r.id AND va.profile = :a
LEFT JOIN verdicts AS vb ON vb.result_id = r.id AND vb.profile = :b
WHERE r.run_id = :run_id AND (va.parallelizable = 1 OR vb.parallelizable = 1)
GROUP BY 1
ORDER BY max(a_passed, b_passed) DESC, category;

-- name: compare_differences
-- Prompts that pass under exactly one profile, with the outcome:reason under the other.
SELECT category, passes_under, why, count(*) AS prompts FROM (
    SELECT coalesce(vb.category, va.category, '(none)') AS category,
           CASE WHEN a_ok THEN :a ELSE :b END AS passes_under,
           CASE WHEN a_ok
                THEN coalesce(vb.outcome, 'missing') || coalesce(':' || vb.reason, '')
                ELSE coalesce(va.outcome, 'missing') || coalesce(':' || va.reason, '')
           END AS why
    FROM (
        SELECT r.id,
               coalesce(va0.outcome IN ('high_confidence', 'medium_confidence'), 0) AS a_ok,
               coalesce(vb0.outcome IN ('high_confidence', 'medium_confidence'), 0) AS b_ok
        FROM results AS r
        LEFT JOIN verdicts AS va0 ON va0.result_id = r.id AND va0.profile = :a
        LEFT JOIN verdicts AS vb0 ON vb0.result_id = r.id AND vb0.profile = :b
        WHERE r.run_id = :run_id
    ) AS d
    LEFT JOIN verdicts AS va ON va.result_id = d.id AND va.profile = :a
    LEFT JOIN verdicts AS vb ON vb.result_id = d.id AND vb.profile = :b
    WHERE d.a_ok != d.b_ok
)
GROUP BY 1, 2, 3
ORDER BY prompts DESC, category, why;

-- Filter checks: a filter value that matches nothing in the database is reported with the
-- values it could have been (the checks of known values run only then, or are index lookups).

-- name: profile_exists
SELECT EXISTS (SELECT 1 FROM verdicts WHERE profile = :value);

-- name: known_profiles
SELECT DISTINCT profile FROM verdicts ORDER BY 1;

-- name: source_exists
SELECT EXISTS (SELECT 1 FROM sources WHERE source = :value);

-- name: known_sources
SELECT source FROM sources GROUP BY 1 ORDER BY count(*) DESC, 1;

-- name: language_exists
SELECT EXISTS (SELECT 1 FROM sources
               WHERE coalesce(language, 'unknown') = :value COLLATE NOCASE);

-- name: known_languages
SELECT coalesce(language, 'unknown') FROM sources GROUP BY 1 ORDER BY count(*) DESC, 1;

-- name: category_exists
SELECT EXISTS (SELECT 1 FROM verdicts WHERE category = :value COLLATE NOCASE);

-- name: known_categories
SELECT category FROM verdicts WHERE category IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1;
