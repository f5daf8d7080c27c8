// Every log line of a dms-etl activity carries the fields of common/log-fields.ts.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { logFieldsOf, type LogFields } from '../common/log-fields';

export const activityLogFields: ActivityInterceptorsFactory = () => {
  let fields: LogFields = {};
  return {
    inbound: {
      execute(input, next) {
        fields = logFieldsOf(input.args[0]);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes: (input, next) => next({ ...input, ...fields }),
    },
  };
};
