// npm run fuzz [-- --runs 10000 --seed N --max-ops 30]: the long model-based campaign.
import { args, numberArg, seedArg } from './args.js'
import { modelCampaign } from '../../test/support/reliability/model-run.js'

const a = args()
const runs = numberArg(a, 'runs', 10_000)
const seed = seedArg(a)
const maxOps = numberArg(a, 'max-ops', 30)
process.stdout.write(`model-based fuzz: ${runs} scenarios of up to ${maxOps} operations, seed ${seed}\n`)
const r = await modelCampaign({
  runs,
  seed,
  maxOps,
  progress: { every: 1000, report: (done, s) => process.stdout.write(`  ${done} scenarios, ${s.requests} requests\n`) },
})
const line = `${r.scenarios} scenarios (${r.fresh} on freshly built apps), ${r.stats.requests} requests in ${(r.ms / 1000).toFixed(1)} s; statuses ${JSON.stringify(r.stats.byStatus)}`
process.stdout.write(
  `${line}\nsecrets check: ${r.leaks.texts} texts (${r.logLines} trace log lines, ${r.journalChecks} journal reads), ${r.leaks.leaks.length} leaks\n`,
)
if (r.failure !== null || r.leaks.leaks.length > 0) {
  process.stdout.write(
    `FAILED (reproduce with: npm run fuzz -- --seed ${seed} --runs ${runs})\n${r.failure ?? JSON.stringify(r.leaks.leaks, null, 2)}\n`,
  )
  process.exit(1)
}
process.stdout.write(
  `model-based fuzz: ${r.scenarios} scenarios agree with the model, 0 disagreements, 0 leaks (seed ${seed})\n`,
)
