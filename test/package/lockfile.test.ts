import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { PACKAGE_ROOT } from '../../src/paths.js'

// The committed package-lock.json must be the one npm makes from package.json, or `npm install`
// on a fresh clone rewrites it. npm copies these fields of package.json into the lock file's
// root entry (packages[""]); a change to one of them without `npm install` leaves the lock file
// stale. This is the offline half of the check; .ci/run re-resolves the whole lock file with
// `npm install --package-lock-only` and fails on any difference.

const read = (file: string) => JSON.parse(readFileSync(join(PACKAGE_ROOT, file), 'utf8')) as Record<string, unknown>
const pkg = read('package.json')
const lock = read('package-lock.json') as {
  name: string
  version: string
  packages: Record<string, Record<string, unknown>>
}
const root = lock.packages['']!

const FIELDS = [
  'name',
  'version',
  'license',
  'bin',
  'engines',
  'dependencies',
  'devDependencies',
  'optionalDependencies',
  'peerDependencies',
]

t.test('the lock file root entry repeats package.json', async (t) => {
  t.equal(lock.name, pkg.name, 'name')
  t.equal(lock.version, pkg.version, 'version')
  for (const f of FIELDS)
    t.same(
      root[f],
      pkg[f],
      `package-lock.json packages[""].${f} matches package.json (run npm install and commit the lock file)`,
    )
})

t.test('every direct dependency is locked', async (t) => {
  const direct = { ...(pkg.dependencies as object), ...(pkg.devDependencies as object) }
  for (const name of Object.keys(direct)) t.ok(lock.packages[`node_modules/${name}`], `${name} is in package-lock.json`)
})
