// Crash safety and graceful stop (issue 7), with the built CLI on real sockets.
// kill -9 under a load of deletes: integrity_check ok, no confirmed delete undone, nothing
// else lost. SIGTERM under load: in-flight requests answered, exit 0 within 2 s.
// The long run does 20 kills.
import t from 'tap'
import { crashRuns } from '../support/reliability/crash.js'
import { LeakWatch } from '../support/reliability/leaks.js'
import { RACE_KEY } from '../support/reliability/proc.js'
import { gracefulStop } from '../support/reliability/shutdown.js'

const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31)
const KILLS = Number(process.env.RELIABILITY_KILLS ?? 3)

t.test(`kill -9 at random moments under a load of deletes, ${KILLS} times (seed ${SEED})`, async (t) => {
  const r = await crashRuns({ kills: KILLS, secrets: 3000, workers: 8, minMs: 150, maxMs: 700, seed: SEED })
  t.comment(
    `${r.requests} requests; ${r.confirmedDeletes} deletes and ${r.confirmedCreates} creates confirmed; in flight at the kills: ${r.inFlightCommitted} committed, ${r.inFlightNotCommitted} not; killed after ${r.killedAfterMs.join(', ')} ms`,
  )
  t.equal(r.kills, KILLS)
  t.same(r.integrity, Array(KILLS).fill('ok'), 'PRAGMA integrity_check after every kill')
  t.ok(r.confirmedDeletes > 0 && r.confirmedCreates > 0, 'the load did delete and create')
  t.same(
    r.problems.slice(0, 10),
    [],
    `no confirmed delete undone, no confirmed create or untouched secret lost (RELIABILITY_SEED=${SEED})`,
  )
})

t.test('SIGTERM under load: in-flight requests finish, exit 0 within 2 s', async (t) => {
  for (const warmMs of [300, 800]) {
    const r = await gracefulStop({ workers: 16, probes: 8, seed: SEED + warmMs, warmMs })
    t.comment(
      `SIGTERM after ${warmMs} ms of load: stopped in ${r.stopMs} ms; background load: ${r.requests} requests: ${JSON.stringify(r.byOutcome)}`,
    )
    t.equal(r.exitCode, 0, 'exit code 0')
    t.ok(r.stopMs < 2000, `stopped within 2 s (${r.stopMs} ms)`)
    t.equal(r.inFlight, 8, 'the journal showed 8 probes received and unanswered at SIGTERM')
    t.equal(r.inFlightAnswered, r.inFlight, 'every one of them got its complete answer')
    t.same(r.problems, [], 'no answer cut off, none hung, no 5xx but 503 while closing')
    const leaks = new LeakWatch()
    leaks.add(RACE_KEY, 'the API key')
    leaks.add('sk-rel-stop-', 'a written secret value')
    t.same(
      r.logLines.flatMap((l) => leaks.check(l, 'log line')),
      [],
      `no key or secret value in the server's ${r.logLines.length} log lines`,
    )
  }
})
