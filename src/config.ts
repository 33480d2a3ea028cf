import { parseArgs } from 'node:util'

/** Configuration of the CLI (CONTRACT section 1): flags win over environment variables, which win over defaults. */
export interface CliConfig {
  port: number
  host: string
  db: string
  /** A seed file, false for none, undefined for the built-in demo seed. */
  seed: string | false | undefined
  logLevel: string
  deterministic: boolean
  help: boolean
  version: boolean
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export const USAGE = `Usage: ai-secret-mock [options]

A local, stateful test double of the Braintrust API's AI-secrets resource.

Options (each also read from the environment variable named beside it):
  --port N          PORT       port to listen on; 0 picks a free one (default 8000)
  --host H          HOST       address to listen on (default 127.0.0.1)
  --db PATH         DB_PATH    SQLite database; a file keeps state across restarts (default :memory:)
  --seed FILE       SEED_FILE  seed file for a new database (default: the built-in demo seed)
  --no-seed                    start with an empty database
  --log-level L     LOG_LEVEL  ${LOG_LEVELS.join(', ')} (default info)
  --deterministic   MOCK_DETERMINISTIC=1  fixed clock and sequential ids, for snapshot tests
  --help, --version
`

function port(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new ConfigError(`${name}: must be a whole number from 0 to 65535, not ${JSON.stringify(value)}`)
  }
  return Number(value)
}

function nonEmpty(value: string, name: string): string {
  if (value.trim() === '') throw new ConfigError(`${name}: must not be empty`)
  return value
}

function flag(value: string, name: string): boolean {
  if (['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) return true
  if (['0', 'false', 'no', 'off', ''].includes(value.toLowerCase())) return false
  throw new ConfigError(`${name}: must be 1/true or 0/false, not ${JSON.stringify(value)}`)
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): CliConfig {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        seed: { type: 'string' },
        'no-seed': { type: 'boolean' },
        'log-level': { type: 'string' },
        deterministic: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }))
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split('\n')[0]} (see --help)`)
  }
  if (values.seed !== undefined && values['no-seed']) throw new ConfigError('--seed and --no-seed: give one or the other')

  const logLevel = (values['log-level'] ?? env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`${values['log-level'] !== undefined ? '--log-level' : 'LOG_LEVEL'}: must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(logLevel)}`)
  }

  let seed: string | false | undefined
  if (values['no-seed']) seed = false
  else if (values.seed !== undefined) seed = nonEmpty(values.seed, '--seed')
  else if (env.SEED_FILE !== undefined && env.SEED_FILE !== '') seed = env.SEED_FILE

  return {
    port: values.port !== undefined ? port(values.port, '--port') : env.PORT ? port(env.PORT, 'PORT') : 8000,
    host: values.host !== undefined ? nonEmpty(values.host, '--host') : env.HOST || '127.0.0.1',
    db: values.db !== undefined ? nonEmpty(values.db, '--db') : env.DB_PATH || ':memory:',
    seed,
    logLevel,
    deterministic: values.deterministic ?? (env.MOCK_DETERMINISTIC ? flag(env.MOCK_DETERMINISTIC, 'MOCK_DETERMINISTIC') : false),
    help: values.help ?? false,
    version: values.version ?? false,
  }
}
