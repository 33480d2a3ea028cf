// Regression (issue 7, found by test/reliability/model.test.ts once lone surrogates joined its
// names).
//
// A request body can no longer hold a lone surrogate ("\ud800": valid JSON, not Unicode;
// src/plugins/body.ts refuses it, test/reliability/regression-lone-surrogate.test.ts). A seed
// still can, from a seed file (JSON.parse takes the escape) or an object given to buildApp /
// startMockServer: SQLite keeps such a name as bytes that are not UTF-8 and reads it back as
// "���", so the seeded secret answers under another name than the seed gave it, cannot be
// found by that name, and its first PATCH or PUT writes the read-back name over the stored
// one (two such secrets in one organization: a 500, UNIQUE constraint failed).
//
// Fixed (src/seed.ts): refuse it like any other bad value, naming the JSON path, in
// string() and optionalString() (and for metadata, on its strings and keys), e.g.
//   const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
//   if (LONE_SURROGATE.test(v)) throw new SeedError(key(path, field), 'holds a lone surrogate (half of a UTF-16 pair), which is not Unicode')
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'

const base = {
  organizations: [{ name: 'acme' }],
  users: [{ email: 'a@acme.test', memberships: { acme: 'owner' } }],
  api_keys: [{ key: 'sk-a-key-123', user: 'a@acme.test' }],
}

t.test('a seed object with a lone surrogate in a name is refused, naming the path', async (t) => {
  for (const [seed, path] of [
    [{ ...base, ai_secrets: [{ org: 'acme', name: 'lone \ud800' }] }, '$.ai_secrets[0].name'],
    [{ ...base, ai_secrets: [{ org: 'acme', name: 'ok', secret: 'sk-\udc00-value' }] }, '$.ai_secrets[0].secret'],
    [{ ...base, organizations: [{ name: 'acme' }, { name: '\udfff' }] }, '$.organizations[1].name'],
  ] as const) {
    await t.rejects(
      buildApp({ db: ':memory:', seed }),
      { name: 'SeedError', message: new RegExp(`${path.replace(/[$.[\]]/g, '\\$&')}: .*not Unicode`) },
      path,
    )
  }
})

t.test('a seed file with "\\ud800" in a name is refused, naming the file and the path', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'seed-')), 'seed.json')
  writeFileSync(file, JSON.stringify({ ...base, ai_secrets: [{ org: 'acme', name: 'lone \ud800' }] }))
  await t.rejects(buildApp({ db: ':memory:', seed: file }), {
    name: 'SeedError',
    message: /seed file .*seed\.json: \$\.ai_secrets\[0\]\.name: .*not Unicode/,
  })
})
