// Races: many concurrent deletes of one secret (by name and by id) give exactly one 200,
// in one process and across two processes sharing one file database (WAL, busy timeout);
// concurrent creates of one name make one secret; a storm of mixed writes from both
// processes gives not one answer besides 200 and the documented 400s.

import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { http, jsonHeaders, type HttpOpts, type Outcome } from './net.js'
import { RACE_KEY, startCli, tempDir, writeSeed, type Child } from './proc.js'
import { Rng } from './rng.js'

export type Fire = (o: HttpOpts) => Promise<Outcome>

export const httpFire =
  (port: number): Fire =>
  (o) =>
    http(port, o)

export const injectFire =
  (app: FastifyInstance): Fire =>
  async (o) => {
    const res = await app.inject({ method: o.method as 'GET', url: o.path, headers: o.headers, payload: o.body })
    return { kind: 'answer', status: res.statusCode, body: res.body, headers: res.headers as Record<string, string> }
  }

export interface RaceTally {
  rounds: number
  requests: number
  /** How many 200s each round got: all must be 1. */
  winners: number[]
  byStatus: Record<string, number>
  problems: string[]
}

export function newTally(): RaceTally {
  return { rounds: 0, requests: 0, winners: [], byStatus: {}, problems: [] }
}

function count(t: RaceTally, o: Outcome): void {
  t.requests++
  const k = o.kind === 'answer' ? String(o.status) : o.kind
  t.byStatus[k] = (t.byStatus[k] ?? 0) + 1
}

/** One round: n deletes of one secret at once, alternately by name and by id, spread over the servers. */
export async function deleteRace(
  fires: Fire[],
  n: number,
  key: string,
  name: string,
  id: string,
  t: RaceTally,
  org?: string,
): Promise<void> {
  const outcomes = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const fire = fires[i % fires.length]!
      return i % 2 === 0
        ? fire({
            method: 'DELETE',
            path: '/v1/ai_secret',
            headers: jsonHeaders(key),
            body: JSON.stringify({ name, ...(org === undefined ? {} : { org_name: org }) }),
          })
        : fire({ method: 'DELETE', path: `/v1/ai_secret/${id}`, headers: { authorization: `Bearer ${key}` } })
    }),
  )
  t.rounds++
  let winners = 0
  for (const [i, o] of outcomes.entries()) {
    count(t, o)
    if (o.kind !== 'answer') {
      t.problems.push(`round ${t.rounds}: request ${i} got no answer (${o.kind})`)
      continue
    }
    if (o.status === 200) {
      winners++
      if (!o.body.includes(id))
        t.problems.push(`round ${t.rounds}: the 200 is not the deleted secret: ${o.body.slice(0, 200)}`)
      continue
    }
    const expected =
      i % 2 === 0
        ? `Missing delete access to ai_secret ${name}, or the ai_secret does not exist [`
        : `Missing delete access to ai_secret id ${id}, or the ai_secret does not exist [`
    if (o.status !== 400 || !o.body.startsWith(expected))
      t.problems.push(`round ${t.rounds}: request ${i}: ${o.status} ${o.body.slice(0, 200)}`)
  }
  t.winners.push(winners)
  if (winners !== 1) t.problems.push(`round ${t.rounds}: ${winners} deletes of ${name} got 200`)
}

/** n creates of one new name at once: all 200, one made it (no x-bt-found-existing), all answer the same id. */
export async function createRace(fires: Fire[], n: number, key: string, name: string, t: RaceTally): Promise<void> {
  const outcomes = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fires[i % fires.length]!({
        method: 'POST',
        path: '/v1/ai_secret',
        headers: jsonHeaders(key),
        body: JSON.stringify({ name, secret: `sk-rel-created-${name}-Lw3` }),
      }),
    ),
  )
  t.rounds++
  const ids = new Set<string>()
  let made = 0
  for (const o of outcomes) {
    count(t, o)
    if (o.kind !== 'answer' || o.status !== 200) {
      t.problems.push(`create race ${name}: ${o.kind === 'answer' ? `${o.status} ${o.body.slice(0, 200)}` : o.kind}`)
      continue
    }
    ids.add((JSON.parse(o.body) as { id: string }).id)
    if (o.headers['x-bt-found-existing'] === undefined) made++
  }
  t.winners.push(made)
  if (made !== 1 || ids.size !== 1) t.problems.push(`create race ${name}: ${made} creations, ${ids.size} ids`)
}

/** `total` mixed writes and reads, `concurrency` at a time over the servers: only 200 and the documented 400s. */
export async function writeStorm(
  fires: Fire[],
  total: number,
  concurrency: number,
  key: string,
  names: string[],
  seed: number,
  t: RaceTally,
): Promise<void> {
  const r = new Rng(seed)
  const ids = new Map<string, string>()
  let sent = 0
  const worker = async () => {
    while (sent < total) {
      sent++
      const fire = r.pick(fires)
      const name = r.pick(names)
      const id = ids.get(name) ?? '00000000-0000-4000-8000-000000000000'
      const op = r.int(6)
      const o: HttpOpts =
        op === 0
          ? {
              method: 'POST',
              path: '/v1/ai_secret',
              headers: jsonHeaders(key),
              body: JSON.stringify({ name, secret: `sk-rel-storm-${sent}-Jq8` }),
            }
          : op === 1
            ? {
                method: 'PUT',
                path: '/v1/ai_secret',
                headers: jsonHeaders(key),
                body: JSON.stringify({ name, type: 'openai', metadata: { n: sent } }),
              }
            : op === 2
              ? {
                  method: 'PATCH',
                  path: `/v1/ai_secret/${id}`,
                  headers: jsonHeaders(key),
                  body: JSON.stringify({ metadata: { m: sent }, secret: `sk-rel-storm-${sent}-Jq8` }),
                }
              : op === 3
                ? { method: 'DELETE', path: '/v1/ai_secret', headers: jsonHeaders(key), body: JSON.stringify({ name }) }
                : op === 4
                  ? {
                      method: 'GET',
                      path: `/v1/ai_secret?ai_secret_name=${encodeURIComponent(name)}`,
                      headers: { authorization: `Bearer ${key}` },
                    }
                  : { method: 'DELETE', path: `/v1/ai_secret/${id}`, headers: { authorization: `Bearer ${key}` } }
      const res = await fire(o)
      count(t, res)
      if (res.kind !== 'answer') t.problems.push(`storm: ${o.method} ${o.path}: no answer (${res.kind})`)
      else if (res.status === 200) {
        if (o.method !== 'GET' && o.method !== 'DELETE') ids.set(name, (JSON.parse(res.body) as { id: string }).id)
      } else if (
        res.status !== 400 ||
        !/^(Missing (update|delete) access to ai_secret|An ai_secret named)/.test(res.body)
      ) {
        t.problems.push(`storm: ${o.method} ${o.path}: ${res.status} ${res.body.slice(0, 200)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

async function idOf(fire: Fire, key: string, name: string): Promise<string> {
  const o = await fire({
    method: 'GET',
    path: `/v1/ai_secret?ai_secret_name=${encodeURIComponent(name)}`,
    headers: { authorization: `Bearer ${key}` },
  })
  if (o.kind !== 'answer' || o.status !== 200) throw new Error(`cannot list ${name}: ${JSON.stringify(o)}`)
  const [first] = (JSON.parse(o.body) as { objects: { id: string }[] }).objects
  if (first === undefined) throw new Error(`no secret ${name}`)
  return first.id
}

export interface TwoProcessReport {
  deletes: RaceTally
  creates: RaceTally
  storm: RaceTally
  integrity: string
  /** Log lines of level error or worse, from either process. */
  errorLogs: string[]
  /** Every log line of both, for the secrets check. */
  logLines: string[]
  exitCodes: (number | null)[]
}

/** Two CLI processes on one file database. */
export async function twoProcessRaces(o: {
  rounds: number
  n: number
  storm: number
  seed: number
}): Promise<TwoProcessReport> {
  const dir = tempDir('rel-race-')
  const db = join(dir, 'race.db')
  const seed = writeSeed(dir, o.rounds)
  const a = await startCli(['--db', db, '--seed', seed])
  let b: Child | undefined
  try {
    b = await startCli(['--db', db, '--seed', seed])
    if (!/seed: +not applied/.test(b.banner())) throw new Error('the second process seeded the shared database again')
    const fires = [httpFire(a.port), httpFire(b.port)]
    const deletes = newTally()
    for (let i = 0; i < o.rounds; i++)
      await deleteRace(fires, o.n, RACE_KEY, `race-${i}`, await idOf(fires[0]!, RACE_KEY, `race-${i}`), deletes)
    const creates = newTally()
    for (let i = 0; i < Math.max(1, Math.floor(o.rounds / 2)); i++)
      await createRace(fires, o.n, RACE_KEY, `created-${i}`, creates)
    const storm = newTally()
    await writeStorm(
      fires,
      o.storm,
      32,
      RACE_KEY,
      Array.from({ length: 12 }, (_, i) => `storm-${i}`),
      o.seed,
      storm,
    )
    for (const c of [a, b]) c.child.kill('SIGTERM')
    const exits = await Promise.all([a.exited, b.exited])
    const check = new Database(db)
    const integrity = String(check.pragma('integrity_check', { simple: true }))
    check.close()
    const errorLogs = [...a.logLines(), ...b.logLines()].filter((l) => /"level":(5\d|60)/.test(l))
    return {
      deletes,
      creates,
      storm,
      integrity,
      errorLogs,
      logLines: [...a.logLines(), ...b.logLines()],
      exitCodes: exits.map((e) => e.code),
    }
  } finally {
    a.child.kill('SIGKILL')
    b?.child.kill('SIGKILL')
  }
}
