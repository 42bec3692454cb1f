import { basename, isAbsolute, join, resolve } from 'node:path';
import type { Config, Role } from '../../config/schema.ts';
import { isComfyDevice, ROLES } from '../../config/schema.ts';
import type { ModelInfo, RemoteTraits } from '../request.ts';
import type { UpscaleModel } from '../upscale-request.ts';
import { loadWorkflow, WORKFLOW_KINDS, type Workflow, type WorkflowKind } from './workflow.ts';

/**
 * What the configuration says about ComfyUI before any server is asked: which roles run there (every role of every
 * ComfyUI device), the workflow files (read and checked now, so a bad file stops start-up), and what each such role's
 * model is, from its workflow's bindings, for the engine's one place of request checks (request.ts).
 */

export const COMFYUI = 'ComfyUI';

/** Roles some ComfyUI server is configured for: no local device runs them. */
export function comfyRoles(config: Readonly<Config>): Set<Role> {
  return new Set(config.devices.filter(isComfyDevice).flatMap((device) => device.roles ?? ROLES));
}

/** The configured workflows, loaded and checked; empty when no ComfyUI server is configured. Throws WorkflowError. */
export function loadWorkflows(config: Readonly<Config>, root: string): Map<WorkflowKind, Workflow> {
  const workflows = new Map<WorkflowKind, Workflow>();
  if (comfyRoles(config).size === 0) return workflows;
  const dir = isAbsolute(config.comfyui.workflowDir) ? config.comfyui.workflowDir : resolve(root, config.comfyui.workflowDir);
  for (const kind of WORKFLOW_KINDS) {
    const file = config.comfyui.workflows[kind];
    if (file !== null) workflows.set(kind, loadWorkflow(kind, isAbsolute(file) ? file : join(dir, file)));
  }
  return workflows;
}

function infoOf(workflow: Workflow, remote: RemoteTraits): ModelInfo {
  const model = workflow.model!;
  return { dir: workflow.file, name: model.name, size: model.image, shift: model.shift, canEncode: workflow.targets.image.length > 0, defaults: model.defaults, remote };
}

/** Each ComfyUI role's model, from the bindings of the workflow that runs it; roles without one are left out. */
export function comfyModels(roles: ReadonlySet<Role>, workflows: ReadonlyMap<WorkflowKind, Workflow>): Partial<Record<Role, ModelInfo>> {
  const traits = (strength: boolean, edit?: { unmasked: boolean; masked: ModelInfo | null }): RemoteTraits => ({
    backend: COMFYUI,
    chaos: false,
    vary: workflows.has('vary'),
    strength,
    unmasked: edit?.unmasked ?? true,
    masked: edit?.masked ?? null,
  });
  const models: Partial<Record<Role, ModelInfo>> = {};
  const draft = workflows.get('draft');
  if (roles.has('draft') && draft) models.draft = infoOf(draft, traits(false));
  const refine = workflows.get('refine');
  if (roles.has('refine') && refine) models.refine = infoOf(refine, traits(refine.targets.denoise.length > 0));
  const edit = workflows.get('edit');
  const inpaint = workflows.get('inpaint');
  if (roles.has('edit') && (edit || inpaint)) {
    const masked = inpaint ? infoOf(inpaint, traits(inpaint.targets.denoise.length > 0, { unmasked: edit !== undefined, masked: null })) : null;
    models.edit = infoOf(edit ?? inpaint!, traits((edit ?? inpaint)!.targets.denoise.length > 0, { unmasked: edit !== undefined, masked }));
  }
  return models;
}

/** The upscale workflow's model, for the engine's checks: the file its UpscaleModelLoader loads and the bindings' scale. */
export function upscaleModelOf(workflows: ReadonlyMap<WorkflowKind, Workflow> | undefined): UpscaleModel | null {
  const workflow = workflows?.get('upscale');
  if (!workflow || workflow.scale === null) return null;
  const loader = Object.values(workflow.graph).find((node) => node.class_type === 'UpscaleModelLoader');
  const file = loader?.inputs.model_name;
  return { name: typeof file === 'string' ? file : basename(workflow.file), scale: workflow.scale, file: workflow.file };
}
