import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs'

// The files the command reads from its flags and variables (--tls-cert, --tls-key, --seed and
// theirs) are read synchronously during start-up. A FIFO or a device named there would block
// that read (a FIFO's open waits for a writer) or never end it (/dev/zero), with the event loop
// stopped: no error, and SIGTERM not handled either. So such a file is opened once, without
// blocking, and read only when its descriptor is a regular file (no race between a stat and
// the read); a bound, where given, caps what is read even of a regular file that grows.

/** Where O_NONBLOCK does not exist (Windows), a FIFO cannot be named by a path anyway. */
const NONBLOCK = (constants.O_NONBLOCK as number | undefined) ?? 0

/**
 * An Error with a `code`: Node's own for what the system refused (ENOENT, EACCES, …),
 * `EISDIR` for a directory (as readFileSync says), `ENOTREG` for anything else that is not a
 * regular file (FIFO, socket, device), `ETOOBIG` for a file over the bound. `message` is the
 * reason in words for the last three.
 */
export type ReadFileError = Error & { code?: string }

function refused(code: string, message: string): ReadFileError {
  return Object.assign(new Error(message), { code })
}

/**
 * Reads a regular file whole, `maxBytes` at most when given. Throws a ReadFileError (see there)
 * for a file that cannot be opened, one that is not a regular file (checked on the descriptor:
 * open with O_NONBLOCK, then fstat) or one longer than `maxBytes`.
 */
export function readRegularFile(file: string, maxBytes?: number): Buffer {
  const fd = openSync(file, constants.O_RDONLY | NONBLOCK)
  try {
    const stats = fstatSync(fd)
    if (stats.isDirectory()) throw refused('EISDIR', 'it is a directory')
    if (!stats.isFile()) throw refused('ENOTREG', 'not a regular file')
    if (maxBytes === undefined) return readFileSync(fd)
    const tooBig = () => refused('ETOOBIG', `larger than ${maxBytes} bytes`)
    if (stats.size > maxBytes) throw tooBig()
    // Read to the end, not to the size fstat gave: files of /proc say 0, a file may grow.
    const buffer = Buffer.alloc(maxBytes + 1)
    let length = 0
    for (let n = 1; n > 0 && length < buffer.length; length += n) {
      n = readSync(fd, buffer, length, buffer.length - length, null)
    }
    if (length > maxBytes) throw tooBig()
    return buffer.subarray(0, length)
  } finally {
    closeSync(fd)
  }
}
