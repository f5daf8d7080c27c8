// Classifies errors into retryable and non-retryable Temporal failures, and strips row
// values from database messages before they reach Temporal or a log. A connection's login
// failures become user errors in plan/connection-failures.ts.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { NON_RETRYABLE_TYPES } from '../common/errors';
import { messageWithFix, readDatabaseError } from '../dialects';

// How a database error reads, from its dialect (dialects/index.ts), as the activities use it.
export { grantFor, isTransient, messageWithFix, readDatabaseError, redactedMessage } from '../dialects';

/** Turns any error into the failure Temporal should see. */
export function toFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  const e = err as Error | undefined;
  if (e instanceof Error && NON_RETRYABLE_TYPES.includes(e.name)) {
    return ApplicationFailure.create({ type: e.name, message: e.message, nonRetryable: true });
  }
  const reading = readDatabaseError(err);
  switch (reading?.kind) {
    case 'transient':
      return ApplicationFailure.create({ type: 'TransientError', message: reading.message, nonRetryable: false });
    case 'privilege':
      // Not retried (a grant is missing, which no retry brings), and said with the fix.
      return ApplicationFailure.create({
        type: 'DataError',
        message: messageWithFix(err, 'run the mapping again'),
        nonRetryable: true,
      });
    case 'data':
    case 'constraint':
    case 'read-only':
    case 'statement':
      // Bad data, constraint violations, SQL errors, a target that no longer matches.
      return ApplicationFailure.create({ type: 'DataError', message: reading.message, nonRetryable: true });
    default:
      // Anything unknown is retried within the bounded policy, its message kept short.
      return ApplicationFailure.create({
        type: 'UnexpectedError',
        message: e?.message ?? String(err),
        nonRetryable: false,
      });
  }
}
