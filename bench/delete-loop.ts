// node --import tsx bench/delete-loop.ts [--rounds 7] [--secrets 200000] [--deletes 20000]
//
// The schema's share of a DELETE, without HTTP: the mock's `DELETE … RETURNING` by id in a
// tight loop over one organization's secrets, in memory, for each combination of
//   ids    v4 (random uuids) or v7 (time-ordered: src/ids.ts uuidV7, what the mock makes)
//   index  wide: (org, created DESC, seq DESC), migration 002; narrow: (org, created), 003
//   order  random (any secret) or created (oldest first, as a clean-up job deletes what it made)
// Every variant gets a fresh database (openDatabase: the migrations and the pragmas) per round,
// the variants alternate within a round, and the table gives medians of µs per statement.
// Not part of `npm run bench`: it judges no target; bench/README.md quotes its figures.

import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { uuidV7 } from '../src/ids.js'
import { openDatabase } from '../src/db/database.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    secrets: { type: 'string', default: '200000' },
    deletes: { type: 'string', default: '20000' },
  },
})
const ROUNDS = Number(values.rounds)
const N = Number(values.secrets)
const D = Number(values.deletes)

type Variant = { ids: 'v4' | 'v7'; index: 'wide' | 'narrow'; order: 'random' | 'created' }

/** µs per statement: one insert of the store (in one transaction) and one DELETE of the loop. */
function measure(v: Variant): { insert: number; delete: number } {
  const db = openDatabase(':memory:')
  if (v.index === 'wide')
    db.exec(
      'DROP INDEX ai_secrets_org_created; CREATE INDEX ai_secrets_org_newest ON ai_secrets (org, created DESC, ' +
        'seq DESC)',
    )
  db.prepare(`INSERT INTO organizations (id, name, created) VALUES (?, 'acme', '2026-01-01T00:00:00.000Z')`).run(
    randomUUID(),
  )
  const org = db.prepare('SELECT seq FROM organizations').pluck().get() as number
  const insert = db.prepare(
    `INSERT INTO ai_secrets (id, org, name, type, metadata, secret, created, updated_at) VALUES (?, ?, ?, 'openai', NULL, 'sk-x', ?, ?)`,
  )
  const newId = v.ids === 'v7' ? uuidV7 : randomUUID
  const ids: string[] = []
  const base = Date.parse('2026-01-01T00:00:00Z')
  let t = process.hrtime.bigint()
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const id = newId()
      ids.push(id)
      const created = new Date(base + i * 1000).toISOString()
      insert.run(id, org, `S${i}`, created, created)
    }
  })()
  const insertUs = Number(process.hrtime.bigint() - t) / N / 1000
  let victims = ids
  if (v.order === 'random') {
    victims = ids.slice()
    for (let i = victims.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[victims[i], victims[j]] = [victims[j]!, victims[i]!]
    }
  }
  victims = victims.slice(0, D)
  const del = db.prepare('DELETE FROM ai_secrets WHERE id = ? AND org = ? RETURNING *')
  t = process.hrtime.bigint()
  for (const id of victims) if (del.get(id, org) === undefined) throw new Error(`not deleted: ${id}`)
  const deleteUs = Number(process.hrtime.bigint() - t) / D / 1000
  db.close()
  return { insert: insertUs, delete: deleteUs }
}

const variants: Variant[] = []
for (const order of ['random', 'created'] as const)
  for (const ids of ['v4', 'v7'] as const)
    for (const index of ['wide', 'narrow'] as const) variants.push({ ids, index, order })
const results = new Map<Variant, { insert: number[]; delete: number[] }>(
  variants.map((v) => [v, { insert: [], delete: [] }]),
)
for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) {
    const m = measure(v)
    results.get(v)!.insert.push(m.insert)
    results.get(v)!.delete.push(m.delete)
  }
  process.stderr.write(`round ${r + 1}/${ROUNDS}\n`)
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(2)
console.log(`${N} secrets, ${D} deletes, ${ROUNDS} rounds, median µs per statement`)
console.log('| order | ids | index | insert | DELETE |\n| --- | --- | --- | ---: | ---: |')
for (const [v, m] of results)
  console.log(`| ${v.order} | ${v.ids} | ${v.index} | ${median(m.insert)} | ${median(m.delete)} |`)
