-- ai_secrets.seq never gives a number twice (AUTOINCREMENT): it orders secrets made in the same
-- millisecond, and a list cursor that names a deleted secret keeps its place by it
-- (src/db/deleted-secrets.ts). Without AUTOINCREMENT, SQLite gives a new row the largest seq + 1,
-- which, once the newest secrets are deleted, is a seq a deleted secret had: a secret made after
-- it then sorted before it, and `starting_after` that deleted secret listed the newer one.
--
-- Rebuilt as migration 002 rebuilt it (foreign keys off while it runs, checked before it commits:
-- src/db/migrate.ts); the rows keep their seq, and sqlite_sequence starts at the largest.

CREATE TABLE ai_secrets_new (
  seq                       INTEGER PRIMARY KEY AUTOINCREMENT,
  id                        TEXT NOT NULL,
  org                       INTEGER NOT NULL REFERENCES organizations (seq) ON DELETE CASCADE,
  name                      TEXT NOT NULL,
  type                      TEXT,
  metadata                  TEXT,
  secret                    TEXT,
  created                   TEXT NOT NULL,
  updated_at                TEXT NOT NULL,
  secret_updated_at         TEXT,
  secret_updated_by_user_id TEXT REFERENCES users (id) ON DELETE SET NULL
);
INSERT INTO ai_secrets_new (seq, id, org, name, type, metadata, secret, created, updated_at,
                            secret_updated_at, secret_updated_by_user_id)
  SELECT seq, id, org, name, type, metadata, secret, created, updated_at,
         secret_updated_at, secret_updated_by_user_id
  FROM ai_secrets ORDER BY seq;

DROP TABLE ai_secrets;
ALTER TABLE ai_secrets_new RENAME TO ai_secrets;

CREATE UNIQUE INDEX ai_secrets_id ON ai_secrets (id);
CREATE UNIQUE INDEX ai_secrets_org_name ON ai_secrets (org, name);
CREATE INDEX ai_secrets_org_created ON ai_secrets (org, created);
