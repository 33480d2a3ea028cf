import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { pino } from 'pino'
import type { MessageFormatFunc } from 'pino-pretty'
import type { LoggerOptions } from './fastify-types.js'

/** Paths pino never writes out, whatever the level: credentials, bodies and secret values. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'req.body',
  'body',
  'secret',
  '*.secret',
  'key',
  '*.key',
  // Node's HTTP parser puts the raw bytes of a request it refuses here: headers and body whole.
  'err.rawPacket',
]

/** What Fastify's own logger writes of a request, an answer and an error (fastify/lib/logger-pino.js), no more. */
const SERIALIZERS = {
  req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
  res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
  err: pino.stdSerializers.err,
}

/**
 * The mock's logger, for buildApp's `logger`: false (a logger that writes nothing), true (info),
 * a pino level, or pino options (`stream` among them); always redacting REDACT. Made before the
 * app, so that opening the database and seeding it can log too; Fastify is given it as it is.
 */
export function createLogger(logger: boolean | string | LoggerOptions | undefined): FastifyBaseLogger {
  if (logger === undefined || logger === false) return pino({ level: 'silent' }) as FastifyBaseLogger
  const { stream, ...options } = typeof logger === 'object' ? logger : { level: logger === true ? 'info' : logger }
  const settings = { ...options, serializers: SERIALIZERS, redact: { paths: REDACT, censor: '[redacted]' } }
  return pino(settings, stream as pino.DestinationStream | undefined) as FastifyBaseLogger
}

/**
 * One log line per answer (`request`: method, url, status, ms), instead of Fastify's two per
 * request; added only when info lines are written: a hook that logs nothing still costs each request.
 */
export function logAnswers(app: FastifyInstance): void {
  if ((app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') !== true) return
  app.addHook('onResponse', (request, reply, done) => {
    const ms = Math.round(reply.elapsedTime * 10) / 10
    request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms }, 'request')
    done()
  })
}

/** Where pino writes: any object with a write(line) method. */
export interface LogDestination {
  write(line: string): void
}

/**
 * The answer lines (logAnswers: `request`) read as `DELETE /v1/ai_secret 200 1.2 ms`; the request id follows every
 * message.
 */
const messageFormat: MessageFormatFunc = (log, messageKey) => {
  const message =
    log.status !== undefined && log.method !== undefined
      ? `${log.method} ${log.url} ${log.status} ${log.ms} ms`
      : String(log[messageKey] ?? '')
  return log.request_id === undefined ? message : `${message} (${log.request_id})`
}

/**
 * A pino destination that writes each line as pino-pretty formats it, for a person at a
 * terminal: `[12:00:00.123] INFO: DELETE /v1/ai_secret 200 1.2 ms (mock::…)`, other fields on the
 * same line. pino-pretty is loaded here, only when asked for, and used in this thread (its
 * prettyFactory, not a worker-thread transport, which a bundle cannot start), so each line is
 * written before the next is logged. Redaction happens in pino, before this sees the line.
 */
export async function prettyDestination(
  out: { write(text: string): unknown } = process.stdout,
  colorize = false,
): Promise<LogDestination> {
  const { prettyFactory } = await import('pino-pretty')
  const pretty = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,method,url,status,ms,request_id',
    singleLine: true,
    messageFormat,
  })
  return { write: (line) => void out.write(pretty(line)) }
}
