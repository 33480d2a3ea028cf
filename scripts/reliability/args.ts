/** `--name value` and `--flag` arguments of the reliability scripts. */
export function args(argv: string[] = process.argv.slice(2)): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) continue
    const eq = a.indexOf('=')
    if (eq !== -1) out.set(a.slice(2, eq), a.slice(eq + 1))
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out.set(a.slice(2), argv[++i]!)
    else out.set(a.slice(2), 'true')
  }
  return out
}

export function numberArg(a: Map<string, string>, name: string, fallback: number): number {
  const v = a.get(name)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`)
  return n
}

/** A fresh random seed, or the one asked for (to reproduce a failure). */
export function seedArg(a: Map<string, string>): number {
  return numberArg(a, 'seed', Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31))
}
