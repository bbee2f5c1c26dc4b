// Independent check of attestd's JOSE layer with the `jose` npm package.
// Usage: node jose_interop.mjs <dir> <path of node_modules/jose>
//   <dir>/attestd.json: {"jwks": {...}, "tokens": [{"alg","token","payload"}],
//                        "thumbprints": {"<kid>": "<base64url RFC 7638>"}}
//   Verifies every token against the JWKS (createLocalJWKSet), checks the
//   thumbprints, then writes <dir>/node.json with tokens jose signed itself
//   (one per algorithm) and their public JWKS, for the C side to verify.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, josePath] = process.argv.slice(2);
const jose = await import(pathToFileURL(join(josePath, 'dist/node/esm/index.js')).href);
const input = JSON.parse(readFileSync(join(dir, 'attestd.json'), 'utf8'));
const keySet = jose.createLocalJWKSet(input.jwks);
let failures = 0;

for (const t of input.tokens) {
  try {
    const { payload, protectedHeader } = await jose.compactVerify(t.token, keySet, { algorithms: [t.alg] });
    const text = new TextDecoder().decode(payload);
    if (text !== t.payload) throw new Error('payload differs');
    if (protectedHeader.alg !== t.alg) throw new Error('alg differs');
    console.log(`ok verify ${t.alg} kid=${protectedHeader.kid}`);
  } catch (e) {
    failures++;
    console.log(`FAIL verify ${t.alg}: ${e.message}`);
  }
  // The same token with one payload character changed must fail.
  const parts = t.token.split('.');
  const p = parts[1];
  const mid = Math.floor(p.length / 2);
  parts[1] = p.slice(0, mid) + (p[mid] === 'A' ? 'B' : 'A') + p.slice(mid + 1);
  try {
    await jose.compactVerify(parts.join('.'), keySet, { algorithms: [t.alg] });
    failures++;
    console.log(`FAIL tampered ${t.alg} verified`);
  } catch {
    console.log(`ok tampered ${t.alg} refused`);
  }
}
for (const k of input.jwks.keys) {
  const tp = await jose.calculateJwkThumbprint(k, 'sha256');
  if (tp !== input.thumbprints[k.kid]) {
    failures++;
    console.log(`FAIL thumbprint ${k.kid}: jose ${tp}`);
  } else {
    console.log(`ok thumbprint ${k.kid}`);
  }
}

// The other direction: tokens jose signs, for attestd to verify.
const out = { jwks: { keys: [] }, tokens: [] };
const specs = [['RS256', {}], ['PS256', {}], ['ES256', {}], ['ES384', {}]];
for (const [alg, opts] of specs) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { ...opts, extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  jwk.kid = `node-${alg}`;
  out.jwks.keys.push(jwk);
  const payload = JSON.stringify({ iss: 'node-jose', alg, iat: 1700000000, exp: 1700003600 });
  const token = await new jose.CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT' })
    .sign(privateKey);
  out.tokens.push({ alg, token, payload });
}
writeFileSync(join(dir, 'node.json'), JSON.stringify(out));
console.log(failures === 0 ? 'ALL OK' : `${failures} FAILURES`);
process.exit(failures === 0 ? 0 : 1);
