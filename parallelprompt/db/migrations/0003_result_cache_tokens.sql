-- parallelprompt schema, version 3: prompt-cache usage per result. Bedrock reports the input
-- read from and written to the prompt cache apart from `input_tokens` (which then counts only
-- the uncached input); `stats`, `status` and the report derive the cache hit rate and the
-- dollars saved from these columns and the prices the run recorded in its config_json.
ALTER TABLE results ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE results ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
