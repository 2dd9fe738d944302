// One error catalog (broker-free): every error the gateway answers is built in core/errors.ts, and
// the catalog and openapi.yaml name the same error codes (as fastify checks its errors against its docs).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Errors, GatewayError, httpStatusOf } from '../../src/core/errors.js';

const contract = readFileSync('openapi.yaml', 'utf8');
/** Factories whose code is chosen by their caller (from the contract's x-error-code, or a library's status). */
const CALLER_CODED = new Set(['fromHttpStatus', 'invalidParameter', 'invalidBody']);

function catalogCodes(): Map<number, string> {
  const codes = new Map<number, string>();
  for (const [name, factory] of Object.entries(Errors)) {
    if (CALLER_CODED.has(name)) continue;
    const takesIssues = name === 'recordValidation' || name === 'schemaDataInvalid';
    const args = takesIssues ? [[{ path: 'records[0]', message: 'x' }]] : ['x', 1];
    const err = (factory as (...a: unknown[]) => unknown)(...args);
    assert.ok(err instanceof GatewayError, `${name} builds a GatewayError`);
    codes.set(err.errorCode, name);
  }
  return codes;
}

describe('error catalog', () => {
  it('is the only place that constructs errors', () => {
    const offenders = readdirSync('src', { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts') && f !== 'core/errors.ts')
      .filter((f) => readFileSync(`src/${f}`, 'utf8').includes('new GatewayError('));
    assert.deepEqual(offenders, [], 'build errors with Errors.* from src/core/errors.ts');
  });

  it('emits only codes openapi.yaml documents, with their HTTP status answered where documented', () => {
    // Statuses answered per operation, and those the contract states for every path (404, 405).
    const statuses = new Set(
      [...contract.matchAll(/'(\d{3})':|answers (\d{3})|, (\d{3}) \(/g)].map((m) => Number(m[1] ?? m[2] ?? m[3])),
    );
    for (const [code, name] of catalogCodes()) {
      if (code >= 1000) assert.match(contract, new RegExp(`\\b${code}\\b`), `${name}: ${code} is not in openapi.yaml`);
      assert.ok(statuses.has(httpStatusOf(code)), `${name}: HTTP ${httpStatusOf(code)} is answered by no operation`);
    }
  });

  it('documents no Confluent error code the catalog cannot emit', () => {
    const emitted = new Set(catalogCodes().keys());
    for (const m of contract.matchAll(/x-error-code: (\d+)/g)) emitted.add(Number(m[1]));
    const documented = new Set([...contract.matchAll(/\b([45]\d{4})\b/g)].map((m) => Number(m[1])));
    for (const code of documented) assert.ok(emitted.has(code), `openapi.yaml documents ${code}, which nothing emits`);
  });
});
