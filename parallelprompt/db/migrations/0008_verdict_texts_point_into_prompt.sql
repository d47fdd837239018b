-- parallelprompt schema, version 8: a verdict's serial, template and context point into the
-- prompt instead of copying it (issue 12.6). Each text is stored once, in work.prompt.
--
-- serial and template: when <f>_at is set, the text is
--     substr(prompt, 1, <f>_at) || coalesce(<f>, '') || substr(prompt, <f>_to + 1)
-- (the prompt's first <f>_at characters, the stored middle, the prompt from <f>_to on); a
-- serial equal to the prompt is (at = to = length(prompt), middle NULL).
-- context: when context_at is set, the text is substr(prompt, context_at + 1,
-- context_to - context_at) (a span of the prompt) and context is NULL.
-- With <f>_at NULL the column holds the text in full (every verdict written before this
-- version, and texts that share little with the prompt). Writers: db/texts.py.
-- Readers: the view verdict_texts below gives every verdict's three texts in full.
ALTER TABLE verdicts ADD COLUMN serial_at INTEGER;
ALTER TABLE verdicts ADD COLUMN serial_to INTEGER;
ALTER TABLE verdicts ADD COLUMN template_at INTEGER;
ALTER TABLE verdicts ADD COLUMN template_to INTEGER;
ALTER TABLE verdicts ADD COLUMN context_at INTEGER;
ALTER TABLE verdicts ADD COLUMN context_to INTEGER;

-- Every verdict's texts in full, whatever way they are stored.
CREATE VIEW verdict_texts AS
SELECT v.result_id, v.profile,
       CASE WHEN v.serial_at IS NULL THEN v.serial
            ELSE substr(w.prompt, 1, v.serial_at) || coalesce(v.serial, '')
                 || substr(w.prompt, v.serial_to + 1) END AS serial,
       CASE WHEN v.template_at IS NULL THEN v.template
            ELSE substr(w.prompt, 1, v.template_at) || coalesce(v.template, '')
                 || substr(w.prompt, v.template_to + 1) END AS template,
       CASE WHEN v.context_at IS NULL THEN v.context
            ELSE substr(w.prompt, v.context_at + 1, v.context_to - v.context_at) END AS context
FROM verdicts AS v
JOIN results AS r ON r.id = v.result_id
JOIN work AS w ON w.id = r.work_id;

DROP VIEW IF EXISTS novel_categories;
DROP VIEW IF EXISTS current_verdicts;

CREATE VIEW current_verdicts AS
SELECT r.run_id, v.profile, r.id AS result_id, r.work_id, w.prompt,
       v.outcome, v.reason, v.tier_label, v.validation_passed, v.parallelizable,
       v.category, v.is_novel_category, v.category_description,
       CASE WHEN v.serial_at IS NULL THEN v.serial
            ELSE substr(w.prompt, 1, v.serial_at) || coalesce(v.serial, '')
                 || substr(w.prompt, v.serial_to + 1) END AS serial,
       CASE WHEN v.template_at IS NULL THEN v.template
            ELSE substr(w.prompt, 1, v.template_at) || coalesce(v.template, '')
                 || substr(w.prompt, v.template_to + 1) END AS template,
       CASE WHEN v.context_at IS NULL THEN v.context
            ELSE substr(w.prompt, v.context_at + 1, v.context_to - v.context_at) END AS context,
       v.data_json, v.n,
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

-- The statistics read a profile's verdicts grouped by these columns: in this index's order the
-- grouping streams (no sort of every verdict); it replaces verdicts_outcome, its prefix.
CREATE INDEX verdicts_summary ON verdicts (profile, outcome, contract_version, parallelizable,
                                           category, is_novel_category, reason);
DROP INDEX verdicts_outcome;
