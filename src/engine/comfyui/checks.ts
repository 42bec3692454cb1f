import type { ComfyClient, ObjectInfo } from './client.ts';
import { fixedInputs, nodeClasses, type Workflow, type WorkflowKind } from './workflow.ts';

/**
 * Whether a server can run each workflow: `/system_stats` answers (the server is up), `/object_info` has every node
 * class the workflow uses with the inputs it needs and accepts each value the bot does not set (sampler, scheduler,
 * CLIP type…), and `/models/{folder}` lists every model file the workflow names. A problem disables that workflow on
 * that server only, with one sentence naming the file or node.
 */

/** Loader inputs and the model folder their files live in (ComfyUI's folder_paths names). */
const MODEL_FOLDERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  UNETLoader: { unet_name: 'diffusion_models' },
  CLIPLoader: { clip_name: 'text_encoders' },
  DualCLIPLoader: { clip_name1: 'text_encoders', clip_name2: 'text_encoders' },
  VAELoader: { vae_name: 'vae' },
  LoraLoader: { lora_name: 'loras' },
  LoraLoaderModelOnly: { lora_name: 'loras' },
  CheckpointLoaderSimple: { ckpt_name: 'checkpoints' },
  UpscaleModelLoader: { model_name: 'upscale_models' },
};

export interface ServerCheck {
  /** Why the server as a whole cannot be used (unreachable, not ComfyUI); null when it answered. */
  readonly down: string | null;
  /** Per workflow: null when it can run, else the first problem found. */
  readonly workflows: ReadonlyMap<WorkflowKind, string | null>;
}

/** The accepted values of a combo input, in either form /object_info uses; undefined for other inputs. */
function comboOptions(spec: unknown): readonly unknown[] | undefined {
  if (!Array.isArray(spec)) return undefined;
  const [type, options] = spec as [unknown, { options?: unknown } | undefined];
  if (Array.isArray(type)) return type;
  if (type === 'COMBO' && Array.isArray(options?.options)) return options.options;
  return undefined;
}

function problemOf(workflow: Workflow, info: ObjectInfo, models: ReadonlyMap<string, readonly string[] | null>): string | null {
  for (const classType of nodeClasses(workflow)) {
    if (!info[classType]) return `node ${classType} is not installed (${workflow.file})`;
  }
  for (const [id, node] of Object.entries(workflow.graph)) {
    const required = info[node.class_type]?.input?.required ?? {};
    for (const input of Object.keys(required)) {
      if (!(input in node.inputs)) return `node ${id} (${node.class_type}) lacks the input "${input}" this server's ${node.class_type} requires (${workflow.file})`;
    }
  }
  for (const { node, classType, input, value } of fixedInputs(workflow)) {
    const folder = MODEL_FOLDERS[classType]?.[input];
    if (folder) {
      const files = models.get(folder);
      if (files === null) return `it has no ${folder} model folder for ${String(value)} (${workflow.file})`;
      if (files && !files.includes(String(value))) return `model file ${String(value)} is missing from its ${folder} folder (${workflow.file})`;
      continue;
    }
    const spec = info[classType]?.input?.required?.[input] ?? info[classType]?.input?.optional?.[input];
    const options = comboOptions(spec);
    if (options && !options.includes(value)) {
      return `node ${node} (${classType}) input ${input}: ${JSON.stringify(value)} is not one of this server's values (${workflow.file})`;
    }
  }
  return null;
}

/** Runs every check against one server. Never throws: a server that fails a request is `down` with the reason. */
export async function checkServer(client: ComfyClient, workflows: ReadonlyMap<WorkflowKind, Workflow>): Promise<ServerCheck> {
  const none = new Map<WorkflowKind, string | null>();
  try {
    const stats = await client.systemStats();
    if (typeof stats !== 'object' || stats === null || !('system' in stats)) return { down: `${client.url} does not answer like ComfyUI (no /system_stats)`, workflows: none };
    const info = await client.objectInfo();
    const folders = new Set<string>();
    for (const workflow of workflows.values()) {
      for (const { classType, input } of fixedInputs(workflow)) {
        const folder = MODEL_FOLDERS[classType]?.[input];
        if (folder) folders.add(folder);
      }
    }
    const models = new Map<string, readonly string[] | null>();
    for (const folder of folders) models.set(folder, await client.models(folder));
    const results = new Map<WorkflowKind, string | null>();
    for (const [kind, workflow] of workflows) results.set(kind, problemOf(workflow, info, models));
    return { down: null, workflows: results };
  } catch (error) {
    return { down: (error as Error).message, workflows: none };
  }
}
