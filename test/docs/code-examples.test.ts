// The doc test, the blocks of README.md and docs/*.md that are code to copy (the list of marks:
// examples.test.ts).
//   <!-- doctest: node-test FILE -->  written to FILE in a project with the package installed;
//                                     `node --test FILE` must pass.
//   <!-- doctest: module NAME -->     code to copy: run with the driver NAME below appended,
//                                     MOCK_URL pointing at a fresh instance.

import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import t from 'tap'
import { BLOCKS, at, cleanEnv, readerDir, runProgram, startInstance } from '../support/docs.js'

/** For a block marked module NAME: code that uses what the block defines and checks what the page says of it. */
const DRIVERS: Record<string, string> = {
  workers: `
// --- the doc test's driver: two workers against one instance ------------------------------------
import assert from 'node:assert/strict'
const a = await setUpWorker('a')
const b = await setUpWorker('b')
const list = (w) => fetch(MOCK_URL + '/v1/ai_secret', { headers: { authorization: 'Bearer ' + w.key } }).then((r) => r.json())
const mine = await list(a)
assert.deepEqual(mine.objects.map((s) => s.name), ['OPENAI_API_KEY'], 'a worker sees its own secret, no other')
const theirs = (await list(b)).objects[0].id
const steal = await fetch(MOCK_URL + '/v1/ai_secret/' + theirs, { method: 'DELETE', headers: { authorization: 'Bearer ' + a.key } })
assert.notEqual(steal.status, 200, "a worker cannot delete another's secret")
await faultFor(a.key, { status: 500, times: 1 })
assert.equal((await fetch(MOCK_URL + '/v1/ai_secret', { headers: { authorization: 'Bearer ' + b.key } })).status, 200, "a's fault leaves b alone")
assert.equal((await fetch(MOCK_URL + '/v1/ai_secret', { headers: { authorization: 'Bearer ' + a.key } })).status, 500, "a's fault hits a")
const journal = await journalOf(a.org)
assert.ok(journal.length >= 3 && journal.every((e) => e.org === a.org), "a's journal holds a's requests only")
console.log('workers: ok')
`,
}

for (const b of BLOCKS.filter((b) => b.mark?.kind === 'node-test')) {
  const file = b.mark!.args[0] ?? 'example.test.mjs'
  t.test(`${at(b.file, b.line)}: the node:test example passes (node --test ${file})`, async (t) => {
    const { cwd } = readerDir()
    mkdirSync(dirname(join(cwd, file)), { recursive: true })
    writeFileSync(join(cwd, file), b.lines.join('\n'))
    const r = await runProgram(process.execPath, ['--test', file], { cwd, env: cleanEnv(), timeoutMs: 100_000 })
    t.equal(
      r.status,
      0,
      `${at(b.file, b.line)}: node --test ${file} exits 0${r.status === 0 ? '' : `; it printed:\n${r.output}`}`,
    )
  })
}

for (const b of BLOCKS.filter((b) => b.mark?.kind === 'module')) {
  const name = b.mark!.args[0] ?? ''
  t.test(`${at(b.file, b.line)}: the code to copy works (driver ${name})`, async (t) => {
    const driver = DRIVERS[name]
    if (driver === undefined)
      return t.fail(`${at(b.file, b.mark!.line)}: no driver "${name}" in test/docs/code-examples.test.ts`)
    const { cwd } = readerDir()
    const instance = await startInstance([])
    try {
      writeFileSync(join(cwd, 'example.mjs'), `${b.lines.join('\n')}\n${driver}`)
      const r = await runProgram(process.execPath, ['example.mjs'], {
        cwd,
        env: cleanEnv({ MOCK_URL: instance.url }),
        timeoutMs: 60_000,
      })
      t.equal(
        r.status,
        0,
        `${at(b.file, b.line)}: the block, then driver ${name}, exits 0${r.status === 0 ? '' : `; it printed:\n${r.output}`}`,
      )
    } finally {
      await instance.stop()
    }
  })
}
