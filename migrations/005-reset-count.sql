-- How many resets the database has had: one row, counted up by every POST /_mock/reset (in the
-- reset's transaction). Another process on the same file reads it to notice a reset it did not
-- make: its requests admitted before the reset then end without an answer, and its deterministic
-- ids start again after the largest stored, as the resetting process's do (src/control/control.ts).

CREATE TABLE resets (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  count INTEGER NOT NULL
);
INSERT INTO resets (id, count) VALUES (1, 0);
