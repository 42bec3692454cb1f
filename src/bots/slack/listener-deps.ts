import type { FetchPolicy } from '../core/attachments.ts';
import type { Logger } from '../../logging.ts';
import type { SlackDispatcher } from './dispatcher.ts';

/** What every listener module's `register(app, deps)` receives. */
export interface ListenerDeps {
  readonly dispatcher: SlackDispatcher;
  readonly log: Logger;
  /** Where and how user images may be downloaded from. */
  readonly download: FetchPolicy;
}
