// Crash safety: the CLI on a file database under a load of deletes (and creates) is killed
// with SIGKILL at random moments and started again on the same file. After each kill:
// PRAGMA integrity_check is ok, every delete that got a 200 stays deleted, every create
// that got a 200 is there, and nothing that was not deleted is lost. Requests in flight at
// the kill may have happened or not; both are counted.

import { Agent } from 'node:http'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { http, jsonHeaders, type Outcome } from './net.js'
import { RACE_KEY, startCli, tempDir, writeSeed, type Child } from './proc.js'
import { Rng } from './rng.js'

export interface CrashReport {
  kills: number
  requests: number
  /** Deletes and creates that got a 200 before their kill. */
  confirmedDeletes: number
  confirmedCreates: number
  /** In flight when the server died: committed or not, found out afterwards. */
  inFlightCommitted: number
  inFlightNotCommitted: number
  integrity: string[]
  /** Milliseconds from starting the CLI again to its banner. */
  restartMs: number[]
  /** Milliseconds of load each run served before its SIGKILL. */
  killedAfterMs: number[]
  problems: string[]
}

interface Pending {
  op: 'delete' | 'create'
  name: string
}

export async function crashRuns(o: {
  kills: number
  secrets: number
  workers: number
  minMs: number
  maxMs: number
  seed: number
  log?: (s: string) => void
}): Promise<CrashReport> {
  const r = new Rng(o.seed)
  const dir = tempDir('rel-crash-')
  const db = join(dir, 'crash.db')
  const seed = writeSeed(dir, o.secrets, 'crash')
  const report: CrashReport = {
    kills: 0,
    requests: 0,
    confirmedDeletes: 0,
    confirmedCreates: 0,
    inFlightCommitted: 0,
    inFlightNotCommitted: 0,
    integrity: [],
    restartMs: [],
    killedAfterMs: [],
    problems: [],
  }

  // What must be true of the file after every kill.
  const mustExist = new Set<string>(Array.from({ length: o.secrets }, (_, i) => `crash-${i}`))
  const mustBeGone = new Set<string>()
  const queue = [...mustExist]
  for (let i = queue.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    ;[queue[i], queue[j]] = [queue[j]!, queue[i]!]
  }
  let created = 0

  for (let round = 1; round <= o.kills; round++) {
    const began = Date.now()
    const server: Child = await startCli(['--db', db, '--seed', seed])
    report.restartMs.push(Date.now() - began)
    const inFlight = new Set<Pending>()
    let dead = false
    const agent = new Agent({ keepAlive: true, maxSockets: o.workers })
    // The kill's random moment counts from the round's first confirmed write, not from the
    // start: on a loaded machine the first answers can take longer than the shortest lifetime,
    // and a kill before any write was confirmed checks nothing.
    let firstWrite!: () => void
    const flowing = new Promise<void>((res) => (firstWrite = res))

    const worker = async () => {
      while (!dead) {
        let p: Pending
        if (r.chance(0.75) && queue.length > 0) p = { op: 'delete', name: queue.pop()! }
        else p = { op: 'create', name: `made-${round}-${created++}` }
        // From the moment it is sent, a delete's name is no longer sure to exist (nor a create's to be absent).
        if (p.op === 'delete') mustExist.delete(p.name)
        inFlight.add(p)
        const res: Outcome =
          p.op === 'delete'
            ? await http(server.port, {
                method: 'DELETE',
                path: '/v1/ai_secret',
                headers: jsonHeaders(RACE_KEY),
                body: JSON.stringify({ name: p.name }),
                agent,
                timeoutMs: 5000,
              })
            : await http(server.port, {
                method: 'POST',
                path: '/v1/ai_secret',
                headers: jsonHeaders(RACE_KEY),
                body: JSON.stringify({ name: p.name, secret: `sk-rel-crash-${p.name}-Tz5` }),
                agent,
                timeoutMs: 5000,
              })
        report.requests++
        if (res.kind !== 'answer') return // the server is gone: p stays in flight
        inFlight.delete(p)
        if (res.status !== 200) {
          report.problems.push(`round ${round}: ${p.op} ${p.name}: ${res.status} ${res.body.slice(0, 200)}`)
          continue
        }
        firstWrite()
        if (p.op === 'delete') {
          report.confirmedDeletes++
          mustBeGone.add(p.name)
        } else {
          report.confirmedCreates++
          mustExist.add(p.name)
        }
      }
    }
    const workers = Array.from({ length: o.workers }, worker)
    const lifetime = r.range(o.minMs, o.maxMs)
    await Promise.race([flowing, new Promise((res) => setTimeout(res, 10_000))])
    await new Promise((res) => setTimeout(res, lifetime))
    server.child.kill('SIGKILL')
    dead = true
    const exit = await server.exited
    report.killedAfterMs.push(lifetime)
    report.kills++
    await Promise.all(workers)
    agent.destroy()
    if (exit.signal !== 'SIGKILL')
      report.problems.push(`round ${round}: the server ended with ${exit.code ?? exit.signal}, not SIGKILL`)

    // The file as the next start will find it.
    const file = new Database(db)
    try {
      const integrity = String(file.pragma('integrity_check', { simple: true }))
      report.integrity.push(integrity)
      if (integrity !== 'ok') report.problems.push(`round ${round}: integrity_check: ${integrity}`)
      const names = new Set(file.prepare('SELECT name FROM ai_secrets').pluck().all() as string[])
      for (const n of mustBeGone)
        if (names.has(n)) report.problems.push(`round ${round}: ${n} was deleted (200) and is back`)
      for (const n of mustExist) if (!names.has(n)) report.problems.push(`round ${round}: ${n} is lost`)
      for (const p of inFlight) {
        const committed = p.op === 'delete' ? !names.has(p.name) : names.has(p.name)
        if (committed) report.inFlightCommitted++
        else report.inFlightNotCommitted++
        // Whichever it was, it is settled now.
        if (names.has(p.name)) mustExist.add(p.name)
        else mustBeGone.add(p.name)
      }
      o.log?.(
        `  kill ${round}: after ${lifetime} ms, ${names.size} secrets, integrity ${integrity}, ${inFlight.size} in flight`,
      )
    } finally {
      file.close()
    }
  }

  // One more start: the mock serves what the file holds.
  const last = await startCli(['--db', db, '--seed', seed])
  try {
    const res = await http(last.port, {
      method: 'GET',
      path: '/v1/ai_secret',
      headers: { authorization: `Bearer ${RACE_KEY}` },
    })
    const shown =
      res.kind === 'answer' && res.status === 200
        ? new Set((JSON.parse(res.body) as { objects: { name: string }[] }).objects.map((s) => s.name))
        : null
    if (shown === null)
      report.problems.push(`after the last kill the list failed: ${JSON.stringify(res).slice(0, 200)}`)
    else {
      for (const n of mustExist) if (!shown.has(n)) report.problems.push(`after restart, ${n} is not listed`)
      for (const n of mustBeGone) if (shown.has(n)) report.problems.push(`after restart, deleted ${n} is listed`)
    }
    last.child.kill('SIGTERM')
    const e = await last.exited
    if (e.code !== 0) report.problems.push(`the last run exited ${e.code ?? e.signal}`)
  } finally {
    last.child.kill('SIGKILL')
  }
  return report
}
