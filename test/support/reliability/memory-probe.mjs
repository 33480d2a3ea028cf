// Loaded into the CLI under soak (node --expose-gc --import this-file dist/cli.mjs), never by
// the product. On each SIGUSR2 it forces a full garbage collection and appends the process's
// memory right after it to the file SOAK_MEMORY_FILE names, one JSON line (bytes; `at` in epoch ms):
//   {"at": 1796052689567, "rss": 114032640, "heapTotal": 53215232, "heapUsed": 15204352, "external": 2726297}
// RSS read between collections also holds garbage V8 has not collected yet, whose amount follows
// V8's heap sizing, not what the process keeps; RSS right after a full collection does not.
import { appendFileSync } from 'node:fs'

const file = process.env.SOAK_MEMORY_FILE
if (file === undefined || file === '') throw new Error('memory-probe: SOAK_MEMORY_FILE is not set')
if (typeof globalThis.gc !== 'function') throw new Error('memory-probe: run node with --expose-gc')
process.on('SIGUSR2', () => {
  globalThis.gc()
  const m = process.memoryUsage()
  appendFileSync(
    file,
    `${JSON.stringify({ at: Date.now(), rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external })}\n`,
  )
})
