// `dms dev` (`npm run dev`): starts the dev stack (dev-stack.ts), says where it listens, and
// stops it on Ctrl-C.
import { devDir } from '../common/dev-stack-file';
import { startDevStack } from './dev-stack';

export async function devCommand(): Promise<void> {
  const { stack, stop } = await startDevStack((line) => console.log(`dev: ${line}`));
  console.log(
    `dev: ready. Addresses written to ${devDir()}/dev.json, where every \`dms\` command without DMS_METADATA_URL finds them.`,
  );
  console.log(
    `dev: Web UI ${stack.webUi}; in another terminal: npx dms mapping apply <file.yaml>, npx dms run <MAPREF> --wait, npx dms status <MAPREF>. Ctrl-C stops everything.`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('dev: stopping the worker, the Temporal dev server and PostgreSQL');
  await stop();
  console.log('dev: stopped');
}
