// `npm run bundle [-- <file>]`: builds the workflow bundle once (default dist/workflow-bundle.js).
// A worker started with DMS_WORKFLOW_BUNDLE=<file> loads it instead of running webpack at
// start, which saves its start-up time and memory. Built where DMS_PAYLOAD_KEYS is set, the
// workflows write failure messages as payloads that the codec seals (the worker checks that
// the bundle and the variable agree).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ENCODED_FAILURES, payloadKeysFrom } from '../common/payload-codec';
import { WORKFLOW_LOG_FIELDS } from '../worker/main';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'workflow-bundle.js'));
  const encrypted = payloadKeysFrom() !== undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [WORKFLOW_LOG_FIELDS],
    ...(encrypted ? { failureConverterPath: ENCODED_FAILURES } : {}),
  });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(
    `workflow bundle written to ${out}${encrypted ? ' (for encrypted payloads)' : ''}; start workers with DMS_WORKFLOW_BUNDLE=${out}`,
  );
}

main().catch((err) => {
  console.error(`bundle: ${(err as Error).message}`);
  process.exit(1);
});
