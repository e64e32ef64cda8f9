// assert.throws for qarm's typed errors: the class, the argument it names, and the message.
import assert from 'node:assert/strict';

/** Asserts that `fn` throws an instance of `Cls` naming `arg`, with a message matching `re`. */
export function throwsArg(fn, Cls, arg, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
    assert.equal(e.argument, arg);
    assert.match(e.message, re);
    return true;
  });
}
