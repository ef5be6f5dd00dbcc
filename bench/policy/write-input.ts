/** Write the bench input (prepared, as the engine hands it to wasm) to a file, for `opa eval --profile` and `opa bench`. */
import { writeFileSync } from 'node:fs';
import { prepareInput } from '../../src/policy/input.js';
import { benchInput } from './input.js';

writeFileSync(process.argv[2] ?? 'bench-input.json', JSON.stringify(prepareInput(benchInput())));
