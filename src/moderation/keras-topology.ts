/** The parts of a Keras functional-model topology (model.json's modelTopology) the classifier reads and rewrites. */

/** [layer name, node index, tensor index, kwargs?]: one input of a layer call. */
export type InboundRef = [string, number, number, ...unknown[]];

export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: InboundRef[][];
}

export interface KerasModelConfig {
  layers: KerasLayer[];
  input_layers: InboundRef[];
  output_layers: InboundRef[];
}

/** What `readersOf` lists for the model's own output. */
export const MODEL_OUTPUT = '(output)';

/** Each layer's readers by name (MODEL_OUTPUT for the model's output), once per input reference. */
export function readersOf(model: KerasModelConfig): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  const read = (ref: InboundRef, by: string): void => void readers.set(ref[0], [...(readers.get(ref[0]) ?? []), by]);
  for (const layer of model.layers) for (const node of layer.inbound_nodes) for (const ref of node) read(ref, layer.name);
  for (const ref of model.output_layers) read(ref, MODEL_OUTPUT);
  return readers;
}

/** The functional model's config inside a topology, or undefined when it has no layers, inputs or outputs list. */
export function modelConfigOf(topology: unknown): KerasModelConfig | undefined {
  const config = (topology as { model_config?: { config?: Partial<KerasModelConfig> } } | null)?.model_config?.config;
  if (!Array.isArray(config?.layers) || !Array.isArray(config.input_layers) || !Array.isArray(config.output_layers)) return undefined;
  return config as KerasModelConfig;
}
