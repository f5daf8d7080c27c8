// The failure converter used when payloads are encrypted (common/payload-codec.ts): a
// failure's message and stack trace travel in its encoded attributes, a payload that the
// codec seals, instead of in plain text. Loaded by the worker and built into the workflow
// bundle (the workflows write failures too), so it imports nothing with I/O.
import { DefaultFailureConverter } from '@temporalio/common';

/** Found in a workflow bundle built with this converter (common/payload-codec.ts checks it). */
export const ENCODED_FAILURES_MARK = 'dms-etl:encoded-failure-messages';

class EncodedFailureConverter extends DefaultFailureConverter {
  readonly mark = ENCODED_FAILURES_MARK;

  constructor() {
    super({ encodeCommonAttributes: true });
  }
}

export const failureConverter = new EncodedFailureConverter();
