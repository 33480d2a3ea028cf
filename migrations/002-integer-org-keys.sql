-- ai_secrets refers to its organization by an integer key instead of the 36-character uuid.
-- Every DELETE, insert and rename touches three indexes of ai_secrets that begin with the
-- organization: with a small integer there, their pages hold several times more entries,
-- and a delete touches and journals fewer of them (measured in bench/README.md).
--
-- The rebuild follows SQLite's "making other kinds of table schema changes" procedure: the
-- migration runs with foreign keys off and checks them (PRAGMA foreign_key_check) before
-- it commits (src/db/migrate.ts). memberships and api_keys keep referring to
-- organizations (id), which stays UNIQUE.

CREATE TABLE organizations_new (
  seq     INTEGER PRIMARY KEY,
  id      TEXT NOT NULL UNIQUE,
  name    TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL
);
INSERT INTO organizations_new (seq, id, name, created)
  SELECT rowid, id, name, created FROM organizations ORDER BY rowid;

CREATE TABLE ai_secrets_new (
  seq                       INTEGER PRIMARY KEY,
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
  SELECT s.seq, s.id, o.seq, s.name, s.type, s.metadata, s.secret, s.created, s.updated_at,
         s.secret_updated_at, s.secret_updated_by_user_id
  FROM ai_secrets s JOIN organizations_new o ON o.id = s.org_id;

DROP TABLE ai_secrets;
DROP TABLE organizations;
ALTER TABLE organizations_new RENAME TO organizations;
ALTER TABLE ai_secrets_new RENAME TO ai_secrets;

-- Named indexes rather than UNIQUE column constraints: a big seed drops and rebuilds them
-- (Repository.insertSecrets), which SQLite does not allow for a constraint's own index.
CREATE UNIQUE INDEX ai_secrets_id ON ai_secrets (id);
CREATE UNIQUE INDEX ai_secrets_org_name ON ai_secrets (org, name);
CREATE INDEX ai_secrets_org_newest ON ai_secrets (org, created DESC, seq DESC);
