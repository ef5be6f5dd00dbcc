/**
 * The CLI from source, as its own OS process: `node --import <tsx> test/helpers/keywarden-cli.ts respond …`.
 * The tests that kill a run (SIGKILL between two steps) need a process of its own; no build needed.
 */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
