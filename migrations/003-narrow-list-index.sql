-- The list's index, narrower: (org, created) instead of (org, created DESC, seq DESC).
-- seq is the table's rowid, which SQLite stores at the end of every index entry anyway, so the
-- old index held it twice; and read backwards, (org, created) gives the list's order (created
-- DESC, seq DESC) as it is, with no sort (the query plans are the same: bench/README.md).
-- Every DELETE, insert and rename of a secret updates this index: with smaller entries it
-- touches fewer pages (measured in bench/README.md).
DROP INDEX ai_secrets_org_newest;
CREATE INDEX ai_secrets_org_created ON ai_secrets (org, created);
