import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { PACKAGE_ROOT } from '../../src/paths.js'

// `ai-secret-mock/msw` as a user gets it (npm test builds dist/ first): both module formats,
// with the msw the caller has (the project's msw 2 here; scripts/consumer-smoke.sh installs the
// packed tarball beside msw 2 and msw 3), and the other entries, which never load msw.

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, Record<string, { types: string; default: string }>>
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional: boolean }>
  dependencies: Record<string, string>
}

/**
 * Runs a script with plain `node` in the package's folder, where `ai-secret-mock` names the package itself (its
 * exports).
 */
function node(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: PACKAGE_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } })
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.status}\n${r.stderr}`)
  return r.stdout
}

t.test(
  'msw is an optional peer dependency, 2.x or 3.x, and the entry is exported for import and require',
  async (t) => {
    t.same(pkg.peerDependencies, { msw: '^2.0.0 || ^3.0.0' })
    t.same(pkg.peerDependenciesMeta, { msw: { optional: true } })
    t.notOk('msw' in pkg.dependencies)
    t.same(pkg.exports['./msw'], {
      import: { types: './dist/msw.d.ts', default: './dist/msw.mjs' },
      require: { types: './dist/msw.d.cts', default: './dist/msw.cjs' },
    })
  },
)

const USE = `
  const mock = await createMswMock({ logger: false })
  const server = setupServer(...mock.handlers)
  server.listen({ onUnhandledRequest: 'error' })
  const del = () => fetch('https://api.braintrust.dev/v1/ai_secret', {
    method: 'DELETE',
    headers: { authorization: 'Bearer ' + mock.apiKeys.byOrg.acme.owner, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
  })
  const first = await del()
  await mock.fault({ drop: true, times: 1 })
  const dropped = await del().then(() => 'answered', (e) => e.name)
  const second = await del()
  const refused = await mock.seed({ api_keys: [{ key: 'k', user: 'nobody' }] }).catch((e) => e instanceof main.MockControlError)
  server.close()
  await mock.close()
  process.stdout.write(JSON.stringify({ names, first: first.status, dropped, second: second.status, refused }))
`

t.test(
  'require() and import of ai-secret-mock/msw: handlers for setupServer, one core with the main entry',
  async (t) => {
    const expected = {
      names: ['MockControlError', 'SeedError', 'createMswMock'],
      first: 200,
      dropped: 'TypeError',
      second: 400,
      refused: true,
    }
    const fromCjs = node([
      '-e',
      `const m = require('ai-secret-mock/msw'); const main = require('ai-secret-mock'); const { createMswMock } = m
     const { setupServer } = require('msw/node'); const names = Object.keys(m).sort(); (async () => { ${USE} })()`,
    ])
    t.same(JSON.parse(fromCjs), expected, 'require')
    const fromEsm = node([
      '--input-type=module',
      '-e',
      `import * as m from 'ai-secret-mock/msw'; import * as main from 'ai-secret-mock'; import { setupServer } from 'msw/node'
     const { createMswMock } = m; const names = Object.keys(m).sort(); ${USE}`,
    ])
    t.same(JSON.parse(fromEsm), expected, 'import')
  },
)

t.test('the other entries never load msw', async (t) => {
  for (const file of ['index.cjs', 'index.mjs', 'core.cjs', 'load-core.cjs', 'cli.mjs']) {
    const source = readFileSync(join(PACKAGE_ROOT, 'dist', file), 'utf8')
    t.notMatch(source, /require\(["']msw["']\)|import\(["']msw["']\)|from ["']msw["']/, `dist/${file} loads no msw`)
  }
  const loaded = node([
    '-e',
    `const m = require('ai-secret-mock')
     m.startMockServer().then(async (s) => {
       await m.buildApp().then((app) => app.close())
       await s.close()
       process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('/node_modules/msw/'))))
     })`,
  ])
  t.same(JSON.parse(loaded), [], 'a run of the main entry requires nothing of msw')
})

t.test(
  'the declarations: msw\u2019s types only, and they type-check a suite (skipLibCheck false, CJS and ESM)',
  async (t) => {
    const dts = readFileSync(join(PACKAGE_ROOT, 'dist', 'msw.d.ts'), 'utf8')
    t.same(
      dts.match(/^import .*$/gm),
      ["import { HttpHandler } from 'msw';"],
      'one import, of msw (the peer this entry needs)',
    )
    t.equal(readFileSync(join(PACKAGE_ROOT, 'dist', 'msw.d.cts'), 'utf8'), dts)

    const dir = mkdtempSync(join(tmpdir(), 'consumer-msw-types-'))
    const installed = join(dir, 'node_modules', 'ai-secret-mock')
    mkdirSync(join(installed, 'dist'), { recursive: true })
    writeFileSync(join(installed, 'package.json'), JSON.stringify(pkg))
    for (const f of ['msw.d.ts', 'msw.d.cts'])
      writeFileSync(join(installed, 'dist', f), readFileSync(join(PACKAGE_ROOT, 'dist', f)))
    symlinkSync(join(PACKAGE_ROOT, 'node_modules', 'msw'), join(dir, 'node_modules', 'msw'))
    const body = `
    export async function main(): Promise<number> {
      const mock: MswMock = await createMswMock({ baseUrl: 'http://localhost:3000', seed: false, deterministic: true })
      const server = setupServer(...mock.handlers)
      server.listen()
      const rule: FaultRule = await mock.fault({ method: 'DELETE', drop: true })
      const journal: JournalEntry[] = await mock.requests({ path: '/v1/*' })
      const url: string = mock.baseUrl
      server.close()
      try { await mock.reset() } catch (err) { if (err instanceof MockControlError) return err.status }
      await mock.close()
      return rule.matched + journal.length + url.length + mock.apiKeys.list.length
    }
  `
    const imports =
      "import { createMswMock, MockControlError, type FaultRule, type JournalEntry, type MswMock } from 'ai-secret-mock/msw'\nimport { setupServer } from 'msw/node'\n"
    writeFileSync(join(dir, 'esm.mts'), `${imports}${body}`)
    writeFileSync(join(dir, 'cjs.cts'), `${imports}${body}`)
    writeFileSync(
      join(dir, 'wrong.mts'),
      "import { createMswMock } from 'ai-secret-mock/msw'\nexport const p = createMswMock({ baseURL: 'x' })\n",
    )
    const tsconfig = (files: string[]) =>
      JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          // msw's own declarations name DOM types (Request, EventTarget): its users compile with them.
          lib: ['es2022', 'dom'],
          types: [],
        },
        files,
      })
    const tsc = join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    // One program (a tsc run over msw's types costs seconds): the two suites must compile clean,
    // the misspelt option must be the one error.
    writeFileSync(join(dir, 'tsconfig.json'), tsconfig(['esm.mts', 'cjs.cts', 'wrong.mts']))
    const run = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' })
    const errors = run.stdout.split('\n').filter((l) => /error TS\d+/.test(l))
    t.same(
      errors.filter((l) => !l.startsWith('wrong.mts')),
      [],
      'the CJS and ESM suites type-check (skipLibCheck false)',
    )
    t.equal(errors.length, 1, `one error in all: ${run.stdout}`)
    t.match(
      errors[0] ?? '',
      /wrong\.mts.*'baseURL' does not exist in type 'MswMockOptions'/,
      'a misspelt option is an error',
    )
  },
)
