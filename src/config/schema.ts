import { z } from 'zod';
import { moderationSchema } from '../moderation/config.ts';

/**
 * The one configuration schema. config/default.yaml documents every key; a local file and the environment
 * variables (README § Configuration) override it (see load.ts). Everything here is validated once at start-up and frozen.
 */

const roleName = z.enum(['draft', 'refine', 'edit']);
export type Role = z.infer<typeof roleName>;
export const ROLES: readonly Role[] = roleName.options;

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const profileSchema = z
  .object({
    /** Model directory for this role; null means the top-level `model.dir` (MODEL_DIR, else models/mini). */
    model: z.string().min(1).nullable().default(null),
    /** Default steps, the accepted range, guidance and shift: null takes the model manifest's `defaults`. */
    steps: positiveInt.max(200).nullable().default(null),
    minSteps: positiveInt.max(200).nullable().default(null),
    maxSteps: positiveInt.max(200).nullable().default(null),
    guidance: z.number().min(0).max(30).nullable().default(null),
    /** Scheduler shift; null takes the model manifest's (for a refine, its `defaults.refine.shift` first). */
    shift: z.number().positive().nullable().default(null),
    /** img2img strength for refine/edit (ignored by draft); null takes the model manifest's refine strength, else 0.6. */
    strength: z.number().min(0).max(1).nullable().default(null),
    /** Strength of an edit inside a mask or region. */
    maskStrength: z.number().min(0).max(1).default(1),
    /** Paste the result over the source through the feathered mask, so pixels outside it stay the source's exactly. */
    maskComposite: z.boolean().default(true),
    /** diffusers' cfg_truncation: no guidance once t = 1 − σ passes it (1 = never truncate). */
    cfgTruncation: z.number().min(0).max(1).default(1),
    /** diffusers' cfg_normalization: clip ‖pred‖ to this × ‖pos‖; 0 turns it off. */
    cfgNormalization: z.number().min(0).default(0),
    negativePrompt: z.string().default(''),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.minSteps !== null && p.maxSteps !== null && p.minSteps > p.maxSteps) {
      ctx.addIssue({ code: 'custom', path: ['minSteps'], message: `must not exceed maxSteps (${p.maxSteps})` });
    }
    if (p.steps !== null && ((p.minSteps !== null && p.steps < p.minSteps) || (p.maxSteps !== null && p.steps > p.maxSteps))) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: `must be within minSteps–maxSteps (${p.minSteps ?? 'the model’s'}–${p.maxSteps ?? 'the model’s'})` });
    }
  });
export type ProfileConfig = z.infer<typeof profileSchema>;

/** A device that runs the ONNX pipelines in a worker thread of this process. */
const localDeviceSchema = z
  .object({
    name: z.string().min(1),
    /** Execution provider: cpu, cuda (falls back to cpu with a warning when it cannot load) or webgpu. */
    provider: z.enum(['cpu', 'cuda', 'webgpu']),
    /** onnxruntime intra-op threads; 0 lets onnxruntime choose. */
    threads: nonNegativeInt.default(0),
    deviceId: nonNegativeInt.default(0),
    /** The roles this device serves; absent = every role no ComfyUI server is configured for. */
    roles: z.array(roleName).min(1).optional(),
  })
  .strict();
export type DeviceConfig = z.infer<typeof localDeviceSchema>;

/** A ComfyUI server (`python main.py --listen`) that runs the role's workflow from `comfyui.workflows`. */
const comfyDeviceSchema = z
  .object({
    name: z.string().min(1),
    provider: z.literal('comfyui'),
    /** Its base URL, e.g. http://gpu-box:8188 (the WebSocket is the same host's /ws). */
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http:// or https:// URL' })
      // A password in the URL would reach logs and messages: credentials go in authHeader/authEnv.
      .refine((u) => !/^https?:\/\/[^/]*@/i.test(u), { message: 'must not hold credentials; use authHeader and authEnv' }),
    /** Prompts the bot keeps on this server at once (the engine's fair queue holds the rest). */
    concurrency: positiveInt.max(64).default(1),
    /** For a server behind a proxy: the header sent with every request, its value read from the variable authEnv. */
    authHeader: z.string().min(1).default('Authorization'),
    authEnv: z.string().min(1).nullable().default(null),
    /** The roles this server serves; absent = every role. */
    roles: z.array(roleName).min(1).optional(),
  })
  .strict();
export type ComfyDeviceConfig = z.infer<typeof comfyDeviceSchema>;

/** `provider` may be left out of a local device (it is then `cpu`), so the entry is read by its provider. */
const deviceSchema = z.preprocess(
  (value) => (typeof value === 'object' && value !== null && !Array.isArray(value) && !('provider' in value) ? { ...value, provider: 'cpu' } : value),
  z.discriminatedUnion('provider', [localDeviceSchema, comfyDeviceSchema]),
);
export type AnyDeviceConfig = DeviceConfig | ComfyDeviceConfig;

export const isComfyDevice = (device: AnyDeviceConfig): device is ComfyDeviceConfig => device.provider === 'comfyui';

/** The workflow files ComfyUI runs, one per kind of job (null: that kind is not offered on ComfyUI). */
const workflowName = z.string().min(1).nullable();
const comfyuiSchema = z
  .object({
    /** Folder of the workflow files (API format) and their bindings; relative paths are from the project root. */
    workflowDir: z.string().min(1),
    workflows: z
      .object({
        draft: workflowName,
        vary: workflowName,
        refine: workflowName,
        inpaint: workflowName,
        edit: workflowName,
        upscale: workflowName,
      })
      .strict(),
    /** Seconds between health checks (system_stats, object_info, model lists) of every server. */
    checkIntervalSeconds: z.number().min(1).max(3600),
    /** Milliseconds one HTTP request to a server may take before it counts as failed. */
    requestTimeoutMs: positiveInt.max(600_000),
    /** A prompt that makes no progress for this long is interrupted and its job failed. */
    hungPromptSeconds: z.number().min(1).max(86_400),
    /** Input images are uploaded under these names, overwritten in turn (ComfyUI has no route to delete them). */
    uploadSubfolder: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only'),
    uploadRing: positiveInt.max(1000),
    /** Ask the server for sampler previews (latent2rgb), shown once the classifier has passed them. */
    previews: z.boolean(),
    /** Vary on ComfyUI is img2img of the candidate at these denoise strengths. */
    vary: z.object({ subtle: z.number().gt(0).max(1), strong: z.number().gt(0).max(1) }).strict(),
    /** WebSocket reconnect backoff (ms): first wait, doubled up to the max. */
    reconnectMinMs: positiveInt,
    reconnectMaxMs: positiveInt,
  })
  .strict();
export type ComfyuiConfig = z.infer<typeof comfyuiSchema>;

/**
 * The prompt assistant: an OpenAI-compatible chat-completions server (llama.cpp's llama-server, Ollama, vLLM, LM Studio,
 * a hosted API) that rewrites prompts and describes images. Without a URL the features are absent. The API key is
 * never a setting: it is read from the environment variable `apiKeyEnv` names.
 */
const assistantUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http:// or https:// URL' })
  // A password in the URL would reach logs and messages: the key goes in the environment (apiKeyEnv).
  .refine((u) => !/^https?:\/\/[^/]*@/i.test(u), { message: 'must not hold credentials; put the API key in the variable apiKeyEnv names' });
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const assistantSchema = z
  .object({
    /** Base URL of the server's OpenAI-compatible API, e.g. http://localhost:11434/v1 (…/chat/completions is appended). */
    url: assistantUrl.nullable(),
    /** The model to ask (Ollama and hosted APIs need the name; llama-server answers with whatever it loaded). */
    model: z.string().min(1).nullable(),
    /**
     * For describe: a vision-capable model, and its server when that is another one; null → url and model above. A
     * server of its own gets the key in the variable its apiKeyEnv names, and none without one: the main key is never
     * sent to a second server.
     */
    vision: z.object({ url: assistantUrl.nullable(), model: z.string().min(1).nullable(), apiKeyEnv: envName.nullable() }).strict(),
    /** The environment variable holding the API key (sent as a Bearer token); unset → no Authorization header. */
    apiKeyEnv: envName,
    /** From the request to the answer, waiting for a free slot included. */
    enhanceTimeoutMs: positiveInt.max(600_000),
    describeTimeoutMs: positiveInt.max(600_000),
    /** Requests sent to the server at once; more wait (at most maxWaiting), each user at most perUser in all. */
    maxConcurrent: positiveInt.max(64),
    maxWaiting: nonNegativeInt.max(1000),
    perUser: positiveInt.max(16),
    /** A prompt to enhance longer than this is refused. */
    maxPromptChars: positiveInt.max(8000),
    /** What the assistant writes is cut (at a sentence end) to this, and to limits.maxPromptChars, so it can be drafted. */
    maxOutputChars: positiveInt.min(100).max(8000),
    /** Images are shrunk to fit this side before they are sent (they are checked at full size first). */
    imageMaxSide: positiveInt.min(64).max(4096),
    /** The model runs on the image GPU: its calls then go through the fair queue as jobs of their own cost. */
    sharesGpu: z.boolean(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.url !== null && a.model === null) ctx.addIssue({ code: 'custom', path: ['model'], message: 'is needed when assistant.url is set (ASSISTANT_MODEL)' });
  });
export type AssistantConfig = z.infer<typeof assistantSchema>;

export const configSchema = z
  .object({
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }).strict(),
    dataDir: z.string().min(1),
    model: z
      .object({
        /** MODEL_DIR. null → the shipped models/mini. */
        dir: z.string().min(1).nullable(),
      })
      .strict(),
    profiles: z.object({ draft: profileSchema, refine: profileSchema, edit: profileSchema }).strict(),
    limits: z
      .object({
        maxCount: positiveInt.max(4),
        maxPromptChars: positiveInt.max(8000),
        /** Largest output side in pixels; the model's own maxSide also applies. */
        maxSide: positiveInt.max(4096),
        /** Input images larger than this many pixels are refused before decoding (decompression bombs). */
        maxInputPixels: positiveInt,
        maxInputBytes: positiveInt,
      })
      .strict(),
    queue: z
      .object({
        maxRunningPerUser: positiveInt,
        maxWaitingPerUser: positiveInt,
        maxWaitingTotal: positiveInt,
        /** DRR quantum in cost units (NFE × megapixels × images). */
        quantum: z.number().positive(),
        /** Weight of the newest observation in the per-profile step-time moving average. */
        etaSmoothing: z.number().gt(0).max(1),
        /** Seconds per cost unit assumed before any job of a profile has been observed. */
        initialSecondsPerCost: z.number().positive(),
        /** How often (ms) position/ETA updates may be re-sent to one job. */
        updateIntervalMs: nonNegativeInt,
        /** Post-processing (PNG, moderation) jobs at once; it never holds an inference worker. */
        postprocessConcurrency: positiveInt,
      })
      .strict(),
    devices: z.array(deviceSchema).min(1).superRefine((devices, ctx) => {
      const seen = new Set<string>();
      devices.forEach((device, i) => {
        if (seen.has(device.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `the device name "${device.name}" is used twice` });
        seen.add(device.name);
      });
    }),
    comfyui: comfyuiSchema,
    assistant: assistantSchema,
    studio: z
      .object({
        port: z.number().int().min(0).max(65535),
        host: z.string().min(1),
        /** Jobs the page shows when a tab opens (the journal's newest studio jobs). */
        history: z.number().int().min(1).max(500).default(50),
        /** New studio users (browser identities never seen by this process) welcomed per minute; the rest wait. */
        newUsersPerMinute: z.number().int().min(1).max(10_000).default(10),
        /** Uploads one user may have waiting for a command at once (their oldest makes room for a new one). */
        uploadsPerUser: z.number().int().min(1).max(64).default(4),
      })
      .strict(),
    discord: z
      .object({
        token: z.string().min(1).nullable(),
        apiBase: z.string().url(),
        guildId: z.string().min(1).nullable(),
        /** Register the slash commands at start-up (once per process, not per reconnect); `npm run register` does it too. */
        registerCommands: z.boolean(),
        /** Hosts users' images are downloaded from; DISCORD_API_BASE's host is added when it is not Discord's. */
        attachmentHosts: z.array(z.string().min(1)).min(1),
        /** Upload limit (bytes) assumed where Discord does not state one (mention edits, recovered jobs). */
        uploadLimitBytes: positiveInt,
      })
      .strict(),
    slack: z
      .object({
        botToken: z.string().min(1).nullable(),
        signingSecret: z.string().min(1).nullable(),
        appToken: z.string().min(1).nullable(),
        apiUrl: z.string().url(),
        port: z.number().int().min(0).max(65535),
        /** HTTP mode: the address to listen on; null → every interface. */
        host: z.string().min(1).nullable(),
        /** Web API retries after a network error, a 5xx or a 429 (each 429 first waits its Retry-After). */
        apiRetries: nonNegativeInt.max(10),
        /** Hosts images are downloaded from (exact, or a suffix with a leading dot); SLACK_API_URL's host is added. */
        fileHosts: z.array(z.string().min(1)).min(1),
      })
      .strict(),
    moderation: moderationSchema,
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
