// Run by test/db/commit.test.ts inside a mount namespace of its own (`unshare -m`), with a small
// tmpfs mounted at argv[2]: the mock's file database on it, the disk filled, then every kind of
// write. Prints one JSON object: each write's status, and what the store holds after them.
import { openSync, rmSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { buildMockApp } from '../../src/app.js'
import { KEYS } from './app.js'

const dir = process.argv[2]!
const { app, mock } = await buildMockApp({ db: join(dir, 'mock.db'), logger: false })
const h = { authorization: `Bearer ${KEYS.owner}`, 'content-type': 'application/json' }
const ACME_SECRET = '5e3b0c1a-8d2f-4a6e-9b7c-0d1e2f3a4b5c'
const list = async () =>
  (await app.inject({ method: 'GET', url: '/v1/ai_secret', headers: h }))
    .json<{ objects: { name: string }[] }>()
    .objects.map((s) => s.name)

// Every commit now has to grow the WAL, which no longer fits.
mock.repo.db.pragma('wal_checkpoint(TRUNCATE)')
const filler = join(dir, 'filler')
const fd = openSync(filler, 'w')
const block = Buffer.alloc(4096)
try {
  for (;;) writeSync(fd, block)
} catch {
  // ENOSPC: the disk is full.
}
closeSync(fd)

const writes: Record<string, number> = {}
const send = async (what: string, method: string, url: string, payload?: object) => {
  writes[what] = (await app.inject({ method: method as 'GET', url, headers: h, payload })).statusCode
}
await send('delete by name', 'DELETE', '/v1/ai_secret', { name: 'OPENAI_API_KEY' })
await send('delete by id', 'DELETE', `/v1/ai_secret/${ACME_SECRET}`)
await send('create', 'POST', '/v1/ai_secret', { name: 'NEW_ONE', secret: 'sk-new-value-000' })
await send('replace', 'PUT', '/v1/ai_secret', { name: 'OPENAI_API_KEY', secret: 'sk-replaced-000' })
await send('patch', 'PATCH', `/v1/ai_secret/${ACME_SECRET}`, { metadata: { changed: true } })
await send('seed', 'POST', '/_mock/seed', { organizations: [{ name: 'initech' }] })
await send('reset', 'POST', '/_mock/reset')
const whileFull = {
  names: await list(),
  secret: (await app.inject({ method: 'GET', url: `/v1/ai_secret/${ACME_SECRET}`, headers: h })).json(),
  orgs: (await app.inject({ method: 'GET', url: '/_mock/state' })).json<{ organizations: unknown[] }>().organizations
    .length,
}

rmSync(filler)
await send('delete by name, with room again', 'DELETE', '/v1/ai_secret', { name: 'OPENAI_API_KEY' })
const afterRoom = await list()
await app.close()
process.stdout.write(`${JSON.stringify({ writes, whileFull, afterRoom })}\n`)
