-- The mock's whole data model (docs/seed-file.md).
CREATE TABLE organizations (
  id      TEXT PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL
);

CREATE TABLE users (
  id      TEXT PRIMARY KEY,
  email   TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL
);

CREATE TABLE memberships (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  org_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  role    TEXT NOT NULL CHECK (role IN ('owner', 'member')),
  PRIMARY KEY (user_id, org_id)
) WITHOUT ROWID;

-- API keys are stored only as a SHA-256 hash (hex) and a short display preview.
CREATE TABLE api_keys (
  id       TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE,
  preview  TEXT NOT NULL,
  user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  org_id   TEXT REFERENCES organizations (id) ON DELETE CASCADE,
  created  TEXT NOT NULL
);

-- seq is the insertion order: it breaks ties between equal `created` times.
CREATE TABLE ai_secrets (
  seq                       INTEGER PRIMARY KEY,
  id                        TEXT NOT NULL UNIQUE,
  org_id                    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name                      TEXT NOT NULL,
  type                      TEXT,
  metadata                  TEXT,
  secret                    TEXT,
  created                   TEXT NOT NULL,
  updated_at                TEXT NOT NULL,
  secret_updated_at         TEXT,
  secret_updated_by_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
  UNIQUE (org_id, name)
);

CREATE INDEX ai_secrets_org_newest ON ai_secrets (org_id, created DESC, seq DESC);
