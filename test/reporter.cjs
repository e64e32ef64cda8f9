// Mocha's dot reporter plus a closing 'N passed, N failed' line that CI reads.
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class CountingReporter extends Mocha.reporters.Dot {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || {};
      const line = `${s.passes || 0} passed, ${s.failures || 0} failed` + (s.pending ? `, ${s.pending} skipped` : '');
      process.stdout.write(`\n${line}\n`);
    });
  }
}

module.exports = CountingReporter;
