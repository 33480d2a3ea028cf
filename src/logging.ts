import type { MessageFormatFunc } from 'pino-pretty'

/** Where pino writes: any object with a write(line) method. */
export interface LogDestination {
  write(line: string): void
}

/** The answer lines of src/app.ts (`request`) read as `DELETE /v1/ai_secret 200 1.2 ms`; the request id follows every message. */
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
