import type { NodeDef } from './fake-comfyui-nodes.ts';

/**
 * ComfyUI's validate_prompt (execution.py), for the fake: every node has a known class_type, the prompt has an output
 * node, and each output's inputs validate recursively — required inputs present, links [node, slot] of the right
 * return type to nodes that exist, INT/FLOAT/STRING/BOOLEAN values convertible and within min/max, combo values in
 * their list, and a node's own VALIDATE_INPUTS. Errors have ComfyUI's types, messages and shape, so a client sees what
 * a real server answers: 400 with `error` and `node_errors`.
 */

type Graph = Record<string, { class_type?: unknown; inputs?: Record<string, unknown>; _meta?: { title?: string } }>;

interface Reason {
  readonly type: string;
  readonly message: string;
  readonly details: string;
  readonly extra_info: Record<string, unknown>;
}

export type Validation =
  | { readonly ok: true; readonly outputs: string[]; readonly nodeErrors: Record<string, unknown> }
  | { readonly ok: false; readonly error: Reason; readonly nodeErrors: Record<string, unknown> };

/** Python's KeyError text for a missing key: the key's repr. */
class KeyError extends Error {}

const isLink = (value: unknown): value is unknown[] => Array.isArray(value);

function convert(type: string, value: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  if (type === 'INT') {
    const n = typeof value === 'number' ? Math.trunc(value) : typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : typeof value === 'boolean' ? Number(value) : Number.NaN;
    return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `invalid literal for int() with base 10: '${String(value)}'` };
  }
  if (type === 'FLOAT') {
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : typeof value === 'boolean' ? Number(value) : Number.NaN;
    return Number.isNaN(n) ? { ok: false, message: `could not convert string to float: '${String(value)}'` } : { ok: true, value: n };
  }
  if (type === 'STRING') return { ok: true, value: typeof value === 'string' ? value : JSON.stringify(value) };
  if (type === 'BOOLEAN') return { ok: true, value: Boolean(value) };
  return { ok: true, value };
}

export function validatePrompt(graph: Graph, defs: Readonly<Record<string, NodeDef>>): Validation {
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(graph)) {
    if (typeof node?.class_type !== 'string') {
      const title = node?._meta?.title;
      return {
        ok: false,
        error: { type: 'missing_node_type', message: `Node '${title ?? `ID #${id}`}' has no class_type. The workflow may be corrupted or a custom node is missing.`, details: `Node ID '#${id}'`, extra_info: { node_id: id, class_type: null, node_title: title ?? null } },
        nodeErrors: {},
      };
    }
    const def = defs[node.class_type];
    if (!def) {
      const title = node._meta?.title ?? node.class_type;
      return {
        ok: false,
        error: { type: 'missing_node_type', message: `Node '${title}' not found. The custom node may not be installed.`, details: `Node ID '#${id}'`, extra_info: { node_id: id, class_type: node.class_type, node_title: title } },
        nodeErrors: {},
      };
    }
    if (def.outputNode) outputs.push(id);
  }
  if (outputs.length === 0) return { ok: false, error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, nodeErrors: {} };

  const validated = new Map<string, { ok: boolean; reasons: Reason[] }>();
  const validateInputs = (id: string): { ok: boolean; reasons: Reason[] } => {
    const known = validated.get(id);
    if (known) return known;
    const node = graph[id];
    if (node === undefined) throw new KeyError(`'${id}'`);
    const def = defs[node.class_type as string]!;
    const inputs = node.inputs ?? {};
    const errors: Reason[] = [];
    let valid = true;
    const declared: [string, readonly [unknown, Readonly<Record<string, unknown>>?], boolean][] = [
      ...Object.entries(def.input.required).map(([k, v]) => [k, v, true] as [string, typeof v, boolean]),
      ...Object.entries(def.input.optional ?? {}).map(([k, v]) => [k, v, false] as [string, typeof v, boolean]),
    ];
    const custom = def.validate?.inputs ?? [];
    for (const [name, spec, required] of declared) {
      const [type, extra = {}] = spec;
      if (!(name in inputs)) {
        if (required) errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
        continue;
      }
      const value = inputs[name];
      if (isLink(value)) {
        if (value.length !== 2) {
          errors.push({ type: 'bad_linked_input', message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]', details: name, extra_info: { input_name: name, input_config: spec, received_value: value } });
          continue;
        }
        const from = String(value[0]);
        const source = graph[from];
        if (source === undefined) throw new KeyError(`'${from}'`);
        const returns = defs[source.class_type as string]?.output ?? [];
        const slot = Number(value[1]);
        if (!Number.isInteger(slot) || slot < 0 || slot >= returns.length) throw new Error('tuple index out of range');
        const received = returns[slot]!;
        if (received !== type && received !== '*' && type !== '*') {
          errors.push({
            type: 'return_type_mismatch',
            message: 'Return type mismatch between linked nodes',
            details: `${name}, received_type(${received}) mismatch input_type(${String(type)})`,
            extra_info: { input_name: name, input_config: spec, received_type: received, linked_node: value },
          });
          continue;
        }
        try {
          if (!validateInputs(from).ok) valid = false;
        } catch (error) {
          valid = false;
          validated.set(from, {
            ok: false,
            reasons: [{ type: 'exception_during_inner_validation', message: 'Exception when validating inner node', details: (error as Error).message, extra_info: { input_name: name, input_config: spec, exception_message: (error as Error).message, linked_node: value } }],
          });
        }
        continue;
      }
      const converted = typeof type === 'string' ? convert(type, value) : { ok: true as const, value };
      if (!converted.ok) {
        errors.push({ type: 'invalid_input_type', message: `Failed to convert an input value to a ${String(type)} value`, details: `${name}, ${String(value)}, ${converted.message}`, extra_info: { input_name: name, input_config: spec, received_value: value, exception_message: converted.message } });
        continue;
      }
      const v = converted.value;
      if (custom.includes(name)) continue;
      if (typeof extra.min === 'number' && typeof v === 'number' && v < extra.min) {
        errors.push({ type: 'value_smaller_than_min', message: `Value ${v} smaller than min of ${extra.min}`, details: name, extra_info: { input_name: name, input_config: spec, received_value: v } });
        continue;
      }
      if (typeof extra.max === 'number' && typeof v === 'number' && v > extra.max) {
        errors.push({ type: 'value_bigger_than_max', message: `Value ${v} bigger than max of ${extra.max}`, details: name, extra_info: { input_name: name, input_config: spec, received_value: v } });
        continue;
      }
      if (Array.isArray(type) && !type.includes(v)) {
        const list = type.length > 20 ? `(list of length ${type.length})` : `[${type.map((t) => `'${String(t)}'`).join(', ')}]`;
        errors.push({ type: 'value_not_in_list', message: 'Value not in list', details: `${name}: '${String(v)}' not in ${list}`, extra_info: { input_name: name, input_config: type.length > 20 ? null : spec, received_value: v } });
      }
    }
    if (def.validate) {
      const verdict = def.validate.check(inputs);
      if (verdict !== true) {
        for (const name of def.validate.inputs) errors.push({ type: 'custom_validation_failed', message: 'Custom validation failed for node', details: `${name} - ${verdict}`, extra_info: { input_name: name } });
      }
    }
    const result = { ok: valid && errors.length === 0, reasons: errors };
    validated.set(id, result);
    return result;
  };

  const good: string[] = [];
  const failures: [string, Reason[]][] = [];
  const nodeErrors: Record<string, { errors: Reason[]; dependent_outputs: string[]; class_type: string }> = {};
  for (const output of outputs) {
    let result: { ok: boolean; reasons: Reason[] };
    try {
      result = validateInputs(output);
    } catch (error) {
      result = { ok: false, reasons: [{ type: 'exception_during_validation', message: 'Exception when validating node', details: (error as Error).message, extra_info: { exception_type: error instanceof KeyError ? 'KeyError' : 'IndexError' } }] };
      validated.set(output, result);
    }
    if (result.ok) {
      good.push(output);
      continue;
    }
    failures.push([output, result.reasons]);
    for (const [id, entry] of validated) {
      if (entry.ok || entry.reasons.length === 0) continue;
      nodeErrors[id] ??= { errors: entry.reasons, dependent_outputs: [], class_type: String(graph[id]?.class_type) };
      nodeErrors[id].dependent_outputs.push(output);
    }
  }
  if (good.length === 0) {
    const details = failures.flatMap(([, reasons]) => reasons.map((r) => `${r.message}: ${r.details}`)).join('\n');
    return { ok: false, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} }, nodeErrors };
  }
  return { ok: true, outputs: good, nodeErrors };
}
