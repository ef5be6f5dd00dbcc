// Preloaded into secretlint (`node --import`) for the "profiler off" variant of the benchmark.
// secretlint 11.x records a performance mark per rule per file even without --profile, and its
// observer scans every earlier mark on each new one, so a run costs O(files²) (secretlint#1633,
// fixed upstream by #1673). Making mark() a no-op is what that fix does when --profile is absent.
import { secretLintProfiler } from '@secretlint/profiler';

secretLintProfiler.mark = () => {};
