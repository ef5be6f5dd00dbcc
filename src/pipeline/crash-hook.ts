/**
 * Fault injection for the crash tests: `KEYWARDEN_TEST_KILL_AFTER=revoke` SIGKILLs this process
 * right after the first step of that kind is recorded as done — the moment between revoke and
 * rotate that a re-run (a `respond` run again, or the App's job taken over after its lease) must
 * finish without doing anything twice. In the App's job child process it kills the App (the
 * parent, its intake) first. Does nothing unless KEYWARDEN_TEST_FAULTS=1 is set too,
 * so one stray variable cannot make it fire.
 */
import type { StepResult } from './types.js';

export function crashHook(env: NodeJS.ProcessEnv): { onStep?: (r: StepResult) => void } {
  const after = env.KEYWARDEN_TEST_KILL_AFTER;
  if (!after || env.KEYWARDEN_TEST_FAULTS !== '1') return {};
  return {
    onStep: (r) => {
      if (r.step.kind !== after || r.status !== 'done') return;
      // The App's job side in a child process: the App is killed, its intake included.
      if (process.env.KEYWARDEN_APP_JOB_CHILD === '1' && process.send) process.kill(process.ppid, 'SIGKILL');
      process.kill(process.pid, 'SIGKILL');
    },
  };
}
