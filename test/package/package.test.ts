import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createContext, runInContext } from 'node:vm'
import t from 'tap'
import { PACKAGE_ROOT } from '../../src/paths.js'

// The package as a user gets it (npm test builds dist/ first): what `npm pack` ships, both
// module formats, the declarations on their own, and the entry inside a test runner's vm context.
// test/consumer/ and scripts/consumer-smoke.sh go further: the packed tarball installed into
// fresh projects and used from Jest, Vitest, Mocha, node:test and Playwright (CI).

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  main: string
  types: string
  bin: Record<string, string>
  engines: { node: string }
  dependencies: Record<string, string>
  scripts: Record<string, string>
  exports: Record<string, string | Record<string, { types: string; default: string }>>
}

t.test('npm pack ships what runs, and only that', async (t) => {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PACKAGE_ROOT, encoding: 'utf8' }),
  ) as [{ files: { path: string }[] }]
  const files = packed.files.map((f) => f.path).sort()
  const named = [
    pkg.main,
    pkg.types,
    ...Object.values(pkg.bin),
    ...Object.values(pkg.exports['.'] as Record<string, { types: string; default: string }>).flatMap((c) => [
      c.types,
      c.default,
    ]),
  ].map((p) => p.replace(/^\.\//, ''))
  for (const p of named) t.ok(files.includes(p), `package.json names ${p}: shipped`)
  for (const p of [
    'LICENSE',
    'README.md',
    'package.json',
    'seed/demo.json',
    'dist/core.cjs',
    'dist/load-core.cjs',
    'dist/swagger-ui.cjs',
    'dist/swagger-ui/static/swagger-ui-bundle.js',
    'dist/THIRD-PARTY-LICENSES.txt',
  ]) {
    t.ok(files.includes(p), `${p} shipped`)
  }
  t.ok(
    files.some((f) => /^migrations\/\d+-.*\.sql$/.test(f)),
    'the migrations',
  )
  t.same(
    files.filter(
      (f) =>
        f.startsWith('dist/src/') ||
        f.endsWith('.map') ||
        f.startsWith('openapi/') ||
        f.startsWith('test/') ||
        f.startsWith('src/'),
    ),
    [],
    'no tsc output, source maps, sources, tests or OpenAPI evidence',
  )
  // What the bundles load by relative path is shipped.
  for (const file of files.filter((f) => /^dist\/[^/]+\.(cjs|mjs)$/.test(f))) {
    const source = readFileSync(join(PACKAGE_ROOT, file), 'utf8')
    t.notMatch(source, /sourceMappingURL/, `${file}: no source map comment`)
    for (const m of source.matchAll(/require\("(\.\/[^"]+)"\)|require\('(\.\/[^']+)'\)/g)) {
      const rel = m[1] ?? m[2]!
      t.ok(files.includes(join('dist', rel)), `${file} loads ${rel}: shipped`)
    }
  }
  t.match(readFileSync(join(PACKAGE_ROOT, 'LICENSE'), 'utf8'), /^Apache License\s+Version 2\.0, January 2004/)
  // npm pack and a git-URL install run prepare (a git dependency runs no other script of its own).
  t.equal(pkg.scripts.prepare, 'npm run build', 'prepare builds dist/')
})

t.test('runtime dependencies: better-sqlite3 alone; engines as it runs', async (t) => {
  t.same(Object.keys(pkg.dependencies), ['better-sqlite3'])
  t.equal(pkg.engines.node, '>=20')
  // Everything else is in the bundle: the built files require no other package. (Ajv's code
  // generator holds require("ajv/...") in strings, for standalone code: not calls.)
  const core = readFileSync(join(PACKAGE_ROOT, 'dist', 'core.cjs'), 'utf8')
  const packages = new Set(
    [...core.matchAll(/(?<![`'])require\("([^".][^"]*)"\)/g)].map((m) => m[1]!).filter((p) => !p.startsWith('node:')),
  )
  const builtins = new Set(createRequire(import.meta.url)('node:module').builtinModules as string[])
  t.same(
    [...packages].filter((p) => !builtins.has(p)),
    ['better-sqlite3'],
  )
})

/**
 * Runs a script with plain `node` in the package's folder, where `ai-secret-mock` names the package itself (its
 * exports).
 */
function node(args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, args, { cwd: PACKAGE_ROOT, encoding: 'utf8', env: { ...process.env, ...env } })
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.status}\n${r.stderr}`)
  return r.stdout
}

const USE = `
  const mock = await startMockServer()
  const health = await fetch(mock.url + '/_mock/health')
  await mock.fault({ method: 'DELETE', status: 500, times: 1 })
  const reset = await mock.reset()
  const injected = await mock.app.inject({ method: 'GET', url: '/_mock/health' })
  const docs = await fetch(mock.url + '/docs/static/swagger-ui-bundle.js')
  await mock.close()
  const closed = await mock.reset().then(() => 'resolved', (e) => e.message)
  process.stdout.write(JSON.stringify({ names, health: health.status, keys: reset.api_keys.length, injected: injected.json(), docs: [docs.status, docs.headers.get('content-type')], closed }))
`

t.test('require() from CommonJS and import from an ES module: the same API, working', async (t) => {
  const fromCjs = JSON.parse(
    node([
      '-e',
      `const m = require('ai-secret-mock'); const { startMockServer } = m; const names = Object.keys(m).sort(); (async () => { ${USE} })()`,
    ]),
  )
  const fromEsm = JSON.parse(
    node([
      '--input-type=module',
      '-e',
      `import * as m from 'ai-secret-mock'; const { startMockServer } = m; const names = Object.keys(m).sort(); ${USE}`,
    ]),
  )
  const expected = {
    names: ['MockControlError', 'SeedError', 'buildApp', 'startMockServer'],
    health: 200,
    keys: 4,
    injected: { status: 'ok' },
    docs: [200, 'application/javascript; charset=utf-8'],
    closed: 'ai-secret-mock: reset() was called after close(): the mock server is closed',
  }
  t.same(fromCjs, expected, 'require')
  t.same(fromEsm, expected, 'import')
  const same = node([
    '--input-type=module',
    '-e',
    "import { createRequire } from 'node:module'; import * as m from 'ai-secret-mock'; process.stdout.write(String(createRequire(import.meta.url)('ai-secret-mock').startMockServer === m.startMockServer))",
  ])
  t.equal(same, 'true', 'one module instance for both (no dual-package hazard)')
})

t.test(
  'inside a vm context of its own (as Jest runs a module), index.cjs loads the bundle with the caller\u2019s require',
  async (t) => {
    const file = join(PACKAGE_ROOT, 'dist', 'index.cjs')
    const context = createContext({ process, console, setTimeout, clearTimeout, setImmediate, Buffer, URL })
    const wrapper = runInContext(
      `(function (exports, require, module, __filename, __dirname) { ${readFileSync(file, 'utf8')}\n})`,
      context,
      { filename: file },
    ) as (...args: unknown[]) => void
    const realRequire = createRequire(file)
    const required: string[] = []
    const requireFromContext = Object.assign(
      (id: string) => {
        required.push(id)
        return realRequire(id)
      },
      {
        resolve: realRequire.resolve,
      },
    )
    const mod = { exports: {} as Record<string, unknown> }
    wrapper.call(mod.exports, mod.exports, requireFromContext, mod, file, dirname(file))
    t.ok(required.includes('./load-core.cjs'), 'the caller\u2019s require loaded the bundle')
    t.type(mod.exports.startMockServer, 'function')
  },
)

t.test(
  'the declarations stand alone: tsc with skipLibCheck false, CommonJS and ESM, no fastify, no @types',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'consumer-types-'))
    const installed = join(dir, 'node_modules', 'ai-secret-mock')
    mkdirSync(join(installed, 'dist'), { recursive: true })
    writeFileSync(join(installed, 'package.json'), JSON.stringify(pkg))
    for (const f of ['index.d.ts', 'index.d.cts'])
      writeFileSync(join(installed, 'dist', f), readFileSync(join(PACKAGE_ROOT, 'dist', f)))
    const body = `
    async function main(): Promise<number> {
      const mock: MockServer = await startMockServer({ seed: false, logger: { level: 'warn' } })
      const created: SeedResult = await mock.seed({ organizations: [{ name: 'o' }], users: [{ email: 'a@o.test', memberships: { o: 'owner' } }] })
      const rule: FaultRule = await mock.fault({ method: 'DELETE', status: 429, retry_after: 1, times: 2 })
      const journal: JournalEntry[] = await mock.requests({ path: '/v1/*' })
      const res = await mock.app.inject({ method: 'GET', url: '/_mock/health' })
      const app: MockApp = await buildApp({ db: ':memory:' })
      await app.close()
      try { await mock.reset() } catch (err) { if (err instanceof MockControlError) return err.status }
      await mock.close()
      return created.organizations.length + rule.matched + journal.length + res.json<{ status: string }>().status.length
    }
    export { main }
  `
    writeFileSync(
      join(dir, 'esm.mts'),
      `import { buildApp, startMockServer, MockControlError, type FaultRule, type JournalEntry, type MockApp, type MockServer, type SeedResult } from 'ai-secret-mock'\n${body}`,
    )
    writeFileSync(
      join(dir, 'cjs.cts'),
      `import { buildApp, startMockServer, MockControlError, type FaultRule, type JournalEntry, type MockApp, type MockServer, type SeedResult } from 'ai-secret-mock'\n${body}`,
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
          lib: ['es2022'],
          types: [],
        },
        files,
      })
    // The check can fail: a wrong field in a fault rule is an error. One program for all three
    // files (each tsc run costs seconds): the two suites compile clean, that is the one error.
    writeFileSync(
      join(dir, 'wrong.mts'),
      "import { startMockServer } from 'ai-secret-mock'\nexport const p = startMockServer().then((m) => m.fault({ stauts: 500 }))\n",
    )
    writeFileSync(join(dir, 'tsconfig.json'), tsconfig(['esm.mts', 'cjs.cts', 'wrong.mts']))
    const tsc = join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const run = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' })
    const errors = run.stdout.split('\n').filter((l) => /error TS\d+/.test(l))
    t.same(
      errors.filter((l) => !l.startsWith('wrong.mts')),
      [],
      'the CommonJS and ESM suites type-check',
    )
    t.equal(errors.length, 1, `one error in all: ${run.stdout}`)
    t.match(errors[0] ?? '', /wrong\.mts.*'stauts' does not exist in type 'FaultRuleInput'/)
  },
)
