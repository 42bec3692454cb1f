import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import type { DeviceConfig } from '../../../config/schema.ts';
import { engineError, EngineFailure } from '../../errors.ts';
import type { ModelDirectory } from '../../model/manifest.ts';
import { floatOutput, int64Input, openGraph, requireTensors, runGraph, type GraphSession, type Log } from '../../onnx/session.ts';

/** One prompt's text features with the padded positions already dropped: [length, hiddenSize]. */
export interface TextFeatures {
  readonly features: Float32Array;
  readonly length: number;
  readonly hiddenSize: number;
}

export interface Tokenized {
  readonly ids: number[];
  /** Tokens before truncation; more than ids.length when the prompt was cut. */
  readonly fullLength: number;
}

/**
 * Z-Image's prompt encoding: the chat template, the tokenizer.json of the model (Hugging Face tokenizers, Chinese
 * included), truncation at the max length (reported, never silent), padded batches with an attention mask (as many
 * prompts per call as the manifest allows), and the padded rows dropped from the output.
 */
export class PromptEncoder {
  readonly #model: ModelDirectory;
  readonly #tokenizer: Tokenizer;
  readonly #graph: GraphSession;
  readonly #padId: number;

  private constructor(model: ModelDirectory, tokenizer: Tokenizer, graph: GraphSession, padId: number) {
    this.#model = model;
    this.#tokenizer = tokenizer;
    this.#graph = graph;
    this.#padId = padId;
  }

  static async open(model: ModelDirectory, device: DeviceConfig, log: Log): Promise<PromptEncoder> {
    let tokenizer: Tokenizer;
    try {
      const json = JSON.parse(readFileSync(model.files.tokenizer, 'utf8')) as object;
      const config = model.files.tokenizerConfig ? (JSON.parse(readFileSync(model.files.tokenizerConfig, 'utf8')) as object) : {};
      tokenizer = new Tokenizer(json, config);
    } catch (error) {
      throw new EngineFailure(
        engineError('model-error', `Cannot load the tokenizer ${model.files.tokenizer}: ${(error as Error).message}`, {
          file: model.files.tokenizer,
        }),
      );
    }
    const { tokenizer: spec, textEncoder } = model.manifest;
    const padId = tokenizer.token_to_id(spec.padToken);
    if (padId === undefined) {
      throw new EngineFailure(
        engineError('model-error', `The tokenizer ${model.files.tokenizer} has no pad token "${spec.padToken}"`, { file: model.files.tokenizer }),
      );
    }
    const graph = await openGraph(model.files.textEncoder, device, log);
    requireTensors(graph, 'The text encoder', [textEncoder.inputIds, textEncoder.attentionMask], [textEncoder.output]);
    return new PromptEncoder(model, tokenizer, graph, padId);
  }

  get provider(): string {
    return this.#graph.provider;
  }

  tokenize(prompt: string): Tokenized {
    const { template, maxLength } = this.#model.manifest.tokenizer;
    const ids = this.#tokenizer.encode(template.replace('{prompt}', () => prompt), { add_special_tokens: false }).ids;
    return { ids: ids.slice(0, maxLength), fullLength: ids.length };
  }

  /**
   * Encodes several prompts: in one padded batch, or in batches of at most textEncoder.maxBatch (1 = one by one, for
   * exports whose handling of padded rows is unverified). Each batch is padded to its own longest prompt.
   */
  async encode(prompts: readonly string[]): Promise<{ features: TextFeatures[]; tokenized: Tokenized[] }> {
    const tokenized = prompts.map((p) => this.tokenize(p));
    const batch = this.#model.manifest.textEncoder.maxBatch ?? Math.max(1, tokenized.length);
    const features: TextFeatures[] = [];
    for (let start = 0; start < tokenized.length; start += batch) features.push(...(await this.#run(tokenized.slice(start, start + batch))));
    return { features, tokenized };
  }

  async #run(tokenized: readonly Tokenized[]): Promise<TextFeatures[]> {
    const { textEncoder } = this.#model.manifest;
    const rows = tokenized.length;
    const width = Math.max(1, ...tokenized.map((t) => t.ids.length));
    const ids = new BigInt64Array(rows * width).fill(BigInt(this.#padId));
    const mask = new BigInt64Array(rows * width);
    tokenized.forEach((t, row) => {
      t.ids.forEach((id, col) => {
        ids[row * width + col] = BigInt(id);
        mask[row * width + col] = 1n;
      });
    });
    const output = await runGraph(
      this.#graph,
      {
        [textEncoder.inputIds]: int64Input(ids, [rows, width]),
        [textEncoder.attentionMask]: int64Input(mask, [rows, width]),
      },
      textEncoder.output,
    );
    const hidden = floatOutput(output);
    const hiddenSize = output.dims[output.dims.length - 1]!;
    if (hiddenSize !== textEncoder.hiddenSize) {
      throw new EngineFailure(
        engineError('model-error', `The text encoder returned width ${hiddenSize}; the manifest says ${textEncoder.hiddenSize}`, {
          file: this.#model.files.textEncoder,
        }),
      );
    }
    return tokenized.map((t, row): TextFeatures => {
      const start = row * width * hiddenSize;
      // Padded positions are dropped here: the transformer sees only real tokens.
      return { features: hidden.slice(start, start + t.ids.length * hiddenSize), length: t.ids.length, hiddenSize };
    });
  }

  async dispose(): Promise<void> {
    await this.#graph.session.release();
  }
}
