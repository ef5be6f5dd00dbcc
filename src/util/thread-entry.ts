/**
 * The entry of a worker thread, next to the module that starts it. Built code runs `<name>.js`;
 * under a TypeScript runner the entry is `<name>.ts`, loaded by a one-line bootstrap that
 * registers tsx in the new thread (Node 20 does not pass `--import` hooks on to workers).
 *
 * @example
 * new Worker(threadEntry(import.meta.url, './worker'), { workerData });
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export function threadEntry(here: string, relative: string): URL {
  if (!here.endsWith('.ts')) return new URL(`${relative}.js`, here);
  const tsxApi = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs')).href;
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(new URL(`${relative}.ts`, here).href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
