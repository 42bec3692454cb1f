import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { manifestSchema } from '../model/manifest.ts';

/**
 * A workflow file (ComfyUI's "API format": node id → { class_type, inputs }) and its bindings file beside it
 * (draft.json → draft.bindings.yaml), which names the node inputs that receive the prompt, the seed, the steps… and
 * what model the workflow runs. Loading checks everything that can be checked without a server, so a file that
 * cannot be read or bound stops start-up with the file and the key named.
 */

/** The kinds of job a ComfyUI server runs, one workflow each. */
export const WORKFLOW_KINDS = ['draft', 'vary', 'refine', 'inpaint', 'edit', 'upscale'] as const;
export type WorkflowKind = (typeof WORKFLOW_KINDS)[number];

/** What a bindings file can bind, in the project's terms (guidance is mapped onto cfg = 1 + guidance). */
export const BINDINGS = ['prompt', 'negative', 'seed', 'steps', 'cfg', 'shift', 'width', 'height', 'batch', 'denoise', 'image', 'mask'] as const;
export type Binding = (typeof BINDINGS)[number];

/** Bindings a workflow of each kind must have; the others are optional. */
const REQUIRED: Readonly<Record<WorkflowKind, readonly Binding[]>> = {
  draft: ['prompt', 'seed', 'steps', 'cfg', 'width', 'height'],
  vary: ['prompt', 'seed', 'steps', 'cfg', 'image', 'denoise'],
  refine: ['prompt', 'seed', 'steps', 'cfg', 'image', 'denoise'],
  inpaint: ['prompt', 'seed', 'steps', 'cfg', 'image', 'mask', 'denoise'],
  edit: ['prompt', 'seed', 'steps', 'image'],
  upscale: ['image'],
};

/** Output nodes the backend can collect images from. */
export const OUTPUT_CLASSES = ['SaveImageWebsocket', 'SaveImage', 'PreviewImage'] as const;

export interface ApiNode {
  readonly class_type: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly _meta?: { readonly title?: string };
}
/** A prompt in ComfyUI's API format. */
export type ApiGraph = Readonly<Record<string, ApiNode>>;

export interface InputTarget {
  readonly node: string;
  readonly input: string;
}

/** What the main thread knows of the model a workflow runs: the fields of a model manifest the engine checks against. */
export interface WorkflowModel {
  readonly name: string;
  readonly image: z.infer<typeof manifestSchema.shape.image>;
  readonly shift: number;
  readonly defaults: z.infer<typeof manifestSchema.shape.defaults>;
}

export interface Workflow {
  readonly kind: WorkflowKind;
  readonly file: string;
  readonly bindingsFile: string;
  readonly graph: ApiGraph;
  readonly targets: Readonly<Record<Binding, readonly InputTarget[]>>;
  /** The node whose images are the result, and its class (how its images come back). */
  readonly output: { readonly node: string; readonly classType: (typeof OUTPUT_CLASSES)[number] };
  /** The node whose `progress` events are the sampling steps. */
  readonly sampler: string | null;
  /** Absent for an upscale workflow, which runs no diffusion model of the project's. */
  readonly model: WorkflowModel | null;
  /** Upscale: output side ÷ input side. */
  readonly scale: number | null;
}

/** A workflow or bindings file that cannot be used: the message names the file and, where there is one, the key. */
export class WorkflowError extends Error {
  override readonly name = 'WorkflowError';
}

const target = z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'must be "node.input", e.g. "10.seed"');
const targets = z.union([target, z.array(target).min(1)]).nullable().default(null);

const bindingsSchema = z
  .object({
    /** What the workflow runs, for the engine's checks (the same fields as a model.json; README § Models). */
    model: z
      .object({
        name: z.string().min(1),
        image: manifestSchema.shape.image,
        shift: z.number().positive(),
        // Noise inversion runs in the local pipeline's own sampler; a ComfyUI workflow has no step for it.
        defaults: manifestSchema.shape.defaults.refine((d) => !d.refine?.inversion, {
          message: 'cannot set refine.inversion: noise inversion runs only in the local pipeline',
        }),
      })
      .strict()
      .optional(),
    /** Upscale workflows: the output's side ÷ the input's (4 for a 4x model). */
    scale: z.number().positive().max(16).optional(),
    inputs: z.object(Object.fromEntries(BINDINGS.map((name) => [name, targets])) as Record<Binding, typeof targets>).strict(),
    /** The output node (SaveImageWebsocket, SaveImage or PreviewImage). */
    output: z.union([z.string().min(1), z.number().int()]).transform(String),
    /** The node whose progress events count the steps; default: the node `steps` is bound to. */
    sampler: z.union([z.string().min(1), z.number().int()]).transform(String).optional(),
    notes: z.string().optional(),
  })
  .strict();

const isLink = (value: unknown): value is [string, number] =>
  Array.isArray(value) && value.length === 2 && (typeof value[0] === 'string' || typeof value[0] === 'number') && Number.isInteger(value[1]);

function readText(file: string): string {
  if (!existsSync(file)) throw new WorkflowError(`The workflow file ${file} does not exist`);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new WorkflowError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The graph of a workflow file, checked to be API format with every link pointing at a node of the graph. */
export function parseGraph(file: string, text: string): ApiGraph {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new WorkflowError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new WorkflowError(`${file} must hold one JSON object (node id → node)`);
  if ('nodes' in raw && Array.isArray((raw as { nodes: unknown }).nodes)) {
    throw new WorkflowError(`${file} is a ComfyUI UI workflow, not API format: in ComfyUI use Workflow → Export (API) and save that file`);
  }
  const graph = raw as Record<string, unknown>;
  if (Object.keys(graph).length === 0) throw new WorkflowError(`${file} has no nodes`);
  for (const [id, node] of Object.entries(graph)) {
    const n = node as Partial<ApiNode> | null;
    if (typeof n !== 'object' || n === null || typeof n.class_type !== 'string' || n.class_type.length === 0) {
      throw new WorkflowError(`${file}: node "${id}" has no class_type (is this an API-format export?)`);
    }
    if (typeof n.inputs !== 'object' || n.inputs === null || Array.isArray(n.inputs)) throw new WorkflowError(`${file}: node "${id}" (${n.class_type}) has no inputs object`);
    for (const [input, value] of Object.entries(n.inputs)) {
      if (isLink(value) && !(String(value[0]) in graph)) {
        throw new WorkflowError(`${file}: node "${id}" (${n.class_type}) input "${input}" links to node "${value[0]}", which is not in the workflow`);
      }
    }
  }
  return graph as ApiGraph;
}

/** `draft.json` → `draft.bindings.yaml` beside it. */
export function bindingsFileOf(workflowFile: string): string {
  return join(dirname(workflowFile), `${basename(workflowFile).replace(/\.json$/i, '')}.bindings.yaml`);
}

/** Reads and checks one workflow and its bindings. Throws WorkflowError. */
export function loadWorkflow(kind: WorkflowKind, file: string): Workflow {
  const graph = parseGraph(file, readText(file));
  const bindingsFile = bindingsFileOf(file);
  let raw: unknown;
  try {
    raw = parseYaml(readText(bindingsFile));
  } catch (error) {
    if (error instanceof WorkflowError) throw error;
    throw new WorkflowError(`${bindingsFile} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = bindingsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = [...issue.path, ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [])].map(String).join('.') || '(file)';
    throw new WorkflowError(`${bindingsFile}: "${key}" ${issue.code === 'unrecognized_keys' ? `is not a binding of this project (allowed: ${BINDINGS.join(', ')})` : issue.message}`);
  }
  const bindings = parsed.data;
  const bound = {} as Record<Binding, InputTarget[]>;
  for (const name of BINDINGS) {
    const value = bindings.inputs[name];
    bound[name] = (value === null ? [] : Array.isArray(value) ? value : [value]).map((text) => {
      const [node, input] = text.split('.') as [string, string];
      const found = graph[node];
      if (!found) throw new WorkflowError(`${bindingsFile}: "inputs.${name}" names node "${node}", which is not in ${file}`);
      if (!(input in found.inputs)) {
        throw new WorkflowError(`${bindingsFile}: "inputs.${name}" names input "${input}" of node "${node}" (${found.class_type}), which it does not have (it has ${Object.keys(found.inputs).join(', ')})`);
      }
      if (isLink(found.inputs[input])) {
        throw new WorkflowError(`${bindingsFile}: "inputs.${name}": input "${input}" of node "${node}" is a link to another node, not a value the bot can set`);
      }
      return { node, input };
    });
  }
  for (const name of REQUIRED[kind]) {
    if (bound[name].length === 0) throw new WorkflowError(`${bindingsFile}: "inputs.${name}" is required for a ${kind} workflow`);
  }
  const outputNode = graph[bindings.output];
  if (!outputNode) throw new WorkflowError(`${bindingsFile}: "output" names node "${bindings.output}", which is not in ${file}`);
  if (!(OUTPUT_CLASSES as readonly string[]).includes(outputNode.class_type)) {
    throw new WorkflowError(`${bindingsFile}: "output" node "${bindings.output}" is a ${outputNode.class_type}; it must be one of ${OUTPUT_CLASSES.join(', ')}`);
  }
  const sampler = bindings.sampler ?? bound.steps[0]?.node ?? null;
  if (sampler !== null && !graph[sampler]) throw new WorkflowError(`${bindingsFile}: "sampler" names node "${sampler}", which is not in ${file}`);
  if (kind !== 'upscale' && !bindings.model) throw new WorkflowError(`${bindingsFile}: "model" is required for a ${kind} workflow (its name, image sizes, shift and sampling defaults)`);
  if (kind === 'upscale' && bindings.scale === undefined) throw new WorkflowError(`${bindingsFile}: "scale" is required for an upscale workflow (4 for a 4x model)`);
  return {
    kind,
    file,
    bindingsFile,
    graph: deepFreeze(graph),
    targets: bound,
    output: { node: bindings.output, classType: outputNode.class_type as Workflow['output']['classType'] },
    sampler,
    model: bindings.model ?? null,
    scale: bindings.scale ?? null,
  };
}

/** A copy of the workflow's graph with the bound inputs set; what is not given keeps the file's value. */
export function buildPrompt(workflow: Workflow, values: Partial<Readonly<Record<Binding, string | number>>>): Record<string, ApiNode> {
  const graph = structuredClone(workflow.graph) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  for (const name of BINDINGS) {
    const value = values[name];
    if (value === undefined) continue;
    for (const { node, input } of workflow.targets[name]) graph[node]!.inputs[input] = value;
  }
  return graph;
}

/** Node classes a workflow needs a server to have. */
export function nodeClasses(workflow: Workflow): string[] {
  return [...new Set(Object.values(workflow.graph).map((n) => n.class_type))].sort();
}

/** The literal inputs the bot does not set (model files, sampler names…): a server must accept each one. */
export function fixedInputs(workflow: Workflow): { node: string; classType: string; input: string; value: unknown }[] {
  const bound = new Set(BINDINGS.flatMap((name) => workflow.targets[name].map((t) => `${t.node}.${t.input}`)));
  return Object.entries(workflow.graph).flatMap(([node, n]) =>
    Object.entries(n.inputs)
      .filter(([input, value]) => !isLink(value) && !bound.has(`${node}.${input}`))
      .map(([input, value]) => ({ node, classType: n.class_type, input, value })),
  );
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
