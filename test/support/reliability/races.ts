// Races: many concurrent deletes of one secret (by name and by id) give exactly one 200,
// in one process and across two processes sharing one file database (WAL, busy timeout);
// concurrent creates of one name make one secret; a storm of mixed writes from both
// processes gives not one answer besides 200 and the documented 400s; and control-plane
// changes (seeds of keys, organizations and secrets, resets) through either process count on
// the other at once, while a storm of writes runs on both.

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

/**
 * `total` mixed writes and reads, `concurrency` at a time over the servers: only 200 and the
 * documented 400s. With `resets`, resets run meanwhile: a request admitted before one may also
 * end without an answer (the connection closes; counted as `ended by a reset`), as documented.
 */
export async function writeStorm(
  fires: Fire[],
  total: number,
  concurrency: number,
  key: string,
  names: string[],
  seed: number,
  t: RaceTally,
  resets = false,
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
      if (res.kind === 'reset' && resets) t.byStatus['ended by a reset'] = (t.byStatus['ended by a reset'] ?? 0) + 1
      else if (res.kind !== 'answer') t.problems.push(`storm: ${o.method} ${o.path}: no answer (${res.kind})`)
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

/** What controlPlaneAgreement found: the steps taken, by kind, and every disagreement. */
export interface AgreementTally {
  steps: Record<string, number>
  checks: number
  problems: string[]
}

const MEMBER_KEY = 'sk-rel-race-member-Pz44'

/**
 * `steps` control-plane changes, each through a random one of two processes on one file: seed
 * an API key, seed an organization with a user and key of its own, seed a secret, reset, or
 * write a secret through /v1. After each, both processes must agree at once: every key ever
 * seeded is accepted (200) by both exactly while it exists, a secret written through one is
 * read through the other with the same id, and the other process can write. Reset restores the
 * seed file both were started with (writeSeed's race key and member key).
 */
export async function controlPlaneAgreement(
  ports: [number, number],
  steps: number,
  seed: number,
  t: AgreementTally,
): Promise<void> {
  const r = new Rng(seed)
  const seededKeys = [RACE_KEY, MEMBER_KEY]
  const everIssued = new Set(seededKeys)
  let live = new Set(seededKeys)
  const answer = async (port: number, o: HttpOpts, want: number, what: string): Promise<string | null> => {
    t.checks++
    const res = await http(port, o)
    if (res.kind !== 'answer') t.problems.push(`${what}: no answer (${res.kind})`)
    else if (res.status !== want) t.problems.push(`${what}: ${res.status}, want ${want}: ${res.body.slice(0, 200)}`)
    else return res.body
    return null
  }
  const control = (port: number, path: string, body: object | undefined, want: number, what: string) =>
    answer(
      port,
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      want,
      what,
    )
  for (let i = 0; i < steps; i++) {
    const at = r.int(2)
    const [here, there] = [ports[at]!, ports[1 - at]!]
    const kind = r.pick(['key', 'organization', 'secret', 'reset', 'write'] as const)
    t.steps[kind] = (t.steps[kind] ?? 0) + 1
    const step = `step ${i} (${kind} through ${at === 0 ? 'A' : 'B'})`
    if (kind === 'key') {
      const key = `sk-rel-cp-key-${i}-Wd3`
      if ((await control(here, '/_mock/seed', { api_keys: [{ key, user: 'owner@race.test' }] }, 201, step)) !== null)
        live.add(key)
      everIssued.add(key)
    } else if (kind === 'organization') {
      const key = `sk-rel-cp-org-${i}-Wd3`
      const body = {
        organizations: [{ name: `cp-org-${i}` }],
        users: [{ email: `cp-${i}@race.test`, memberships: { [`cp-org-${i}`]: 'owner' } }],
        api_keys: [{ key, user: `cp-${i}@race.test` }],
      }
      if ((await control(here, '/_mock/seed', body, 201, step)) !== null) live.add(key)
      everIssued.add(key)
    } else if (kind === 'secret') {
      await control(
        here,
        '/_mock/seed',
        { ai_secrets: [{ org: 'race', name: `cp-seeded-${i}`, secret: `sk-rel-cp-value-${i}-Wd3` }] },
        201,
        step,
      )
      const listed = await answer(
        there,
        { method: 'GET', path: `/v1/ai_secret?ai_secret_name=cp-seeded-${i}`, headers: jsonHeaders(RACE_KEY) },
        200,
        `${step}: the other lists it`,
      )
      if (listed !== null && (JSON.parse(listed) as { objects: unknown[] }).objects.length !== 1)
        t.problems.push(`${step}: the other process does not list the seeded secret`)
    } else if (kind === 'reset') {
      if ((await control(here, '/_mock/reset', undefined, 200, step)) !== null) live = new Set(seededKeys)
    } else {
      const made = await answer(
        here,
        {
          method: 'PUT',
          path: '/v1/ai_secret',
          headers: jsonHeaders(r.pick([...live].filter((k) => !k.includes('-org-') && k !== MEMBER_KEY))),
          body: JSON.stringify({ name: `cp-written-${i}`, type: 'openai' }),
        },
        200,
        step,
      )
      if (made !== null) {
        const { id } = JSON.parse(made) as { id: string }
        const read = await answer(
          there,
          { method: 'GET', path: `/v1/ai_secret/${id}`, headers: jsonHeaders(RACE_KEY) },
          200,
          `${step}: the other reads it by id`,
        )
        if (read !== null && (JSON.parse(read) as { name: string }).name !== `cp-written-${i}`)
          t.problems.push(`${step}: the other reads another secret under its id`)
      }
    }
    for (const [p, who] of [
      [here, 'this'],
      [there, 'the other'],
    ] as const)
      for (const key of everIssued)
        await answer(
          p,
          { method: 'GET', path: '/v1/ai_secret?limit=1', headers: { authorization: `Bearer ${key}` } },
          live.has(key) ? 200 : 401,
          `${step}: ${who} process, key ${key.slice(0, 16)}… (${live.has(key) ? 'seeded' : 'reset away'})`,
        )
    await answer(
      there,
      {
        method: 'PUT',
        path: '/v1/ai_secret',
        headers: jsonHeaders(RACE_KEY),
        body: JSON.stringify({ name: 'cp-other-writes', type: 'anthropic' }),
      },
      200,
      `${step}: the other process writes`,
    )
  }
}

export interface TwoProcessReport {
  deletes: RaceTally
  creates: RaceTally
  storm: RaceTally
  /** Control-plane changes through either process, a storm on both running meanwhile. */
  agreement: AgreementTally
  /** The storm that ran during the control-plane changes: only 200, the documented 400s. */
  stormDuringControl: RaceTally
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
  /** Control-plane steps (controlPlaneAgreement). */
  controlSteps: number
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
    const agreement: AgreementTally = { steps: {}, checks: 0, problems: [] }
    const stormDuringControl = newTally()
    await Promise.all([
      controlPlaneAgreement([a.port, b.port], o.controlSteps, o.seed + 1, agreement),
      writeStorm(
        fires,
        o.storm,
        8,
        RACE_KEY,
        Array.from({ length: 12 }, (_, i) => `storm-${i}`),
        o.seed + 2,
        stormDuringControl,
        true,
      ),
    ])
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
      agreement,
      stormDuringControl,
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
