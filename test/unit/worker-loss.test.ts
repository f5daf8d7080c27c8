// A run whose batch lost its worker on every attempt fails with what that means and what to
// change, from its last heartbeat; any other failure is left as it is.
import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { explainedFailure, workerLossMessage } from '../../workflows/worker-loss';

const lost = (details: unknown, type: 'HEARTBEAT' | 'START_TO_CLOSE' = 'HEARTBEAT') =>
  new ActivityFailure(
    'activity failed',
    'runBatch',
    '7',
    RetryState.MAXIMUM_ATTEMPTS_REACHED,
    'worker-1',
    new TimeoutFailure(`activity ${type} timeout`, details, type),
  );

describe('a worker lost on every attempt', () => {
  it.each([
    [
      'the widest row and the budget',
      { checkpoint: '["150"]', batches: 4, rows: 600, widestRow: 6_000_002, batchBytes: 67_108_864 },
      /^Mapping DOCS: the worker running batch 5 \(the rows after checkpoint \["150"\], as its last heartbeat said\) stopped answering \(heartbeat timeout\) on every attempt; .*the widest row it had loaded was 6,000,002 bytes \(DMS_BATCH_BYTES 67,108,864\)\. Give the worker more memory, or lower DMS_BATCH_BYTES on the worker, or BATCHBYTES or BULKLMT on mapping DOCS/,
    ],
    [
      "the mapping's budget",
      {
        checkpoint: '["150"]',
        batches: 4,
        rows: 600,
        widestRow: 6_000_002,
        batchBytes: 8_388_608,
        budgetSetting: 'BATCHBYTES',
      },
      /the widest row it had loaded was 6,000,002 bytes \(BATCHBYTES 8,388,608\)\./,
    ],
    [
      'no row read yet',
      { checkpoint: null, batches: 0, rows: 0, widestRow: 0, batchBytes: 1024 },
      /the worker running batch 1 \(the rows from the start, as its last heartbeat said\) stopped answering .* it had loaded no row yet\./,
    ],
    ['no heartbeat at all', undefined, /the worker running a batch stopped answering .* it had loaded no row yet\./],
  ])('names the mapping, the batch and the setting to change (%s)', (_, details, message) => {
    expect(workerLossMessage(lost(details), 'DOCS')).toMatch(message);
    const failure = explainedFailure(lost(details), 'DOCS');
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'WorkerLostError',
      nonRetryable: true,
      message: expect.stringMatching(message),
    });
  });

  it.each([
    ['a batch that ran out of time', lost({ batches: 1 }, 'START_TO_CLOSE')],
    [
      "the activity's own error",
      new ActivityFailure(
        'activity failed',
        'runBatch',
        '7',
        RetryState.MAXIMUM_ATTEMPTS_REACHED,
        'w',
        ApplicationFailure.create({ message: 'relation does not exist' }),
      ),
    ],
    ['any other error', new Error('boom')],
  ])('leaves %s as it is', (_, err) => {
    expect(workerLossMessage(err, 'DOCS')).toBeNull();
    expect(explainedFailure(err, 'DOCS')).toBe(err);
  });
});
