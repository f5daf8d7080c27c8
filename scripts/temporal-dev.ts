// `npm run temporal`: the Temporal CLI's dev server as temporal-dev.yml configures it, until
// Ctrl-C. The server's code is the CLI's (client/temporal-dev-server.ts, which `dms dev` uses);
// the bench and the tests import it from here.
import { readDevConfig, startDevServer } from '../client/temporal-dev-server';

export * from '../client/temporal-dev-server';

async function main(): Promise<void> {
  const server = await startDevServer(readDevConfig());
  console.log(
    `Temporal dev server on ${server.address}${server.uiAddress ? `, Web UI ${server.uiAddress}` : ''} (Ctrl-C stops it)`,
  );
  const stop = () => void server.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`temporal: ${(err as Error).message}`);
    process.exit(1);
  });
}
