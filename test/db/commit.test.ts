// A write answers 2xx only once its transaction has committed. On a full disk, `DELETE … RETURNING`
// read with get() outside a transaction answered the deleted record, while SQLite's commit failed at
// the statement's reset (which better-sqlite3 does not report): 200, and the secret still there.
// Here the real commit path fails: the database sits on a small tmpfs, filled up, in a mount
// namespace of the test's own: unshare -m as root, unshare -rm (a user namespace) otherwise.
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { PACKAGE_ROOT } from '../../src/paths.js'

t.test(
  'on a full disk every write is a 500 in the documented shape and changes nothing; with room, it succeeds',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'full-disk-'))
    const tsx = import.meta.resolve('tsx')
    const script = join(PACKAGE_ROOT, 'test', 'support', 'disk-full.ts')
    const run = spawnSync(
      'unshare',
      [
        process.getuid?.() === 0 ? '-m' : '-rm',
        'sh',
        '-c',
        'mount -t tmpfs -o size=4m tmpfs "$1" && exec "$2" --import "$3" "$4" "$1"',
        'sh',
        dir,
        process.execPath,
        tsx,
        script,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    )
    t.equal(run.status, 0, `the run finished: ${run.stderr.slice(-2000)}`)
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
      writes: Record<string, number>
      whileFull: { names: string[]; secret: { metadata: unknown; preview_secret: string }; orgs: number }
      afterRoom: string[]
    }
    t.same(result.writes, {
      'delete by name': 500,
      'delete by id': 500,
      create: 500,
      replace: 500,
      patch: 500,
      seed: 500,
      reset: 500,
      'delete by name, with room again': 200,
    })
    t.same(result.whileFull.names, ['OPENAI_API_KEY'], 'nothing deleted, nothing created')
    t.same(result.whileFull.secret.metadata, { team: 'ml' }, 'not patched')
    t.equal(result.whileFull.secret.preview_secret, 'sk-...def', 'not replaced')
    t.equal(result.whileFull.orgs, 2, 'not seeded, not reset')
    t.same(result.afterRoom, [], 'with room again, the delete is done')
  },
)
