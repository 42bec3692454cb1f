// A process that starts the NSFW classifier, judges one image, closes it and then simply returns: it must end by
// itself with exit code 0 (close() keeps the process alive until the classifier thread has exited, no longer).
import { moderationSchema } from '../../src/moderation/config.ts';
import { NsfwClassifier } from '../../src/moderation/nsfw-classifier.ts';

const classifier = await NsfwClassifier.start(moderationSchema.parse({ timeoutMs: 60_000 }), () => undefined);
const verdict = await classifier.judge({ width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(128) });
console.log(`verdict ${verdict.flagged ? 'flagged' : 'passed'}`);
await classifier.close();
console.log('closed');
