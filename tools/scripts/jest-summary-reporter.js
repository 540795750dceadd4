// Appends each Jest run's totals to tmp/test-results so tools/scripts/test-all.mjs can print
// one summary line for the whole workspace, with the name and first message lines of every failure (the
// CI log is often seen only by its tail).
const fs = require('node:fs');
const path = require('node:path');

class JestSummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const dir = path.join(__dirname, '../../tmp/test-results');
    fs.mkdirSync(dir, { recursive: true });
    const name = path.relative(path.join(__dirname, '../..'), this.rootDir).replace(/[\\/]/g, '_') || 'root';
    // One file per project and tier (jest.preset.js): the tiers of a project run as separate targets.
    const tier = process.env['TEST_TIER'] ?? 'unit';
    const summary = {
      project: tier === 'unit' ? name : `${name} (${tier})`,
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      failures: failuresOf(results, path.join(__dirname, '../..')),
    };
    fs.writeFileSync(path.join(dir, tier === 'unit' ? `${name}.json` : `${name}.${tier}.json`), JSON.stringify(summary));
  }
}

/** `file › test name: first message lines` for each failed test or suite that failed to run. */
function failuresOf(results, root) {
  const failures = [];
  for (const file of results.testResults) {
    const where = path.relative(root, file.testFilePath);
    if (file.testExecError || (file.failureMessage && file.numFailingTests === 0)) {
      failures.push(`${where}: ${gist(file.testExecError?.message ?? file.failureMessage)}`);
    }
    for (const test of file.testResults) {
      if (test.status === 'failed') failures.push(`${where} › ${test.fullName}: ${gist(test.failureMessages.join('\n'))}`);
    }
  }
  return failures;
}

function gist(text) {
  // eslint-disable-next-line no-control-regex
  const plain = String(text ?? '').replace(/\u001b\[[0-9;]*m/g, '');
  // Three lines: an assertion's first line alone ("expect(received).toBe(expected)") says too little.
  const line = plain
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('●') && !l.startsWith('at '))
    .slice(0, 3)
    .join(' | ');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

module.exports = JestSummaryReporter;
