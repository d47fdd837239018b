-- The insert trigger of 0007 ran once per new prompt: a 1M-row ingest spent about a quarter of
-- its time in it (44k against 58k conversations/s, bench/ingest.py). New prompts only come in
-- through the enqueue statement, always as 'ready', so the enqueue adds its row count to the
-- totals in the same transaction instead (named query count_enqueued). Status changes and
-- deletes keep their triggers.
DROP TRIGGER IF EXISTS work_counts_insert;
