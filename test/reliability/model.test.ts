// Model-based property test (issue 7): random worlds and random sequences of operations
// by random keys; the server must answer as the plain model of the rules does, and never
// let a key read, change or delete what it may not. Operations also choose organizations by
// the x-bt-org-name header, page through lists while deleting (as the official clients'
// auto-pagination does), and meet fault rules before and after the handler (issue 12).
// `npm run fuzz` runs the long version.
import t from 'tap'
import { modelCampaign } from '../support/reliability/model-run.js'

const RUNS = Number(process.env.RELIABILITY_MODEL_RUNS ?? 300)
const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31)

t.test(`model: ${RUNS} random scenarios agree with the model of the rules (seed ${SEED})`, async (t) => {
  const r = await modelCampaign({ runs: RUNS, seed: SEED })
  t.equal(
    r.failure,
    null,
    `reproduce with RELIABILITY_SEED=${SEED} npx tap --disable-coverage test/reliability/model.test.ts`,
  )
  if (r.failure !== null) return
  t.ok(
    r.scenarios >= RUNS,
    `${r.scenarios} scenarios (${r.fresh} on a freshly built app), ${r.stats.requests} requests in ${r.ms} ms`,
  )
  t.comment(`outcomes ${JSON.stringify(r.stats.byOutcome)}`)
  // The run reached every rule: each operation both succeeded and was refused.
  for (const op of ['create', 'put', 'patch', 'get', 'list', 'deleteName', 'deleteId']) {
    const outcomes = Object.keys(r.stats.byOutcome).filter((o) => o.startsWith(`${op} `))
    t.ok(outcomes.includes(`${op} 200`) && outcomes.some((o) => !o.endsWith(' 200')), `${op}: ${outcomes.join(', ')}`)
  }
  // ... and the workflows of issue 12: the org header, pagination over deleted secrets, faults before and after the
  // handler.
  t.comment(`features ${JSON.stringify(r.stats.byFeature)}`)
  for (const feature of [
    'x-bt-org-name',
    'x-bt-org-name conflict',
    'cursor of a deleted secret',
    'fault before status',
    'fault before drop',
    'fault after status',
    'fault after drop',
  ]) {
    t.ok((r.stats.byFeature[feature] ?? 0) > 0, `${feature}: ${r.stats.byFeature[feature] ?? 0}`)
  }
  t.ok(
    r.leaks.texts > r.stats.requests,
    `${r.leaks.texts} texts (answers, ${r.logLines} trace log lines, ${r.journalChecks} journal reads) searched for ${r.leaks.size} secret values and keys`,
  )
  t.same(r.leaks.leaks, [], 'no secret value, key or Authorization value anywhere')
})
