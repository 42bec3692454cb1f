// A process that owns an engine, for the restart tests: it submits jobs, reports them on stdout, and either gets
// killed (SIGKILL) or asked to stop (SIGTERM, through the same handler main.ts installs).
import { createLogger } from '../../src/logging.ts';
import { stopOnSignals } from '../../src/shutdown.ts';
import { owner, startFakeEngine, testConfig } from './fakes.ts';

const [dataDir, countText, stepMsText, platforms] = process.argv.slice(2);
const config = testConfig({ dataDir, queue: { maxWaitingPerUser: 100, updateIntervalMs: 0 } });
const engine = await startFakeEngine({ config, stepMs: Number(stepMsText) });
stopOnSignals(() => engine.shutdown(), createLogger('silent'));
const platformList = (platforms ?? 'test').split(',');
for (let i = 0; i < Number(countText); i++) {
  const platform = platformList[i % platformList.length]!;
  const result = await engine.submit(
    { role: 'draft', owner: owner(`user${i % 4}`, platform), prompt: `job ${i}`, count: 1, seed: i },
    { delivery: { channel: `c${i}` }, onEvent: (e) => e.type === 'started' && console.log(`started ${i}`) },
  );
  if (!result.ok) throw new Error(result.error.message);
  console.log(`queued ${result.value.id}`);
}
console.log('ready');
