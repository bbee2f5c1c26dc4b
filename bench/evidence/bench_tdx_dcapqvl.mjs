// The peer of bench_tdx: @phala/dcap-qvl (pure JS) verifying one TD quote
// with the same collateral (the vector's collateral.dcap-qvl.json) at the
// same time, in a loop. Prints one line:
//   dcapqvl <median ms> <min ms> <n> <ok|error message>
// Usage: node bench_tdx_dcapqvl.mjs QUOTE COLLATERAL_JSON NOW N
// The package comes from tests/interop/node_modules (npm ci there).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/interop/package.json'));
const { verify } = require('@phala/dcap-qvl');

const [quotePath, collPath, nowArg, nArg] = process.argv.slice(2);
const quote = new Uint8Array(readFileSync(quotePath));
const collateral = JSON.parse(readFileSync(collPath, 'utf8'));
const now = Number(nowArg);
const n = Number(nArg || 30);

let outcome = 'ok';
// Warm-up, untimed (as bench_sgx_dcapqvl.mjs): the JIT compiles the hot paths first.
for (let i = 0; i < 5; i++) { try { verify(quote, collateral, now); } catch (e) { /* timed below */ } }
const times = [];
const cpus = [];
for (let i = 0; i < n; i++) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  try {
    verify(quote, collateral, now);
  } catch (e) {
    outcome = String(e.message || e).replace(/\s+/g, ' ');
  }
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  const c = process.cpuUsage(c0);
  cpus.push((c.user + c.system) / 1e3);
}
const med = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)].toFixed(3);
console.log(`dcapqvl ${med(times)} ${med(cpus)} ${n} ${outcome}`);
