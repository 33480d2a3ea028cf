// Graceful stop: SIGTERM to the CLI under load. Requests in flight finish with complete
// answers; afterwards connections are refused; the process exits 0 within 2 s. No answer
// may be cut off half-way.
//
// "In flight" is proven, not guessed: probe requests with `Prefer: delay=` are sent, and
// SIGTERM goes out only once the server's journal lists them as arrived and unanswered.

import { Agent } from 'node:http'
import { http, jsonHeaders, type HttpOpts, type Outcome } from './net.js'
import { RACE_KEY, startCli, tempDir, writeSeed } from './proc.js'
import { Rng } from './rng.js'

export interface StopReport {
  exitCode: number | null
  /** From SIGTERM to the exit of the process. */
  stopMs: number
  /** Background load: every request and how it ended. */
  requests: number
  byOutcome: Record<string, number>
  /** Probes the server had received and not answered at SIGTERM: all must be answered, completely. */
  inFlight: number
  inFlightAnswered: number
  /** The server's log lines (info level), for the secrets check. */
  logLines: string[]
  problems: string[]
}

export async function gracefulStop(o: {
  workers: number
  probes: number
  seed: number
  warmMs: number
}): Promise<StopReport> {
  const r = new Rng(o.seed)
  const dir = tempDir('rel-stop-')
  // At info level the server logs one line per answer, with its request id.
  const server = await startCli(['--seed', writeSeed(dir, 2000, 'stop'), '--log-level', 'info'])
  const problems: string[] = []
  const background: { id: string; oc: Outcome }[] = []
  let stop = false
  let refused = false

  const load = (i: number): HttpOpts => {
    const op = r.int(4)
    const base =
      op === 0
        ? { method: 'GET', path: '/v1/ai_secret?limit=5' }
        : op === 1
          ? { method: 'DELETE', path: '/v1/ai_secret', body: JSON.stringify({ name: `stop-${r.int(2000)}` }) }
          : op === 2
            ? {
                method: 'POST',
                path: '/v1/ai_secret',
                body: JSON.stringify({ name: `new-${i}`, secret: `sk-rel-stop-${i}-Wm4` }),
              }
            : { method: 'GET', path: '/v1/ai_secret/00000000-0000-4000-8000-000000000000' }
    return { ...base, headers: { ...jsonHeaders(RACE_KEY), 'x-request-id': `bg-${o.seed}-${i}` }, timeoutMs: 5000 }
  }
  const keepAlive = new Agent({ keepAlive: true, maxSockets: o.workers })
  const worker = async (w: number) => {
    for (let i = 0; !stop && !refused; i++) {
      const req = load(w * 1_000_000 + i)
      const oc = await http(server.port, { ...req, agent: i % 2 === 0 ? keepAlive : false })
      background.push({ id: req.headers!['x-request-id']!, oc })
      if (oc.kind === 'refused') refused = true
    }
  }
  const workers = Array.from({ length: o.workers }, (_, w) => worker(w))
  await new Promise((res) => setTimeout(res, o.warmMs))

  // Probes: received by the server (the journal shows them, unanswered) before SIGTERM.
  const probeAgent = new Agent({ keepAlive: true, maxSockets: o.probes })
  const ids = Array.from({ length: o.probes }, (_, i) => `stop-probe-${o.seed}-${i}`)
  const probes = ids.map((id) =>
    http(server.port, {
      method: 'GET',
      path: '/v1/ai_secret?limit=3',
      headers: { ...jsonHeaders(RACE_KEY), prefer: 'delay=800', 'x-request-id': id },
      agent: probeAgent,
      timeoutMs: 10_000,
    }),
  )
  let arrived = 0
  for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
    const j = await http(server.port, { method: 'GET', path: '/_mock/requests?path=/v1/ai_secret', timeoutMs: 5000 })
    if (j.kind === 'answer' && j.status === 200) {
      const entries = (JSON.parse(j.body) as { requests: { id: string; status: number | null }[] }).requests
      arrived = entries.filter((e) => ids.includes(e.id) && e.status === null).length
      if (arrived === ids.length) break
    }
    await new Promise((res) => setTimeout(res, 20))
  }
  if (arrived !== ids.length) problems.push(`only ${arrived} of ${ids.length} probes reached the server before SIGTERM`)

  const sigAt = Date.now()
  server.child.kill('SIGTERM')
  const exit = await server.exited
  stop = true
  const probed = await Promise.all(probes)
  await Promise.all(workers)
  keepAlive.destroy()
  probeAgent.destroy()

  const byOutcome: Record<string, number> = {}
  const answered = new Set(
    server.logLines().flatMap((l) => /"request_id":"([^"]+)".*"msg":"request"/.exec(l)?.[1] ?? []),
  )
  for (const { id, oc } of background) {
    // A connection closed before any byte of an answer: the server must never have answered that request.
    if (oc.kind === 'reset' && answered.has(id)) problems.push(`the server answered ${id}, the client saw a reset`)
    const k =
      oc.kind === 'answer'
        ? `answer ${oc.status}`
        : oc.kind === 'reset'
          ? `reset before any answer (${oc.code})`
          : oc.kind
    byOutcome[k] = (byOutcome[k] ?? 0) + 1
    if (oc.kind === 'truncated') problems.push(`an answer was cut off: ${JSON.stringify(oc)}`)
    if (oc.kind === 'timeout') problems.push('a request hung')
    if (oc.kind === 'answer' && oc.status >= 500 && oc.status !== 503)
      problems.push(`${oc.status}: ${oc.body.slice(0, 200)}`)
  }
  let inFlightAnswered = 0
  for (const [i, p] of probed.entries()) {
    if (p.kind === 'answer' && p.status === 200 && (JSON.parse(p.body) as { objects: unknown[] }).objects.length === 3)
      inFlightAnswered++
    else problems.push(`probe ${i}, in flight at SIGTERM, got ${JSON.stringify(p).slice(0, 200)}`)
  }
  const stopMs = exit.at - sigAt
  if (exit.code !== 0) problems.push(`exit code ${exit.code ?? exit.signal}`)
  if (stopMs > 2000) problems.push(`took ${stopMs} ms to stop`)
  return {
    exitCode: exit.code,
    stopMs,
    requests: background.length,
    byOutcome,
    inFlight: arrived,
    inFlightAnswered,
    logLines: server.logLines(),
    problems,
  }
}
