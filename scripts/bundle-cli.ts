/**
 * `tsx scripts/bundle-cli.ts` (the last step of `npm run build`): bundles the compiled CLI
 * (`dist/cli/main.js` and every command it loads) with esbuild into `dist/bundle/`, which
 * `bin/keywarden.js` runs. One file per command group (code splitting keeps `keywarden scan` from
 * loading `app`), instead of a hundred and more modules each resolved, read and compiled on every
 * start: loading the `check` command went from ~200 ms to ~90 ms.
 *
 * What stays as it was:
 * - `dist/` is still the SDK (`main`/`exports`), unbundled; the bundle is only the CLI's.
 * - Each module's `import.meta.url` is rewritten to the URL of its own file in `dist/`, so the
 *   paths it computes from it (the policy packs, the built-in OPA builder, worker entries,
 *   `createRequire` of optional packages) are the same as unbundled.
 * - Packages are external (loaded from node_modules as before) unless they are small, pure
 *   JavaScript and on the paths of the everyday commands (`INLINE`).
 */
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const repoRoot = path.resolve(import.meta.dirname, '..');
export const DIST = path.join(repoRoot, 'dist');
export const BUNDLE_DIR = path.join(DIST, 'bundle');

/** Packages bundled in: pure JavaScript (no native code, no files read beside themselves). */
const INLINE = new Set(['yaml', 'commander', 'picocolors', 'ignore', '@open-policy-agent/opa-wasm', 'sprintf-js']);

const packageOf = (spec: string): string => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

const keepPackagesExternal: Plugin = {
  name: 'keywarden-externals',
  setup(b) {
    // Bare specifiers (not relative, not absolute, not node:): external unless inlined.
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      return INLINE.has(packageOf(args.path)) ? undefined : { path: args.path, external: true };
    });
  },
};

/**
 * opa-wasm's Rego builtins `yaml.marshal`, `yaml.unmarshal` and `yaml.is_valid` use its own copy of
 * YAML 1.x, which it loads at start: ~200 KB of JavaScript that a policy without those builtins
 * never runs. In the bundle, its `require("yaml")` gets a stand-in that loads that copy (from
 * opa-wasm's folder, as unbundled) on the first call.
 */
const lazyOpaYaml: Plugin = {
  name: 'keywarden-lazy-opa-yaml',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, (args) => (/[\\/]@open-policy-agent[\\/]opa-wasm[\\/]src[\\/]builtins[\\/]yaml\.js$/.test(args.importer) ? { path: 'opa-wasm-yaml', namespace: 'keywarden-lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'keywarden-lazy' }, () => ({
      loader: 'js',
      contents: [
        "const { createRequire } = require('node:module');",
        'let yaml;',
        "const load = () => (yaml ??= createRequire(require.resolve('@open-policy-agent/opa-wasm'))('yaml'));",
        'module.exports = { parse: (...a) => load().parse(...a), stringify: (...a) => load().stringify(...a) };',
      ].join('\n'),
    }));
  },
};

const ownImportMetaUrl: Plugin = {
  name: 'keywarden-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(`${DIST}${path.sep}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'js' };
      // Every chunk sits in BUNDLE_DIR, so the module's own file is this path away from it.
      const rel = path.relative(BUNDLE_DIR, args.path).split(path.sep).join('/');
      return { contents: text.replace(/\bimport\.meta\.url\b/g, `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

export async function bundleCli(): Promise<void> {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  await build({
    entryPoints: { main: path.join(DIST, 'cli', 'main.js') },
    outdir: BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Inlined CommonJS packages `require` Node's built-ins.
    banner: { js: "import { createRequire as __keywardenCreateRequire } from 'node:module';\nconst require = __keywardenCreateRequire(import.meta.url);" },
    plugins: [lazyOpaYaml, keepPackagesExternal, ownImportMetaUrl],
    logLevel: 'warning',
    legalComments: 'none',
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bundleCli();
