/** `bin/keywarden.js` from the TypeScript sources (tsx), for `npm run bench:scale -- --from src`. */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
