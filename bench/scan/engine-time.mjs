// Times Keywarden's engine (`scanBytes` of a build's dist/) in a process of its own, so that the
// benchmark can stop it: on the first `quarter` bytes of a file plus its last `tail` bytes, then
// on the whole file. Prints JSON: { quarterSeconds, fullSeconds, found }.
// Usage: node engine-time.mjs <dist/scan dir> <file> <quarter bytes> <tail bytes> <fingerprint>
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, file, quarterArg, tailArg, want] = process.argv.slice(2);
const engine = await import(pathToFileURL(path.join(dist, 'engine.js')).href);
const { builtinDetectors } = await import(pathToFileURL(path.join(dist, 'detectors/index.js')).href);
const ruleset = engine.createRuleset(builtinDetectors);
const bytes = readFileSync(file);
const tail = Number(tailArg);
const quarter = Buffer.concat([bytes.subarray(0, Number(quarterArg)), bytes.subarray(bytes.length - tail)]);
const time = (b) => {
  const t = process.hrtime.bigint();
  const r = engine.scanBytes(b, ruleset, { file: 'input.txt' });
  return { s: Number(process.hrtime.bigint() - t) / 1e9, found: r.findings.some((f) => f.fingerprint === want) };
};
time(quarter); // warm the regexes up
const q = time(quarter);
const full = time(bytes);
process.stdout.write(JSON.stringify({ quarterSeconds: q.s, fullSeconds: full.s, found: full.found }));
