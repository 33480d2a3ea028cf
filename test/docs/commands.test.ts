// The doc test, the commands README.md and docs/*.md give to run in this checkout (the list of
// marks: examples.test.ts), in a file of their own for time: the reproduce line runs tap itself.
//   <!-- doctest: run <x>=value … --> each line run in this checkout, placeholders filled; exit 0.
// They run in a linked copy of the checkout (every top-level entry a symlink, but no .tap):
// tap keeps its run state and coverage in the project's .tap directory, and a tap started in
// the checkout itself would clear the coverage of the `npm test` that runs this file.

import { mkdtempSync, readdirSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { BLOCKS, at, cleanEnv, runProgram } from '../support/docs.js'

function linkedCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'docs-checkout-'))
  for (const name of readdirSync(PACKAGE_ROOT))
    if (name !== '.tap' && name !== '.git') symlinkSync(join(PACKAGE_ROOT, name), join(dir, name))
  return dir
}

for (const b of BLOCKS.filter((b) => b.mark?.kind === 'run')) {
  t.test(`${at(b.file, b.line)}: the commands run in this checkout`, async (t) => {
    const checkout = linkedCheckout()
    const fill = new Map(b.mark!.args.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]))
    for (const [i, l] of b.lines.entries()) {
      if (l.trim() === '' || l.trim().startsWith('#')) continue
      const command = l.replace(/<[a-z-]+>/g, (p) => fill.get(p) ?? p)
      const left = /<[a-z-]+>/.exec(command)
      if (left !== null) {
        t.fail(
          `${at(b.file, b.line + 1 + i)}: no value for ${left[0]} in the mark (<!-- doctest: run ${left[0]}=… -->)`,
        )
        continue
      }
      const r = await runProgram('bash', ['-c', command], { cwd: checkout, env: cleanEnv(), timeoutMs: 100_000 })
      t.equal(
        r.status,
        0,
        `${at(b.file, b.line + 1 + i)}: ${command} exits 0${r.status === 0 ? '' : `; it printed:\n${r.output}`}`,
      )
    }
  })
}
