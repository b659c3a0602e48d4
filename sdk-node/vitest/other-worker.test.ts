// A second file, run by vitest in another worker thread at the same time as host-view.test.ts:
// each worker has its own process.env and its own query registry, as with upstream's SDK.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { createRequire } from 'node:module';

// Loaded as Node loads a dependency (vitest leaves node_modules to Node): the CommonJS build.
const sdk = createRequire(import.meta.url)('../dist/index.js') as typeof import('../dist/index');
const { query, state } = sdk;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'the0-vitest-other-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('state written here lands in this worker\'s STATE_DIR only', () => {
  process.env.STATE_DIR = dir;
  for (let i = 0; i < 50; i += 1) state.set(`k${i}`, i);
  expect(state.list()).toHaveLength(50);
  expect(fs.readdirSync(dir).filter((n) => n.endsWith('.json'))).toHaveLength(50);
});

test('paths registered in another worker are not this worker\'s', async () => {
  const result = path.join(dir, 'result.json');
  process.env.THE0_QUERY_RESULT_FILE = result;
  delete process.env.BOT_TYPE;
  delete process.env.QUERY_PATH;
  query.handler('/other', () => 2);
  await query.run();
  expect(JSON.parse(fs.readFileSync(result, 'utf8')).data.available_queries).toEqual(['/health', '/info', '/other']);
});
