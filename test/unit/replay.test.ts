// Replays histories recorded from real runs (a cancel, then a resume across several
// continue-as-new boundaries; see scripts/record-histories.ts) against the current
// workflow code: a change that would break running workflows fails here.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const DIR = path.join(__dirname, '..', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

/**
 * The workflow id a history was recorded under (scripts/record-histories.ts), where it
 * matters: a partitioned run derives its ranges' workflow ids from its own.
 */
function workflowIdOf(file: string): string {
  if (!file.includes('-partitioned-')) return `replay-${file}`;
  const range = /-(p\d+)-\d+\.json$/.exec(file);
  return range ? `dms-PARTS-${range[1]}` : 'dms-PARTS';
}

describe('workflow replay', () => {
  it('has recorded histories with a cancel and a continue-as-new', () => {
    const all = files.map((f) => readFileSync(path.join(DIR, f), 'utf8')).join('\n');
    expect(all).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED');
    expect(all).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    expect(all).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    // Since 0.5.0: a partitioned run, whose ranges run as child workflows.
    expect(all).toContain('EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED');
  });

  it.each(files)('replays %s deterministically', async (file) => {
    const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
    // The bundle the test workers load (test/support/global-setup.ts), made once: bundling
    // for each history took about a second each.
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundle') } },
      history,
      workflowIdOf(file),
    );
  });
});
