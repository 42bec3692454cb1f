import type { Engine, SettingsKey } from '../../engine/engine.ts';
import type { JobHistory, JobRecord } from '../../engine/history.ts';
import type { Logger } from '../../logging.ts';
import type { ModerationPolicy } from '../../moderation/verdict.ts';
import { fail, ok, type Result } from '../../result.ts';
import { boardItems, parseWindow, renderBoard, type VoteGesture } from './board.ts';
import { ownsOrAdministers, scopeOf, type ParsedCommand, type Place, type Who } from './command.ts';
import { readDelivery } from './delivery-envelope.ts';
import type { UserError } from './errors.ts';
import { chainOf, originOf } from './lineage.ts';
import type { CommandOptions } from './options.ts';
import { renderStoredResult, type JobView } from './render.ts';
import type { Reply } from './reply.ts';
import {
  applyChange,
  checkChange,
  draftDefaults,
  readSettings,
  renderSettings,
  type ChannelSettings,
  type PersonalSettings,
  type SettingsCommand,
  type SettingsRules,
} from './settings.ts';
import { text } from './texts.ts';
import { VoteRefresher } from './vote-refresher.ts';

type Resolved<T> = Result<T, UserError>;
type ResultReply = Extract<Reply, { kind: 'result' }>;
type BoardReply = Extract<Reply, { kind: 'board' }>;

export interface TeamDeps {
  readonly engine: Engine;
  readonly log: Logger;
  /** The config's policy for a place, where its channel chose none. */
  readonly policyFor: (place: Place) => ModerationPolicy;
  /** What channel and personal settings may hold; absent: counts up to 4, and only `block` for channels to choose. */
  readonly settings?: Pick<SettingsRules, 'maxCount' | 'channelPolicies'> | undefined;
  /** A result whose votes changed is edited at most this often (default 3 s). */
  readonly voteEditIntervalMs?: number | undefined;
  /** Whether a job's result offers Enhance (the prompt assistant is configured and can rewrite its prompt); absent: never. */
  readonly canEnhance?: ((record: JobRecord) => boolean) | undefined;
}

/** A vote as it stands after a press. */
export interface VoteOutcome {
  readonly on: boolean;
  /** Votes per candidate index. */
  readonly votes: readonly number[];
}

/** A channel's and a person's settings, and whether this person may change the channel's. */
export interface SettingsView {
  readonly channel: ChannelSettings;
  readonly personal: PersonalSettings;
  readonly canConfigure: boolean;
}

/** The most entries a board shows: two rows of four on the contact sheet. */
const BOARD_SIZE = 8;

/**
 * What a team builds on the jobs, for every platform alike: votes (and their live edits), the board of a place's
 * most voted candidates, lineage (what came from what), and channel and personal settings with their precedence.
 * Writes go through the engine; adapters supply only the gesture and the rendering.
 */
export class Team {
  readonly #deps: TeamDeps;
  readonly #engine: Engine;
  readonly #history: JobHistory;
  readonly #refresher: VoteRefresher;

  constructor(deps: TeamDeps) {
    this.#deps = deps;
    this.#engine = deps.engine;
    this.#history = deps.engine.history;
    this.#refresher = new VoteRefresher({ intervalMs: deps.voteEditIntervalMs ?? 3000, log: deps.log });
  }

  /** Votes per candidate index of a job (0 where none). */
  votesOf(jobId: string): number[] {
    const record = this.#history.get(jobId);
    const counts = new Map(this.#engine.team.votes(jobId).map((v) => [v.candidate, v.count]));
    return (record?.result?.images ?? []).map((image) => counts.get(image.index) ?? 0);
  }

  /**
   * One vote per person per candidate of a finished result, from anyone where it was posted; `on` absent toggles
   * (pressing again takes it back). `refresh` re-shows the result with the new counts: at once for the first change,
   * then at most once per interval, always with the newest counts.
   */
  vote(jobId: string, index: number, who: Who, options: { readonly on?: boolean; readonly refresh?: (reply: ResultReply) => Promise<void> } = {}): Resolved<VoteOutcome> {
    const record = this.#history.get(jobId);
    if (!record || record.scope.platform !== who.actor.platform) return fail({ code: 'unknown-job' });
    if (record.status !== 'done' || !record.result) return fail({ code: 'not-a-result' });
    const image = record.result.images.find((i) => i.index === index);
    if (!image) return fail({ code: 'no-such-candidate', params: { n: index + 1, count: record.result.images.length } });
    if (image.withheld) return fail({ code: 'candidate-withheld' });
    const { actor } = who;
    const voter = actor.name === undefined ? { platform: actor.platform, userId: actor.userId } : { platform: actor.platform, userId: actor.userId, name: actor.name };
    const on = options.on ?? !this.#engine.team.hasVoted(jobId, index, voter);
    const voted = this.#engine.vote(jobId, index, voter, on);
    if (!voted.ok) return voted;
    const refresh = options.refresh;
    if (refresh) {
      this.#refresher.schedule(jobId, async () => {
        const reply = this.storedResult(jobId);
        if (reply) await refresh(reply);
      });
    }
    return ok({ on, votes: this.votesOf(jobId) });
  }

  /** The candidates (indices) of a job this person has voted for, so a platform can mark their own votes. */
  votedBy(jobId: string, voter: { readonly platform: string; readonly userId: string }): number[] {
    const images = this.#history.get(jobId)?.result?.images ?? [];
    return images.filter((image) => this.#engine.team.hasVoted(jobId, image.index, voter)).map((image) => image.index);
  }

  /**
   * What rendering a journaled job needs: its language, origin, votes, whether it can be upscaled now, the prompt the
   * assistant wrote it from, and whether it can be enhanced.
   */
  viewOf(record: JobRecord): JobView {
    const delivery = readDelivery(record);
    return {
      jobId: record.id,
      parentId: record.parentId,
      role: record.role,
      prompt: record.spec.userPrompt,
      locale: delivery.locale,
      votes: this.votesOf(record.id),
      origin: originOf(record),
      upscaled: record.spec.upscale !== undefined,
      canUpscale: (size) => this.#engine.canUpscale(size),
      enhancedFrom: delivery.enhancedFrom,
      canEnhance: this.#deps.canEnhance?.(record) ?? false,
    };
  }

  /** A finished job's result drawn from the journal with its current votes and origin, without images. */
  storedResult(jobId: string): ResultReply | undefined {
    const record = this.#history.get(jobId);
    return record && renderStoredResult(record, this.viewOf(record));
  }

  /**
   * The place's most voted candidates over a window (`2h`, `7d`; default 24 h), with a contact sheet and Refine and
   * Vary for each. `gesture` is how this platform votes, for the empty board's hint.
   */
  async board(who: Who, window: string, gesture: VoteGesture): Promise<Resolved<BoardReply>> {
    const parsed = parseWindow(window);
    if (!parsed.ok) return parsed;
    const entries = this.#engine.team.board(scopeOf(who.place), Date.now() - parsed.value.ms, BOARD_SIZE);
    return ok(await renderBoard(who.actor.locale, boardItems(entries, this.#history), parsed.value, gesture));
  }

  /** A job's ancestors from the first down to it, and the jobs made from it. */
  lineage(jobId: string): Resolved<{ readonly chain: readonly JobRecord[]; readonly children: readonly JobRecord[] }> {
    const chain = chainOf(this.#history, jobId);
    if (chain.length === 0) return fail({ code: 'unknown-job' });
    return ok({ chain, children: this.#history.children(jobId) });
  }

  /** The place's and the person's settings as stored (well-formed values only). */
  settingsOf(who: Who): SettingsView {
    const { team } = this.#deps.engine;
    return {
      channel: readSettings(team.settings({ kind: 'channel', scope: scopeOf(who.place) })),
      personal: readSettings(team.settings({ kind: 'user', platform: who.actor.platform, userId: who.actor.userId })) as PersonalSettings,
      canConfigure: who.actor.canConfigure === true,
    };
  }

  /**
   * `/settings`: nothing shows them; a change to the channel's needs the right to configure it (the adapter says who
   * has it), a change to one's own needs nothing. Every value is checked before anything is saved; the answer is the
   * settings as they now are.
   */
  settings(who: Who, command: SettingsCommand): Resolved<string> {
    const { locale } = who.actor;
    if (command.kind === 'show') return ok(renderSettings(locale, this.settingsOf(who)));
    if (command.target === 'channel' && who.actor.canConfigure !== true) return fail({ code: 'not-allowed-to-configure' });
    const checked = checkChange(command, this.#rules(who.place));
    if (!checked.ok) return checked;
    const current = this.settingsOf(who);
    const key: SettingsKey = command.target === 'channel' ? { kind: 'channel', scope: scopeOf(who.place) } : { kind: 'user', platform: who.actor.platform, userId: who.actor.userId };
    const next = applyChange(command.target === 'channel' ? current.channel : current.personal, checked.value);
    const saved = this.#engine.saveSettings(key, next, `${who.actor.platform}:${who.actor.userId}`);
    if (!saved.ok) return saved;
    return ok(text(locale, 'settings.saved', { values: renderSettings(locale, this.settingsOf(who)) }));
  }

  /**
   * Records that a platform message (by the adapter's own key: a message id, a channel and timestamp) shows a job, so
   * a reaction on it finds the job after any restart. A failed write is logged: the message still works, its
   * reactions just cannot be counted.
   */
  linkMessage(platform: string, message: string, jobId: string): void {
    const linked = this.#engine.linkMessage(platform, message, jobId);
    if (!linked.ok) this.#deps.log.warn({ job: jobId, platform }, 'could not record which message shows a job');
  }

  /** The job a platform message shows, by the key it was linked with. */
  jobOfMessage(platform: string, message: string): string | undefined {
    return this.#engine.team.jobOfMessage(platform, message);
  }

  /** Sends the vote edits still waiting (shutdown). */
  flush(): Promise<void> {
    return this.#refresher.flushAll();
  }

  /** A deleted result leaves the board. */
  clearVotes(jobId: string): Resolved<void> {
    return this.#engine.clearVotes(jobId);
  }

  /** A draft's options with the person's defaults, then the channel's, under the command's own. */
  draftOptions(options: CommandOptions, who: Who): CommandOptions {
    const { channel, personal } = this.settingsOf(who);
    return draftDefaults(options, personal, channel, this.#rules(who.place));
  }

  #rules(place: Place): SettingsRules {
    return {
      maxCount: this.#deps.settings?.maxCount ?? 4,
      channelPolicies: this.#deps.settings?.channelPolicies ?? ['block'],
      styles: this.#engine.styles,
      channelIsNsfw: place.channelIsNsfw,
    };
  }

  /** The channel's policy when its admins chose one the operator allows (a spoiler only where the platform marks NSFW). */
  policy(place: Place): ModerationPolicy {
    const chosen = readSettings(this.#engine.team.settings({ kind: 'channel', scope: scopeOf(place) })).policy;
    const allowed = this.#deps.settings?.channelPolicies ?? ['block'];
    if (chosen && allowed.includes(chosen) && (chosen !== 'spoiler' || place.channelIsNsfw)) return chosen;
    return this.#deps.policyFor(place);
  }

  /**
   * Refine, Vary, Upscale, Reroll, Enhance or Use my original prompt on someone else's result where its channel keeps
   * them to the owner (admins excepted).
   */
  pressRefusal(command: ParsedCommand, who: Who): UserError | undefined {
    const pressed = command.kind === 'vary' || command.kind === 'upscale' || command.kind === 'reroll' || command.kind === 'enhance' || command.kind === 'original';
    const jobId = pressed ? command.jobId : command.kind === 'refine' && command.image && 'jobId' in command.image ? command.image.jobId : undefined;
    const parent = jobId === undefined ? undefined : this.#history.get(jobId);
    if (!parent || ownsOrAdministers(parent, who)) return undefined;
    const channel = readSettings(this.#engine.team.settings({ kind: 'channel', scope: parent.scope }));
    return channel.othersMayPress === false ? { code: 'others-may-not-press' } : undefined;
  }
}
