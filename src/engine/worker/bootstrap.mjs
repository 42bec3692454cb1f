// Worker threads do not inherit tsx's loader from `node --import tsx`, so each worker registers it before importing
// its TypeScript entry. Plain JavaScript on purpose: this file is what Node loads first.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
