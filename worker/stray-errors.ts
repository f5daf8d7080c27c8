// The worker's last resort against an error no code was waiting for: an 'error' event a driver
// emits with no listener, or a promise rejected with no handler. Node ends the process for
// either, and every load on the worker stops with it. Every client is meant to have its errors
// handled (the PostgreSQL clients listen for their whole life, a batch's failures are the
// batch's); this is for what slips past that. A stray error that a database driver or the
// network raised is logged (redacted), counted, and the worker goes on: the batch it belonged
// to fails on its own and is retried. Anything else leaves the worker's own state unknown: it
// is logged and the worker exits, for its supervisor to start a fresh one.
import type { MetricMeter } from '@temporalio/common';
import { isDriverStack, readDatabaseError, redactedMessage } from '../dialects';

/** Node's codes of lost or refused connections and of streams cut short (a driver's socket). */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Whether a stray error is a database's or the network's (the worker goes on), or its own (it exits). */
function isDatabaseError(err: unknown): boolean {
  const e = err as { code?: unknown; stack?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  // An error a database raised, as its dialect reads it.
  if (readDatabaseError(err)) return true;
  // A stray error from inside a driver is a database session's, never the worker's own state.
  return typeof e.stack === 'string' && isDriverStack(e.stack);
}

export interface StrayErrors {
  /** Removes the handlers (the worker stopped). */
  remove(): void;
}

/**
 * Installs the handlers on `proc` (the process). `say` writes the worker's log; `meter`, where
 * metrics are served, counts each stray error in dms_worker_stray_errors_total by `kind`.
 */
export function catchStrayErrors(
  say: (line: string) => void,
  meter?: MetricMeter,
  proc: NodeJS.EventEmitter = process,
  exit: (code: number) => void = (code) => process.exit(code),
): StrayErrors {
  const counter = meter?.createCounter(
    'dms_worker_stray_errors',
    'errors',
    "Errors no code was waiting for (a driver's unheard event, an unhandled rejection), by kind; the worker went on",
  );
  // Served at 0 from the start, so that an alert on its rate has a series before the first one.
  for (const kind of ['event', 'rejection']) counter?.add(0, { kind });
  const onError = (err: unknown, kind: 'event' | 'rejection') => {
    const text = err instanceof Error ? redactedMessage(err) : String(err);
    if (isDatabaseError(err)) {
      counter?.add(1, { kind });
      say(
        `dms worker: caught a database error no code was waiting for (${kind === 'event' ? "an unheard 'error' event" : 'an unhandled rejection'}): ${text}; the worker goes on, and the batch it belonged to is retried`,
      );
      return;
    }
    say(`dms worker: stopping on an error no code was waiting for, which leaves its state unknown (${kind}): ${text}`);
    exit(1);
  };
  const onException = (err: unknown) => onError(err, 'event');
  const onRejection = (reason: unknown) => onError(reason, 'rejection');
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return {
    remove() {
      proc.off('uncaughtException', onException);
      proc.off('unhandledRejection', onRejection);
    },
  };
}
