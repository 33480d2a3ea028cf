// npm run reliability [-- --seed N --quick --control-steps N --only model,hostile,races,crash,stop,soak --out FILE]
//
// The long run of issue 7: the figures behind "nothing leaks, nothing is lost, nothing
// crashes". Every phase runs even if an earlier one failed; the summary at the end lists
// each phase's figures and problems, and the exit code is 1 if any phase had one.

import type { AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { buildApp } from '../../src/app.js'
import { args, numberArg, seedArg } from './args.js'
import { crashRuns } from '../../test/support/reliability/crash.js'
import {
  DEMO_KEYS,
  DEMO_SECRET_VALUES,
  HOSTILE_SECRET,
  brokenCases,
  canary,
  injectRun,
  injectSend,
  newHostileStats,
  rawRun,
  requestCases,
  type Send,
} from '../../test/support/reliability/hostile.js'
import { LeakWatch } from '../../test/support/reliability/leaks.js'
import { modelCampaign } from '../../test/support/reliability/model-run.js'
import { http } from '../../test/support/reliability/net.js'
import { RACE_KEY, RACE_SECRET, requireBuilt, startCli } from '../../test/support/reliability/proc.js'
import {
  createRace,
  deleteRace,
  httpFire,
  injectFire,
  newTally,
  twoProcessRaces,
} from '../../test/support/reliability/races.js'
import { gracefulStop } from '../../test/support/reliability/shutdown.js'
import { soak } from '../../test/support/reliability/soak.js'

const a = args()
const quick = a.has('quick')
const seed = seedArg(a)
const only = a.get('only')?.split(',') ?? ['model', 'hostile', 'races', 'crash', 'stop', 'soak']
const n = (name: string, full: number, small: number) => numberArg(a, name, quick ? small : full)
const cfg = {
  modelRuns: n('model-runs', 10_000, 200),
  hostileInject: n('hostile-inject', 10_000, 500),
  hostileHttp: n('hostile-http', 10_000, 300),
  hostileBroken: n('hostile-broken', 2_000, 200),
  raceRounds: n('race-rounds', 20, 3),
  storm: n('storm', 10_000, 1000),
  controlSteps: n('control-steps', 400, 40),
  kills: n('kills', 20, 3),
  stops: n('stops', 5, 2),
  soak: n('soak', 1_000_000, 90_000),
  soakWarmup: n('soak-warmup', 100_000, 30_000),
}

const log = (s: string) => process.stdout.write(`${s}\n`)
const summary: Record<string, Record<string, unknown>> = {}
const problems: Record<string, string[]> = {}
/** The secrets check over everything every phase produced. */
const secrets = { texts: 0, chars: 0, leaks: 0 }

function tallyLeaks(w: LeakWatch) {
  secrets.texts += w.texts
  secrets.chars += w.chars
}

async function phase(name: string, fn: () => Promise<void>) {
  if (!only.includes(name)) return
  const began = Date.now()
  log(`\n== ${name} ==`)
  problems[name] = []
  try {
    await fn()
  } catch (err) {
    problems[name]!.push(`the phase threw: ${(err as Error).stack ?? String(err)}`)
  }
  summary[name] = { ...summary[name], seconds: Math.round((Date.now() - began) / 100) / 10 }
  log(`   ${problems[name]!.length === 0 ? 'ok' : `${problems[name]!.length} PROBLEMS`} (${summary[name]!.seconds} s)`)
  for (const p of problems[name]!.slice(0, 10)) log(`   ! ${p.slice(0, 600)}`)
}

/** Adds the problems a phase found; a 5xx comes with the server's own log line about it. */
function sortOut(name: string, found: string[], logLines: string[]) {
  for (const p of found) {
    // A 5xx: the server's own log line about it says why.
    const id = /\[request_id=([^\]]+)\]/.exec(p)?.[1]
    const line =
      id === undefined
        ? undefined
        : logLines.find((l) => l.includes(`"request_id":"${id}"`) && /"level":(5\d|60)/.test(l))
    problems[name]!.push(line === undefined ? p : `${p}\n     server log: ${line.slice(0, 800)}`)
  }
}

function hostileWatch() {
  const leaks = new LeakWatch()
  for (const k of DEMO_KEYS) leaks.add(k, `api key ${k}`)
  for (const s of [...DEMO_SECRET_VALUES, HOSTILE_SECRET, 'sk-canary-value-Pq4Rw9']) leaks.add(s, 'secret value')
  leaks.add('c2stbW9jay1hY21lLW93bmVyOg==', 'basic credentials')
  const sink = {
    check: (text: string, where: string) =>
      leaks.check(text, where).map((l) => `${l.what} in ${l.where}: ${l.excerpt}`),
  }
  return { leaks, sink }
}

function raceWatch(lines: string[], where: string) {
  const leaks = new LeakWatch()
  leaks.add(RACE_KEY, 'race owner key')
  for (let i = 0; i < 3000; i++) leaks.add(RACE_SECRET(i), 'seeded secret value')
  const found = lines.flatMap((l) => leaks.check(l, where))
  tallyLeaks(leaks)
  secrets.leaks += found.length
  return found.map((l) => `LEAK ${l.what} in ${l.where}: ${l.excerpt}`)
}

log(`ai-secret-mock reliability run, seed ${seed}${quick ? ' (quick)' : ''}`)
log(JSON.stringify(cfg))
requireBuilt()
const began = Date.now()

await phase('model', async () => {
  const r = await modelCampaign({
    runs: cfg.modelRuns,
    seed,
    progress: { every: 1000, report: (d, s) => log(`   ${d} scenarios, ${s.requests} requests`) },
  })
  tallyLeaks(r.leaks)
  secrets.leaks += r.leaks.total
  summary.model = {
    scenarios: r.scenarios,
    freshApps: r.fresh,
    requests: r.stats.requests,
    statuses: r.stats.byStatus,
    logLines: r.logLines,
    journalReads: r.journalChecks,
    disagreements: r.failure === null ? 0 : 1,
  }
  if (r.failure !== null)
    problems.model!.push(`reproduce with npm run fuzz -- --seed ${seed} --runs ${cfg.modelRuns}\n${r.failure}`)
  for (const l of r.leaks.leaks) problems.model!.push(`LEAK ${JSON.stringify(l)}`)
})

await phase('hostile', async () => {
  // 1. inject, into an app logging at trace.
  const lines: string[] = []
  const stream = new Writable({
    write: (chunk, _enc, cb) => {
      lines.push(String(chunk))
      cb()
    },
  })
  const w = hostileWatch()
  const app = await buildApp({ db: ':memory:', logger: { level: 'trace', stream }, jwtSecret: 'hostile-jwt-secret' })
  const send = injectSend(app)
  const ids = (
    JSON.parse(
      (await send({ method: 'GET', url: '/v1/ai_secret', headers: { authorization: 'Bearer sk-mock-multi-org' } }))
        .body,
    ) as { objects: { id: string }[] }
  ).objects.map((o) => o.id)
  const inj = await injectRun(app, cfg.hostileInject, seed, { ids }, w.sink)
  const found = [...inj.problems, ...(await canary(send, 'inject'))]
  if (Object.keys(Object.prototype).length > 0)
    found.push(`Object.prototype polluted: ${Object.keys(Object.prototype).join(', ')}`)
  if (app.hasRoute({ method: 'GET', url: '/_mock/requests' }))
    found.push(
      ...w.sink
        .check((await app.inject({ method: 'GET', url: '/_mock/requests' })).body, 'journal')
        .map((l) => `LEAK ${l}`),
    )
  found.push(...lines.flatMap((l) => w.sink.check(l, 'log line')).map((l) => `LEAK ${l}`))
  await app.close()
  sortOut('hostile', found, lines)

  // 2. the built CLI, logging at trace, over raw sockets: the same kind of requests as bytes, and broken HTTP.
  const cli = await startCli(['--log-level', 'trace'], { JWT_SECRET: 'hostile-jwt-secret' })
  const cliSend: Send = async (o) => {
    const r = await http(cli.port, { method: o.method, path: o.url, headers: o.headers, body: o.payload })
    return r.kind === 'answer' ? { status: r.status, body: r.body } : { status: 0, body: JSON.stringify(r) }
  }
  const w2 = hostileWatch()
  const raw = newHostileStats()
  await rawRun(cli.port, requestCases(cfg.hostileHttp, seed + 1, { ids }), 8, w2.sink, raw)
  await rawRun(cli.port, brokenCases(cfg.hostileBroken, seed + 2, { ids }), 8, w2.sink, raw)
  const found2 = [...raw.problems, ...(await canary(cliSend, 'cli'))]
  const journal = await http(cli.port, { method: 'GET', path: '/_mock/requests' })
  if (journal.kind === 'answer' && journal.status === 200)
    found2.push(...w2.sink.check(journal.body, 'journal').map((l) => `LEAK ${l}`))
  cli.child.kill('SIGTERM')
  const exit = await cli.exited
  if (exit.code !== 0) found2.push(`the CLI exited ${exit.code ?? exit.signal} after the hostile run`)
  found2.push(
    ...cli
      .logLines()
      .flatMap((l) => w2.sink.check(l, 'CLI log line'))
      .map((l) => `LEAK ${l}`),
  )
  sortOut('hostile', found2, cli.logLines())
  for (const w0 of [w, w2]) {
    tallyLeaks(w0.leaks)
    secrets.leaks += w0.leaks.total
  }
  const fivexx = (s: Record<string, number>) =>
    Object.entries(s)
      .filter(([k]) => Number(k) >= 500)
      .reduce((x, [, v]) => x + v, 0)
  summary.hostile = {
    inject: {
      requests: inj.sent,
      unsendableByInject: inj.unsendable,
      statuses: inj.byStatus,
      families: inj.byFamily,
      fiveXX: fivexx(inj.byStatus),
    },
    rawSockets: {
      requests: raw.sent,
      statuses: raw.byStatus,
      closedWithoutAnswer: raw.unanswered,
      fiveXX: fivexx(raw.byStatus),
    },
    cliExit: exit.code,
    traceLogLines: lines.length + cli.logLines().length,
  }
})

await phase('races', async () => {
  // One process: inject and real connections.
  const secretsN = cfg.raceRounds * 2 + 1
  const app = await buildApp({
    db: ':memory:',
    seed: {
      organizations: [{ name: 'race' }],
      users: [{ email: 'o@race.test', memberships: { race: 'owner' } }],
      api_keys: [{ key: RACE_KEY, user: 'o@race.test' }],
      ai_secrets: Array.from({ length: secretsN }, (_, i) => ({ org: 'race', name: `r-${i}`, secret: RACE_SECRET(i) })),
    },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const list = await app.inject({
    method: 'GET',
    url: '/v1/ai_secret',
    headers: { authorization: `Bearer ${RACE_KEY}` },
  })
  const byName = new Map(
    (list.json() as { objects: { id: string; name: string }[] }).objects.map((s) => [s.name, s.id]),
  )
  const inj = newTally()
  const sock = newTally()
  const port = (app.server.address() as AddressInfo).port
  for (let i = 0; i < cfg.raceRounds; i++)
    await deleteRace([injectFire(app)], 100, RACE_KEY, `r-${i}`, byName.get(`r-${i}`)!, inj)
  for (let i = cfg.raceRounds; i < 2 * cfg.raceRounds; i++)
    await deleteRace([httpFire(port)], 100, RACE_KEY, `r-${i}`, byName.get(`r-${i}`)!, sock)
  const made = newTally()
  await createRace([httpFire(port)], 100, RACE_KEY, 'made-once', made)
  await app.close()
  const two = await twoProcessRaces({
    rounds: cfg.raceRounds,
    n: 100,
    storm: cfg.storm,
    seed,
    controlSteps: cfg.controlSteps,
  })
  problems.races!.push(
    ...inj.problems,
    ...sock.problems,
    ...made.problems,
    ...two.deletes.problems,
    ...two.creates.problems,
    ...two.storm.problems.slice(0, 20),
    ...two.agreement.problems.slice(0, 20),
    ...two.stormDuringControl.problems.slice(0, 20),
    ...two.errorLogs.slice(0, 5),
  )
  problems.races!.push(...raceWatch(two.logLines, 'log line of a racing CLI'))
  if (two.integrity !== 'ok') problems.races!.push(`integrity_check: ${two.integrity}`)
  if (two.exitCodes.some((c) => c !== 0)) problems.races!.push(`exit codes ${two.exitCodes.join(', ')}`)
  const ones = (w: number[]) => `${w.filter((x) => x === 1).length}/${w.length}`
  summary.races = {
    oneProcessInject: {
      rounds: inj.rounds,
      concurrent: 100,
      roundsWithExactlyOne200: ones(inj.winners),
      statuses: inj.byStatus,
    },
    oneProcessSockets: {
      rounds: sock.rounds,
      concurrent: 100,
      roundsWithExactlyOne200: ones(sock.winners),
      statuses: sock.byStatus,
      createRace: ones(made.winners),
    },
    twoProcesses: {
      rounds: two.deletes.rounds,
      concurrent: 100,
      roundsWithExactlyOne200: ones(two.deletes.winners),
      statuses: two.deletes.byStatus,
      createRaces: ones(two.creates.winners),
      storm: { requests: two.storm.requests, statuses: two.storm.byStatus, unexpected: two.storm.problems.length },
      controlPlane: {
        steps: two.agreement.steps,
        checks: two.agreement.checks,
        disagreements: two.agreement.problems.length,
        stormMeanwhile: {
          requests: two.stormDuringControl.requests,
          statuses: two.stormDuringControl.byStatus,
          unexpected: two.stormDuringControl.problems.length,
        },
      },
      integrity: two.integrity,
      exitCodes: two.exitCodes,
    },
  }
})

await phase('crash', async () => {
  const r = await crashRuns({
    kills: cfg.kills,
    secrets: Math.max(3000, cfg.kills * 400),
    workers: 8,
    minMs: 100,
    maxMs: 1500,
    seed,
    log,
  })
  problems.crash!.push(...r.problems)
  summary.crash = {
    kills: r.kills,
    requests: r.requests,
    confirmedDeletes: r.confirmedDeletes,
    confirmedCreates: r.confirmedCreates,
    inFlightAtKill: { committed: r.inFlightCommitted, notCommitted: r.inFlightNotCommitted },
    integrityOk: `${r.integrity.filter((x) => x === 'ok').length}/${r.integrity.length}`,
    killedAfterMs: r.killedAfterMs,
    restartMs: { min: Math.min(...r.restartMs), max: Math.max(...r.restartMs) },
    lostOrUndone: r.problems.length,
  }
})

await phase('stop', async () => {
  const runs = []
  for (let i = 0; i < cfg.stops; i++) {
    const r = await gracefulStop({ workers: 16, probes: 8, seed: seed + i, warmMs: 300 + 300 * i })
    problems.stop!.push(...r.problems, ...raceWatch(r.logLines, 'log line of a stopping CLI'))
    runs.push(r)
  }
  summary.stop = {
    runs: runs.length,
    exitCodes: runs.map((r) => r.exitCode),
    stopMs: runs.map((r) => r.stopMs),
    inFlightAnswered: `${runs.reduce((x, r) => x + r.inFlightAnswered, 0)}/${runs.reduce((x, r) => x + r.inFlight, 0)}`,
    backgroundOutcomes: runs.map((r) => r.byOutcome),
  }
})

await phase('soak', async () => {
  const r = await soak({ total: cfg.soak, warmup: cfg.soakWarmup, connections: 16, log })
  problems.soak!.push(...r.problems)
  secrets.texts += r.leaksChecked
  secrets.leaks += r.leaks
  summary.soak = {
    requests: r.requests,
    seconds: Math.round(r.seconds),
    rps: r.rps,
    statuses: r.byStatus,
    errors: r.errors,
    rssMiB: { start: +r.rssStartMiB.toFixed(1), maxBetweenCollections: +r.rssMaxBetweenGcMiB.toFixed(1) },
    rssAfterFullGcMiB: {
      afterWarmup: +r.rssAfterWarmupMiB.toFixed(1),
      max: +r.rssMaxMiB.toFixed(1),
      end: +r.rssEndMiB.toFixed(1),
      readings: r.readingsAfterWarmup,
    },
    growthOverWarmupPct: +r.growthPct.toFixed(1),
    trendMiBPer100kRequests: +r.trendMiBPer100k.toFixed(2),
    heapUsedAfterFullGcMiB: {
      afterWarmup: +r.heapUsedMiB.level.toFixed(1),
      max: +r.heapUsedMiB.max.toFixed(1),
      end: +r.heapUsedMiB.end.toFixed(1),
    },
  }
})

// --- the summary ----------------------------------------------------------------------------

const failed = Object.entries(problems).filter(([, p]) => p.length > 0)
const minutes = ((Date.now() - began) / 60_000).toFixed(1)
summary.secrets = {
  textsSearched: secrets.texts,
  megabytes: Math.round(secrets.chars / 1e6),
  leaksFound: secrets.leaks,
}
log(`\n===== reliability summary (seed ${seed}, ${minutes} min) =====`)
for (const [k, v] of Object.entries(summary)) log(`${k}: ${JSON.stringify(v)}`)
log(failed.length === 0 ? '\nALL PHASES OK' : `\nFAILED: ${failed.map(([k, p]) => `${k} (${p.length})`).join(', ')}`)
const out = a.get('out')
if (out !== undefined)
  writeFileSync(out, JSON.stringify({ seed, quick, cfg, minutes: Number(minutes), summary, problems }, null, 2))
process.exit(failed.length === 0 ? 0 : 1)
