-- parallelprompt schema, version 3: every repair the parser made to an answer before judging
-- it (a JSON list of prompts.Coercion names, e.g. ["json_trailing_commas", "n_from_string"];
-- NULL for no repair and for verdicts stored before this version).
ALTER TABLE verdicts ADD COLUMN repairs_json TEXT;
