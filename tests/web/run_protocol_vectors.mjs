// node tests/web/run_protocol_vectors.mjs VECTORS.json: check web/protocol under node.
// Prints "N passed, N failed"-style output and exits non-zero on any failure.
import { readFileSync } from 'node:fs';

import { checkVectors } from './protocol_vectors_check.mjs';

const vectors = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const failures = await checkVectors(vectors, new URL('../../web/', import.meta.url).href);
for (const f of failures) console.log(`FAIL ${f}`);
console.log(failures.length ? `${failures.length} failed` : 'all vectors match');
process.exit(failures.length ? 1 : 0);
