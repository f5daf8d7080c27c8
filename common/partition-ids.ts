// The names of a partitioned run's parts: pure, shared by workflows and activities.

/** The workflow id of key range k's child workflow, under the run's workflow id `parent`. */
export function partitionWorkflowId(parent: string, k: number): string {
  return `${parent}-p${k}`;
}
