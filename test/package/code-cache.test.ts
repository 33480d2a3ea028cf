import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { CODE_CACHE_ENV, cacheKey, codeCacheDir, privateDir } from '../../src/code-cache.js'
import { PACKAGE_ROOT } from '../../src/paths.js'

// The loader of dist/index.cjs. Each process that loads a module through it is a child here:
// the cache is written at process exit. (Inside a vm context of its own, as under Jest, the
// loader steps aside: test/package.test.ts checks that on the built package.)

const tsx = join(PACKAGE_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')

/** A CommonJS module that reports how it was loaded, in a folder of its own. */
function fixture(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'code-cache-'))
  const file = join(dir, 'mod.cjs')
  writeFileSync(
    file,
    'exports.answer = function answer() { return 40 + 2 }\nexports.dir = __dirname\nexports.file = ' +
      '__filename\nexports.line = new Error().stack.split("\\n")[1]\n',
  )
  return { dir, file }
}

/** Loads `file` in a fresh process through loadWithCodeCache; returns what it reported and answered. */
function loadInChild(
  file: string,
  cacheDir: string | null,
  worthKeeping = true,
): { state: string; answer: number; dir: string; file: string; line: string } {
  const script = `
    import { loadWithCodeCache } from ${JSON.stringify(join(PACKAGE_ROOT, 'src', 'code-cache.ts'))}
    import { createRequire } from 'node:module'
    let state
    const m = loadWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify(cacheDir)}, () => createRequire(${JSON.stringify(file)})(${JSON.stringify(file)}), {
      report: (r) => (state = r.state),
      worthKeeping: () => process.env.WORTH_KEEPING !== 'no',
    })
    process.stdout.write(JSON.stringify({ state, answer: m.answer(), dir: m.dir, file: m.file, line: m.line }))
  `
  const r = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, WORTH_KEEPING: worthKeeping ? 'yes' : 'no' },
  })
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout) as ReturnType<typeof loadInChild>
}

t.test('a miss writes the cache at exit; the next process uses it; a damaged file is rewritten', async (t) => {
  const { dir, file } = fixture()
  const cache = join(dir, 'cache')
  const first = loadInChild(file, cache)
  t.match(first, { state: 'miss', answer: 42, dir, file })
  t.match(first.line, `${file}:4:`, 'line numbers are the file\u2019s own (the wrapper adds no line)')
  const written = readdirSync(cache)
  t.equal(written.length, 1, 'one cache file')
  t.match(written[0], /^core-\d+-[0-9a-f]+\.v8$/)
  t.match(loadInChild(file, cache), { state: 'hit', answer: 42 })

  writeFileSync(join(cache, written[0]!), 'not a code cache')
  t.match(
    loadInChild(file, cache),
    { state: 'rejected', answer: 42 },
    'V8 refuses a damaged file; the module still loads',
  )
  t.match(loadInChild(file, cache), { state: 'hit', answer: 42 }, 'and it was rewritten at exit')
  t.same(readdirSync(cache), written, 'no temporary file left behind')
})

t.test('a run not worth keeping writes no cache', async (t) => {
  const { dir, file } = fixture()
  const cache = join(dir, 'cache')
  t.match(loadInChild(file, cache, false), { state: 'miss', answer: 42 })
  t.same(readdirSync(cache), [])
  t.match(loadInChild(file, cache, false), { state: 'miss' }, 'still none')
  t.match(loadInChild(file, cache), { state: 'miss' })
  t.match(loadInChild(file, cache), { state: 'hit' })
})

t.test('a changed file gets a cache of its own', async (t) => {
  const { dir, file } = fixture()
  const cache = join(dir, 'cache')
  const before = cacheKey(file)
  loadInChild(file, cache)
  writeFileSync(file, readFileSync(file, 'utf8').replace('40 + 2', '40 + 3'))
  t.not(cacheKey(file), before)
  t.match(loadInChild(file, cache), { state: 'miss', answer: 43 })
  t.equal(readdirSync(cache).length, 2)
})

t.test('no cache: off, or a folder another user or group could write to, or not a folder', async (t) => {
  const { dir, file } = fixture()
  t.match(loadInChild(file, null), { state: 'off', answer: 42 })

  const shared = join(dir, 'shared')
  mkdirSync(shared)
  chmodSync(shared, 0o777)
  t.equal(privateDir(shared), null, 'world-writable: never read')
  t.match(loadInChild(file, shared), { state: 'off', answer: 42 })
  t.same(readdirSync(shared), [], 'nothing written there either')

  const target = join(dir, 'target')
  mkdirSync(target, { mode: 0o700 })
  symlinkSync(target, join(dir, 'link'))
  t.equal(privateDir(join(dir, 'link')), null, 'a symbolic link: never followed')
  writeFileSync(join(dir, 'plain-file'), '')
  t.equal(privateDir(join(dir, 'plain-file')), null, 'a file where the folder should be')
  t.equal(privateDir(join(dir, 'plain-file', 'below')), null, 'a folder that cannot be made')
  t.equal(privateDir(join(dir, 'new', 'nested')), join(dir, 'new', 'nested'), 'made when absent, for this user only')
})

t.test('where the cache goes: the environment variable, or a folder per user in the temporary folder', async (t) => {
  t.equal(codeCacheDir({ [CODE_CACHE_ENV]: 'off' }), null)
  t.equal(codeCacheDir({ [CODE_CACHE_ENV]: '/some/where' }), '/some/where')
  t.equal(codeCacheDir({ [CODE_CACHE_ENV]: '' }), join(tmpdir(), `ai-secret-mock-${process.getuid!()}`))
  t.equal(codeCacheDir({}), join(tmpdir(), `ai-secret-mock-${process.getuid!()}`))
})
