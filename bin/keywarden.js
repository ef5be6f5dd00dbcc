#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/ (scripts/bundle-cli.ts) by `npm run build`,
// which `npm ci` runs through the prepare script. dist/cli/ is the same CLI unbundled.
import { main } from '../dist/bundle/main.js';

process.exitCode = await main(process.argv.slice(2));
