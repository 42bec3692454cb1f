// Worker threads do not inherit tsx's loader from `node --import tsx` (or vitest's transform), so the classifier
// thread registers it before importing its TypeScript entry. Plain JavaScript on purpose: Node loads this first.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
