// Times @phala/dcap-qvl verify() on one quote with its collateral at a pinned time, for bench_sgx.c.
// Usage: node bench_sgx_dcapqvl.mjs <dcap-qvl package dir> <quote.bin> <collateral.dcap-qvl.json> <now> <iterations>
// Times are process CPU time (user + system) per verify.
// Prints one JSON line: {"status":..., "median_us":..., "mean_us":..., "min_us":..., "n":...}.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [pkg, quoteFile, collFile, nowArg, iterArg] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(pkg), 'package.json'));
const { verify } = require(path.resolve(pkg));
const quote = new Uint8Array(readFileSync(quoteFile));
const collateral = JSON.parse(readFileSync(collFile, 'utf8'));
const now = Number(nowArg);
const n = Number(iterArg || 50);

let status = 'error';
try {
  status = verify(quote, collateral, now).status;
} catch (e) {
  status = 'error: ' + e.message;
}
for (let i = 0; i < 5; i++) { try { verify(quote, collateral, now); } catch (e) { /* warm-up */ } }
const times = [];
for (let i = 0; i < n; i++) {
  const t0 = process.cpuUsage();
  try { verify(quote, collateral, now); } catch (e) { /* timed like a success */ }
  const d = process.cpuUsage(t0);
  times.push(d.user + d.system); // CPU microseconds (the machine is shared)
}
times.sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / n;
console.log(JSON.stringify({ status, median_us: times[n >> 1], mean_us: mean, min_us: times[0], n }));
