import { it } from 'vitest';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { createAppHarness } from '../helpers/app-harness.js';
it('dbg', async () => {
  const h = await createAppHarness();
  await h.gh.createRepo('acme', 'api', { files: { 'README.md': '# api\n' } });
  const token = secretGenerators['github-pat-classic']!(createRng('app-push-gh')).secret;
  const before = (await h.gh.refSha('acme', 'api', 'heads/main'))!;
  const after = await h.gh.commit('acme', 'api', { branch: 'main', files: { 'src/config.ts': `export const config = {\n  token: '${token}',\n};\n` } });
  await h.deliver(await h.gh.pushEvent('acme', 'api', { before, after }));
  await h.idle();
  for (const l of h.lines) if (/"level":(40|50)|job|push/.test(l)) console.log(l.slice(0, 600));
  console.log(h.gh.requests.map((r) => `${r.method} ${r.path} ${r.status}`).join('\n'));
  console.log(h.gh.violations);
  await h.close();
}, 60000);
