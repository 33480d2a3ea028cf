import { lstatSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Script, runInThisContext } from 'node:vm'

// The package's entry (dist/index.cjs) loads the bundled mock (dist/core.cjs) through here:
// with a V8 code cache, a fresh process skips parsing and compiling ~1 MB of JavaScript
// (fastify, Ajv, TypeBox, the mock), which is most of what it pays to start the mock. Node 22
// has module.enableCompileCache(), but it acts on the whole process (every module the user
// loads afterwards), and Node 20 has nothing of the kind; vm.Script's cachedData works on both.

/** The environment variable that moves (a directory) or turns off (`off`) the code cache. */
export const CODE_CACHE_ENV = 'AI_SECRET_MOCK_CODE_CACHE'

/**
 * Where cache files go: `$AI_SECRET_MOCK_CODE_CACHE` when set, null (no cache) when it is
 * `off`, else `<os.tmpdir()>/ai-secret-mock-<uid>` (one per user, as other users' files are never trusted).
 */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env[CODE_CACHE_ENV]
  if (value === 'off') return null
  if (value !== undefined && value !== '') return value
  return join(tmpdir(), `ai-secret-mock-${process.getuid?.() ?? 'user'}`)
}

/**
 * The directory, created when absent, if it is safe to load code from: a directory (not a
 * link) of this user's that no one else can write to. Cached code runs as the user's own,
 * so a file another user could have put there is never read. Null otherwise.
 */
export function privateDir(dir: string): string | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const st = lstatSync(dir)
    if (!st.isDirectory()) return null
    if (process.getuid !== undefined && st.uid !== process.getuid()) return null
    if ((st.mode & 0o022) !== 0) return null
    return dir
  } catch {
    return null
  }
}

/** What a cache file is valid for: the bundle (size and time), Node's version and the flags it was started with. */
export function cacheKey(file: string): string {
  const st = statSync(file)
  let h = 0x811c9dc5 // FNV-1a over the parts that change the compiled code
  for (const c of [process.version, process.arch, process.execArgv.join(' '), String(st.size), String(st.mtimeMs)].join(
    '\0',
  )) {
    h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0
  }
  return `${st.size}-${h.toString(16)}`
}

/** How loadWithCodeCache went, for tests and the bench. */
export interface CodeCacheReport {
  /**
   * `hit`: the cache was used; `miss`: none yet (written at exit); `rejected`: V8 refused it (rewritten at exit);
   * `off`: no cache.
   */
  state: 'hit' | 'miss' | 'rejected' | 'off'
  /** The cache file, or null when off. */
  file: string | null
}

/** What the caller of loadWithCodeCache may add. */
export interface CodeCacheOptions {
  /** Told how the load went. */
  report?: (r: CodeCacheReport) => void
  /**
   * Asked at exit whether this run is worth caching; default yes. The package's entry says
   * yes once a mock was built: a run that only printed --help compiled a fraction of what a
   * start needs, and its cache would stand in for a better one.
   */
  worthKeeping?: () => boolean
}

/**
 * Loads a CommonJS file, compiled with a V8 code cache from `cacheDir` when there is one
 * (see CodeCacheReport). The cache is written at process exit, so that it holds every
 * function the run compiled (start-up, the first answers), not only the top level; only
 * when there was none or V8 refused it, and the run was worth keeping.
 *
 * Calls `plainRequire` instead (the caller's own `require` of the same file) when there is no
 * usable cache directory, and when this module runs in a vm context of its own (Jest,
 * Vitest's vm pools): code compiled here would run in the main context, with other globals
 * than the test's, and the runner's module registry would not know it. The file must be
 * ASCII (the bundle is built so): it is read as latin1, much faster than UTF-8 for a large file.
 */
export function loadWithCodeCache(
  file: string,
  cacheDir: string | null,
  plainRequire: () => unknown,
  options: CodeCacheOptions = {},
): unknown {
  const { report, worthKeeping = () => true } = options
  const dir = cacheDir === null || runInThisContext('globalThis') !== globalThis ? null : privateDir(cacheDir)
  if (dir === null) {
    report?.({ state: 'off', file: null })
    return plainRequire()
  }
  const cacheFile = join(dir, `core-${cacheKey(file)}.v8`)
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  // The wrapper CommonJS modules get, on the first line, so that line numbers stay the file's.
  const source = `(function (exports, require, module, __filename, __dirname) { ${readFileSync(file, 'latin1')}\n})`
  const script = new Script(source, { filename: file, cachedData })
  const state = cachedData === undefined ? 'miss' : script.cachedDataRejected === true ? 'rejected' : 'hit'
  report?.({ state, file: cacheFile })
  const mod = { exports: {} as unknown }
  ;(script.runInThisContext() as (...args: unknown[]) => void).call(
    mod.exports,
    mod.exports,
    createRequire(file),
    mod,
    file,
    dirname(file),
  )
  if (state !== 'hit') process.once('exit', () => worthKeeping() && writeCache(cacheFile, script))
  return mod.exports
}

/**
 * Writes the cache beside its final name, then renames: a reader never sees half a file. Failures only cost the next
 * start its speed.
 */
function writeCache(cacheFile: string, script: Script): void {
  const temp = `${cacheFile}.${process.pid}.tmp`
  try {
    writeFileSync(temp, script.createCachedData(), { mode: 0o600 })
    renameSync(temp, cacheFile)
  } catch {
    /* a read-only or full disk: run without a cache */
  }
}
