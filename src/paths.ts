import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package root, found the same way from `src/` (the sources) and `dist/` (the bundles). */
function findPackageRoot(from: string): string {
  let dir = from
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    /* c8 ignore next */
    if (up === dir) throw new Error(`package.json not found above ${from}`)
    dir = up
  }
  return dir
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)))
export const MIGRATIONS_DIR = join(PACKAGE_ROOT, 'migrations')
export const DEMO_SEED_FILE = join(PACKAGE_ROOT, 'seed', 'demo.json')
