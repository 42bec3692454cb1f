/**
 * The node classes the fake ComfyUI knows, as ComfyUI describes them (INPUT_TYPES / RETURN_TYPES / OUTPUT_NODE),
 * written from ComfyUI's source: nodes.py (UNETLoader, CLIPLoader, VAELoader, CLIPTextEncode, ConditioningZeroOut,
 * KSampler, VAEDecode, VAEEncode, SetLatentNoiseMask, LoadImage, LoadImageMask, SaveImage, PreviewImage, ImageScaleBy,
 * LoraLoaderModelOnly), comfy_extras (EmptySD3LatentImage, ModelSamplingAuraFlow, TextEncodeQwenImageEdit, CFGNorm,
 * ImageCompositeMasked, UpscaleModelLoader, ImageUpscaleWithModel) and custom_nodes/websocket_image_save.py
 * (SaveImageWebsocket). Combo lists come from the fake's model folders and input files, as ComfyUI's come from disk.
 */

export type InputSpec = readonly [type: string | readonly string[], options?: Readonly<Record<string, unknown>>];

export interface NodeDef {
  readonly input: { readonly required: Readonly<Record<string, InputSpec>>; readonly optional?: Readonly<Record<string, InputSpec>> };
  readonly output: readonly string[];
  readonly outputNode?: boolean;
  /** VALIDATE_INPUTS: the inputs it takes over from the generic checks, and its verdict (true or the message). */
  readonly validate?: { readonly inputs: readonly string[]; readonly check: (inputs: Readonly<Record<string, unknown>>) => true | string };
  readonly category: string;
}

export const MAX_RESOLUTION = 16384;

/** comfy.samplers.KSampler.SAMPLERS / SCHEDULERS (a subset that includes what the templates use). */
export const SAMPLERS = ['euler', 'euler_cfg_pp', 'euler_ancestral', 'heun', 'dpm_2', 'dpmpp_2m', 'dpmpp_sde', 'lcm', 'res_multistep', 'res_multistep_cfg_pp', 'ddim', 'uni_pc'];
export const SCHEDULERS = ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal'];
const CLIP_TYPES = ['stable_diffusion', 'stable_cascade', 'sd3', 'stable_audio', 'mochi', 'ltxv', 'pixart', 'cosmos', 'lumina2', 'wan', 'hidream', 'chroma', 'ace', 'omnigen2', 'qwen_image', 'hunyuan_image', 'flux2'];
const UPSCALE_METHODS = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'];

export interface FakeDisk {
  readonly models: ReadonlyMap<string, readonly string[]>;
  /** Input files, by their annotated name (`sub/name.png`). */
  readonly inputs: ReadonlyMap<string, Buffer>;
}

const files = (disk: FakeDisk, folder: string): string[] => [...(disk.models.get(folder) ?? [])];

export function nodeDefs(disk: FakeDisk): Record<string, NodeDef> {
  const image = (what: string) => ({
    inputs: ['image'],
    check: (inputs: Readonly<Record<string, unknown>>): true | string => (disk.inputs.has(String(inputs.image)) ? true : `Invalid ${what} file: ${String(inputs.image)}`),
  });
  const inputFiles = [...disk.inputs.keys()].filter((f) => !f.includes('/')).sort();
  return {
    UNETLoader: {
      input: { required: { unet_name: [files(disk, 'diffusion_models')], weight_dtype: [['default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2'], { advanced: true }] } },
      output: ['MODEL'],
      category: 'model/loaders',
    },
    CLIPLoader: {
      input: { required: { clip_name: [files(disk, 'text_encoders')], type: [CLIP_TYPES] }, optional: { device: [['default', 'cpu'], { advanced: true }] } },
      output: ['CLIP'],
      category: 'model/loaders',
    },
    VAELoader: { input: { required: { vae_name: [[...files(disk, 'vae'), 'pixel_space']] } }, output: ['VAE'], category: 'model/loaders' },
    LoraLoaderModelOnly: {
      input: { required: { model: ['MODEL'], lora_name: [files(disk, 'loras')], strength_model: ['FLOAT', { default: 1.0, min: -100.0, max: 100.0, step: 0.01 }] } },
      output: ['MODEL'],
      category: 'model/loaders',
    },
    UpscaleModelLoader: { input: { required: { model_name: [files(disk, 'upscale_models')] } }, output: ['UPSCALE_MODEL'], category: 'loaders' },
    CLIPTextEncode: {
      input: { required: { text: ['STRING', { multiline: true, dynamicPrompts: true }], clip: ['CLIP'] } },
      output: ['CONDITIONING'],
      category: 'model/conditioning',
    },
    TextEncodeQwenImageEdit: {
      input: { required: { clip: ['CLIP'], prompt: ['STRING', { multiline: true, dynamicPrompts: true }] }, optional: { vae: ['VAE'], image: ['IMAGE'] } },
      output: ['CONDITIONING'],
      category: 'model/conditioning/qwen image',
    },
    ConditioningZeroOut: { input: { required: { conditioning: ['CONDITIONING'] } }, output: ['CONDITIONING'], category: 'model/conditioning/transform' },
    EmptySD3LatentImage: {
      input: {
        required: {
          width: ['INT', { default: 1024, min: 16, max: MAX_RESOLUTION, step: 16 }],
          height: ['INT', { default: 1024, min: 16, max: MAX_RESOLUTION, step: 16 }],
          batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
        },
      },
      output: ['LATENT'],
      category: 'latent/sd3',
    },
    ModelSamplingAuraFlow: { input: { required: { model: ['MODEL'], shift: ['FLOAT', { default: 1.73, min: 0.0, max: 100.0, step: 0.01 }] } }, output: ['MODEL'], category: 'advanced/model' },
    CFGNorm: { input: { required: { model: ['MODEL'], strength: ['FLOAT', { default: 1.0, min: 0.0, max: 100.0, step: 0.01 }] } }, output: ['MODEL'], category: 'advanced/guidance' },
    KSampler: {
      input: {
        required: {
          model: ['MODEL'],
          seed: ['INT', { default: 0, min: 0, max: 0xffffffffffffffff, control_after_generate: true }],
          steps: ['INT', { default: 20, min: 1, max: 10000 }],
          cfg: ['FLOAT', { default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01 }],
          sampler_name: [SAMPLERS],
          scheduler: [SCHEDULERS],
          positive: ['CONDITIONING'],
          negative: ['CONDITIONING'],
          latent_image: ['LATENT'],
          denoise: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.01 }],
        },
      },
      output: ['LATENT'],
      category: 'model/sampling',
    },
    VAEDecode: { input: { required: { samples: ['LATENT'], vae: ['VAE'] } }, output: ['IMAGE'], category: 'model/latent' },
    VAEEncode: { input: { required: { pixels: ['IMAGE'], vae: ['VAE'] } }, output: ['LATENT'], category: 'model/latent' },
    SetLatentNoiseMask: { input: { required: { samples: ['LATENT'], mask: ['MASK'] } }, output: ['LATENT'], category: 'model/latent' },
    LoadImage: { input: { required: { image: [inputFiles, { image_upload: true }] } }, output: ['IMAGE', 'MASK'], validate: image('image'), category: 'image' },
    LoadImageMask: {
      input: { required: { image: [inputFiles, { image_upload: true }], channel: [['alpha', 'red', 'green', 'blue']] } },
      output: ['MASK'],
      validate: image('image'),
      category: 'mask',
    },
    ImageCompositeMasked: {
      input: {
        required: {
          destination: ['IMAGE'],
          source: ['IMAGE'],
          x: ['INT', { default: 0, min: 0, max: MAX_RESOLUTION, step: 1 }],
          y: ['INT', { default: 0, min: 0, max: MAX_RESOLUTION, step: 1 }],
          resize_source: ['BOOLEAN', { default: false }],
        },
        optional: { mask: ['MASK'] },
      },
      output: ['IMAGE'],
      category: 'image',
    },
    ImageScaleBy: {
      input: { required: { image: ['IMAGE'], upscale_method: [UPSCALE_METHODS], scale_by: ['FLOAT', { default: 1.0, min: 0.01, max: 8.0, step: 0.01 }] } },
      output: ['IMAGE'],
      category: 'image/upscaling',
    },
    ImageUpscaleWithModel: { input: { required: { upscale_model: ['UPSCALE_MODEL'], image: ['IMAGE'] } }, output: ['IMAGE'], category: 'image/upscaling' },
    SaveImage: {
      input: { required: { images: ['IMAGE'], filename_prefix: ['STRING', { default: 'ComfyUI' }] } },
      output: [],
      outputNode: true,
      category: 'image',
    },
    PreviewImage: { input: { required: { images: ['IMAGE'] } }, output: [], outputNode: true, category: 'image' },
    SaveImageWebsocket: { input: { required: { images: ['IMAGE'] } }, output: [], outputNode: true, category: 'api node/image' },
  };
}

/** GET /object_info's description of one class (server.py node_info). */
export function objectInfoOf(name: string, def: NodeDef): Record<string, unknown> {
  return {
    input: { required: def.input.required, ...(def.input.optional ? { optional: def.input.optional } : {}) },
    input_order: { required: Object.keys(def.input.required), ...(def.input.optional ? { optional: Object.keys(def.input.optional) } : {}) },
    is_input_list: false,
    output: def.output,
    output_is_list: def.output.map(() => false),
    output_name: def.output,
    name,
    display_name: name,
    description: '',
    python_module: 'nodes',
    category: def.category,
    output_node: def.outputNode === true,
    has_intermediate_output: false,
    search_aliases: [],
  };
}
