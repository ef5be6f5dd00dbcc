/**
 * Fault injection for the crash tests: `KEYWARDEN_TEST_KILL_AFTER=revoke` SIGKILLs this process
 * right after the first step of that kind is recorded as done — the moment between revoke and
 * rotate that a re-run (a `respond` run again, or the App's job taken over after its lease) must
 * finish without doing anything twice. Does nothing unless KEYWARDEN_TEST_FAULTS=1 is set too,
 * so one stray variable cannot make it fire.
 */
import type { StepResult } from './types.js';

export function crashHook(env: NodeJS.ProcessEnv): { onStep?: (r: StepResult) => void } {
  const after = env.KEYWARDEN_TEST_KILL_AFTER;
  if (!after || env.KEYWARDEN_TEST_FAULTS !== '1') return {};
  return {
    onStep: (r) => {
      if (r.step.kind === after && r.status === 'done') process.kill(process.pid, 'SIGKILL');
    },
  };
}
