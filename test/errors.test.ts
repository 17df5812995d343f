import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, ErrorCode, badInput } from '../src/errors.js';
import { FloatVector } from '../src/graphql/types/scalars.js';

test("a client's mistake carries no stack frames (nothing for graphql-js to format); a server fault keeps them", () => {
  const bad = badInput('visual[0] must be finite', { path: 'input.features.visual' });
  assert.equal(bad.stack, 'AppError: visual[0] must be finite');
  assert.equal(bad.code, ErrorCode.BAD_USER_INPUT);
  for (const code of [ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN]) {
    assert.doesNotMatch(new AppError(code, 'x').stack!, /\n\s+at /, code);
  }
  assert.match(new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'broken').stack!, /\n\s+at /);
  assert.throws(() => FloatVector.parseValue([1, 'x']), (err: Error) => err.stack === `GraphQLError: ${err.message}` && /item 1 is "x"/.test(err.message));
});
