#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so a clone needs no build step.
require('tsx/cjs');
require('../client/cli.ts').main(process.argv);
