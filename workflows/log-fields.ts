// Every log line of a dms-etl workflow carries the fields of common/log-fields.ts (the mapping;
// for a key range, its run and range). Module state is each workflow's own in the SDK's
// sandbox; logging adds no command, so replay is unchanged.
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { logFieldsOf, type LogFields } from '../common/log-fields';

let fields: LogFields = {};

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      execute(input, next) {
        fields = logFieldsOf(input.args[0]);
        return next(input);
      },
    },
  ],
  outbound: [
    {
      getLogAttributes: (input, next) => next({ ...input, ...fields }),
    },
  ],
});
