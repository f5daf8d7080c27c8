// Whether any worker polls a task queue, from Temporal's DescribeTaskQueue: what `dms run
// --wait`, `dms watch` and `dms status` say when a run sits still because no worker is there.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * A worker long-polls for at most about a minute before it polls again, and Temporal keeps a
 * poller listed for minutes after it last polled: one seen within this long is still there.
 */
const RECENT_MS = 75_000;

/** How many workers polled the queue lately, for workflow tasks and for activity tasks. */
async function pollersOf(
  client: Client,
  taskQueue: string,
  nowMs = Date.now(),
): Promise<{ workflow: number; activity: number }> {
  const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;
  const count = async (taskQueueType: temporal.api.enums.v1.TaskQueueType) => {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    return (pollers ?? []).filter((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      return nowMs - seconds * 1000 < RECENT_MS;
    }).length;
  };
  const [workflow, activity] = await Promise.all([count(TASK_QUEUE_TYPE_WORKFLOW), count(TASK_QUEUE_TYPE_ACTIVITY)]);
  return { workflow, activity };
}

/** The line to show while nobody polls the queue, or null when some worker does. */
export async function noWorkerLine(client: Client, taskQueue: string, workflowId: string): Promise<string | null> {
  const { workflow, activity } = await pollersOf(client, taskQueue);
  if (workflow > 0 && activity > 0) return null;
  return `no worker polls task queue ${taskQueue}, so workflow ${workflowId} waits for one: start it with \`dms worker\` (or \`npm run dev\`) where DMS_METADATA_URL and the connections' passwords are set`;
}
