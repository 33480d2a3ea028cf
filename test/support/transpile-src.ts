// Run by tap before any test file (package.json "tap" -> "before"): transpiles src/ file by file
// into .tap/src-js/ (esbuild, inline source maps, no bundling), as tsx would on the fly. A spawned
// CLI runs from there with no loader: it starts in 0.55 s instead of 1.5 s through tsx (node
// .tap/src-js/bin.js --version against node --import tsx src/bin.ts --version, here), and the
// tests spawn it some 60 times. c8 maps its coverage back to src/ (.c8rc.json: excludeAfterRemap);
// a bundle would not do: its source map left every line of src/ counted as run.
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { PACKAGE_ROOT } from '../../src/paths.js'

const src = join(PACKAGE_ROOT, 'src')
// Under the folder tap runs in (the project's root): a tap run nested in a test (the doc test runs
// `npx tap` in a folder of links to this checkout, test/docs/commands.test.ts) must not remove the
// outer run's copy while the outer run's tests spawn the CLI from it.
const out = join(process.cwd(), '.tap', 'src-js')
// A file since removed from src/ must not linger.
rmSync(out, { recursive: true, force: true })
await build({
  entryPoints: readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(src, f)),
  outdir: out,
  outbase: src,
  bundle: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
})
