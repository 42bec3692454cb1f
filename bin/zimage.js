#!/usr/bin/env node
// The `zimage` command: registers tsx (the project runs its TypeScript sources directly) and starts the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
