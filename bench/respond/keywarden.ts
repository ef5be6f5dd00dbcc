/**
 * The pipeline as the CLI runs it: the compiled modules in dist/ (`npm run build`), typed by
 * their sources. The benchmark's in-process runs and its CLI runs then measure the same code,
 * and the scan's worker threads load `dist/scan/worker.js`, not TypeScript through tsx.
 *
 * Everything that meets the pipeline's own objects comes from here (one module instance):
 * `clearBuildCache` must clear the cache `compose` builds into, and `instanceof` checks
 * (`LocalBackend`, `isKeywardenError`) only hold against dist's classes.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const distDir = path.join(repoRoot, 'dist');
if (!existsSync(path.join(distDir, 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');

const load = <T>(file: string): Promise<T> => import(pathToFileURL(path.join(distDir, file)).href) as Promise<T>;

export const { compose } = await load<typeof import('../../src/compose.js')>('compose.js');
export const { runPipeline } = await load<typeof import('../../src/pipeline/run.js')>('pipeline/run.js');
export const { SqliteStepStore } = await load<typeof import('../../src/store/steps.js')>('store/steps.js');
export const { clearBuildCache } = await load<typeof import('../../src/policy/engine/build.js')>('policy/engine/build.js');
export const { LocalBackend } = await load<typeof import('../../src/backends/local.js')>('backends/local.js');
export const { isKeywardenError } = await load<typeof import('../../src/errors.js')>('errors.js');
