// Once per test run: the workflow bundle every test worker loads (DMS_WORKFLOW_BUNDLE, as
// `npm run bundle` makes it), instead of each worker process running webpack at its start.
// The demo and `dms dev` tests start workers of their own without it, so the bundling at a
// worker's start stays covered.
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';

const ROOT = path.join(__dirname, '..', '..');

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundle: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const file = path.join(os.tmpdir(), `dms-test-workflow-bundle-${process.pid}.js`);
  const { code } = await bundleWorkflowCode({
    // As worker/main.ts names them (this file runs without the TypeScript loader that resolves them there).
    workflowsPath: path.join(ROOT, 'workflows', 'index.ts'),
    workflowInterceptorModules: [path.join(ROOT, 'workflows', 'log-fields.ts')], logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
  writeFileSync(file, code);
  project.provide('workflowBundle', file);
  return () => rmSync(file, { force: true });
}
