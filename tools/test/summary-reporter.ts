import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the run's result as one line, `N passed, N failed`, after vitest's own report,
 * so that CI logs show at a glance whether tests ran at all.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failedHere += 1;
      }
      // A file that failed to load, or whose beforeAll/afterAll failed, has no failed test of its own (its tests
      // did not run or were skipped); count it so the failure is not silent.
      if (module.state() === 'failed' && failedHere === 0) failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  }
}
