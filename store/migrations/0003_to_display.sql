-- The To display name, so that --to finds a call by it as --from does by
-- the From's: to_display as the first message's To had it (no quotes),
-- to_display_key it in lower case. Calls archived before this migration
-- get theirs from their first stored message (store.backfill).
ALTER TABLE calls ADD COLUMN to_display TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN to_display_key TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_to_display ON calls (to_display_key) WHERE to_display_key != '';
