import { FakeOpenAI, type FakeOpenAIOptions } from './fake-openai.ts';

/**
 * A fake OpenAI-compatible server in a process of its own (for the benchmark, so its work is not the bot's): the
 * options come as JSON in argv[2], its base URL goes to the parent over IPC.
 */
const fake = await FakeOpenAI.start(JSON.parse(process.argv[2] ?? '{}') as FakeOpenAIOptions);
process.on('disconnect', () => void fake.close().then(() => process.exit(0)));
process.send?.({ url: fake.url });
