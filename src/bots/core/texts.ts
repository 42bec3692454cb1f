import type { Role } from '../../config/schema.ts';
import type { Locale } from './command.ts';
import type { UserError } from './errors.ts';

/**
 * Every sentence the bot says, in English and Simplified Chinese. Adapters never write user-facing text; they ask
 * here (or render the core's Reply, which was made here).
 */
type Params = Readonly<Record<string, string | number>>;
type Template = string | ((p: Params) => string);

const EN = {
  'role.draft': 'Drafting',
  'role.refine': 'Refining',
  'role.edit': 'Editing',
  'status.queued': (p: Params) => `Queued · position ${p.position} · starts in ${p.eta}`,
  'status.queued.next': 'Queued · next up',
  'status.running': (p: Params) => `${p.role} · step ${p.step}/${p.total}`,
  'status.starting': (p: Params) => `${p.role} · starting`,
  'status.finishing': (p: Params) => `${p.role} · finishing`,
  'result.footer': (p: Params) =>
    `${p.model} · seed ${p.seed} · ${p.steps} steps${Number(p.guidance) > 0 ? ` · guidance ${p.guidance}` : ''} · ${p.width}×${p.height} · ${p.seconds} s · job ${p.job}`,
  'result.withheld': (p: Params) => `${p.count} of ${p.total} candidates were withheld by the content filter.`,
  'result.unavailable': (p: Params) => `${p.count} of ${p.total} candidates could not be checked (the content filter is unavailable), so they are not shown.`,
  'result.spoiler': 'Some candidates are behind a spoiler: the content filter flagged them.',
  'result.truncated': (p: Params) => `Your prompt was cut to ${p.kept} of ${p.tokens} tokens; the end was not used.`,
  'result.by': (p: Params) => `requested by ${p.user}`,
  'done.blocked': 'Every candidate was withheld by the content filter, so nothing is shown. It cost you nothing in the queue.',
  'done.unavailable': 'The content filter is unavailable right now, so nothing can be posted. Try again in a minute; this cost you nothing in the queue.',
  'done.cancelled': 'Cancelled.',
  'done.failed': (p: Params) => `That did not work: ${p.reason}`,
  'done.deleted': 'Deleted.',
  'button.refine': (p: Params) => `Refine ${p.n}`,
  'button.vary-subtle': (p: Params) => `Vary ${p.n} · subtle`,
  'button.vary-strong': (p: Params) => `Vary ${p.n} · strong`,
  'button.reroll': 'Reroll',
  'button.cancel': 'Cancel',
  'button.delete': 'Delete',
  'eta.now': 'a moment',
  'eta.seconds': (p: Params) => `about ${p.n} s`,
  'eta.minutes': (p: Params) => `about ${p.n} min`,
  'recovered.failed': (p: Params) => `The bot restarted and could not finish your job ${p.job}. Please run it again.`,
  // refusals
  'error.unknown-flag': (p: Params) => `I don't know the option ${p.flag}. Options: ${p.allowed}`,
  'error.flag-not-for-role': (p: Params) => `${p.flag} does not apply to /${p.role}.`,
  'error.duplicate-flag': (p: Params) => `${p.flag} is given twice.`,
  'error.missing-value': (p: Params) => `${p.flag} needs a value.`,
  'error.not-a-number': (p: Params) => `${p.flag} needs ${p.kind === 'integer' ? 'a whole number' : 'a number'}, not "${p.value}".`,
  'error.option-out-of-range': (p: Params) => `${p.flag} must be between ${p.min} and ${p.max}; you gave ${p.value}.`,
  'error.unsupported-attachment': 'That attachment is not an image I can read (PNG, JPEG, WebP, GIF, AVIF or TIFF).',
  'error.attachment-too-large': (p: Params) => `That file is too large (the limit is ${p.max}).`,
  'error.attachment-host': 'I only download images from the platform’s own file servers.',
  'error.attachment-fetch': 'I could not download that image. Try uploading it again.',
  'error.no-image': 'Attach an image, or reply to one, to do that.',
  'error.no-draft': 'There is no draft of yours in this channel yet. Run /draft first, or attach an image.',
  'error.not-owner': 'Only the person who started this job (or an admin) can do that.',
  'error.unknown-job': 'That job is not known any more.',
  'error.expired-button': 'That button belongs to a job that is gone.',
  'error.wrong-message': 'That button does not belong to this message, so nothing was deleted.',
  'error.invalid-request': (p: Params) => `${p.message}`,
  'error.unknown-role': 'Unknown command.',
  'error.unknown-command': (p: Params) => `Unknown command${p.command ? ` ${p.command}` : ''}. Use /draft, /refine or /edit.`,
  'error.image-not-for-draft': '/draft starts from words only. To start from an image, use /edit or /refine.',
  'error.empty-prompt': 'Tell me what to draw: the prompt is empty.',
  'error.prompt-too-long': (p: Params) => `The prompt is too long (${p.length} characters; the limit is ${p.max}).`,
  'error.out-of-range': (p: Params) => `${p.setting} must be between ${p.min} and ${p.max}; you gave ${p.value}.`,
  'error.bad-size': (p: Params) => `That size does not work: ${p.message}`,
  'error.bad-image': 'That image could not be read. Is the file complete?',
  'error.image-too-large': 'That image is too large.',
  'error.bad-mask': (p: Params) => `The mask must have the same size as the image (mask ${p.mask}, image ${p.image}).`,
  'error.unknown-region': (p: Params) => `Unknown region "${p.value}". Use left, right, top, bottom, center, or x,y,w,h in percent.`,
  'error.unknown-style': (p: Params) => `Unknown style "${p.value}". Styles: ${p.allowed}.`,
  'error.missing-image': 'The image to start from is missing. Attach one.',
  'error.no-denoising-steps': (p: Params) => `Strength ${p.strength} leaves none of the ${p.steps} steps to run. Use a strength of at least ${p.min}.`,
  'error.prompt-blocked': 'That prompt is not allowed here.',
  'error.input-blocked': 'The content filter does not allow that image.',
  'error.user-queue-full': (p: Params) => `You already have ${p.max} jobs waiting. Let one start first.`,
  'error.user-running-cap': 'You already have a job running.',
  'error.queue-full': 'The queue is full right now. Try again in a minute.',
  'error.shutting-down': 'The bot is restarting. Try again in a minute.',
  'error.journal-unavailable': 'I cannot save new jobs right now (my job list is locked or the disk is full), so I am not taking any. Jobs already running will still finish. Try again in a few minutes.',
  'error.storage-unavailable': 'I cannot store images right now (the disk is full or read-only). Try again later.',
  'error.model-error': 'The model failed on this job.',
  'error.worker-crashed': 'The image worker crashed while running your job; it has been restarted. Try again.',
  'error.moderation-unavailable': 'The content filter is unavailable, so nothing can be posted right now.',
  // The reason (for logs and the journal) is English; users get the fact in their language.
  'error.lost-on-restart': 'The bot restarted and could not deliver this job any more. Please run it again.',
  'error.internal': 'Something went wrong on my side.',
  // Platform chrome: command descriptions, modals, adapter-specific refusals.
  'discord.status.queued': (p: Params) => `Queued · position ${p.position} · starts ${p.when}`,
  'discord.status.finishes': (p: Params) => `finishes ${p.when}`,
  'discord.command.draft': 'Draft images fast: candidates in about a second',
  'discord.command.refine': 'Re-render an image with the finer model (default: your latest draft here)',
  'discord.command.edit': 'Change an image by instruction',
  'discord.option.prompt.draft': 'What to draw (inline flags like --seed 42 work too)',
  'discord.option.prompt.refine': 'What to add or change (optional)',
  'discord.option.prompt.edit': 'The instruction: what to change',
  'discord.option.image.refine': 'The image to refine (default: your latest draft in this channel)',
  'discord.option.image.edit': 'The image to edit',
  'discord.option.mask': 'A mask: white is the area to change',
  'discord.menu.edit': 'Edit image',
  'discord.modal.title': 'Edit image',
  'discord.modal.instruction': 'What should change?',
  'discord.modal.region': 'Region (optional)',
  'discord.modal.candidate': (p: Params) => `Candidate (1–${p.max})`,
  'discord.error.form-expired': 'That edit form has expired. Open it again from the message.',
  'slack.not-in-channel': 'I am not in this channel yet. Invite me with /invite, then try again.',
  'slack.pick-candidate': 'That image holds several candidates. Use the “Edit image” shortcut to pick one, or press Refine n first.',
  'slack.modal.title': 'Edit image',
  'slack.modal.submit': 'Edit',
  'slack.modal.instruction': 'What should change?',
  'slack.modal.candidate': 'Which candidate',
  'studio.bad-message': 'The studio could not read that message. Reload the page and try again.',
  'studio.too-many-new-users': 'Too many new studio users joined in the last minute. Reload the page in a minute to join.',
} satisfies Record<string, Template>;

export type TextKey = keyof typeof EN;

const ZH: Record<TextKey, Template> = {
  'role.draft': '草图生成',
  'role.refine': '精修',
  'role.edit': '编辑',
  'status.queued': (p) => `排队中 · 第 ${p.position} 位 · ${p.eta}后开始`,
  'status.queued.next': '排队中 · 下一个就是你',
  'status.running': (p) => `${p.role} · 第 ${p.step}/${p.total} 步`,
  'status.starting': (p) => `${p.role} · 正在开始`,
  'status.finishing': (p) => `${p.role} · 即将完成`,
  'result.footer': (p) =>
    `${p.model} · 种子 ${p.seed} · ${p.steps} 步${Number(p.guidance) > 0 ? ` · 引导 ${p.guidance}` : ''} · ${p.width}×${p.height} · ${p.seconds} 秒 · 任务 ${p.job}`,
  'result.withheld': (p) => `${p.total} 个候选中有 ${p.count} 个被内容过滤器拦截。`,
  'result.unavailable': (p) => `${p.total} 个候选中有 ${p.count} 个未能检查（内容过滤器暂时不可用），因此不显示。`,
  'result.spoiler': '部分候选被内容过滤器标记，已加上剧透遮挡。',
  'result.truncated': (p) => `提示词过长：只使用了 ${p.tokens} 个词元中的前 ${p.kept} 个。`,
  'result.by': (p) => `由 ${p.user} 发起`,
  'done.blocked': '所有候选都被内容过滤器拦截，因此没有显示任何图像。此任务不占用你的排队额度。',
  'done.unavailable': '内容过滤器暂时不可用，因此现在无法发布任何内容。请一分钟后再试；此任务不占用你的排队额度。',
  'done.cancelled': '已取消。',
  'done.failed': (p) => `没有成功：${p.reason}`,
  'done.deleted': '已删除。',
  'button.refine': (p) => `精修 ${p.n}`,
  'button.vary-subtle': (p) => `微调 ${p.n}`,
  'button.vary-strong': (p) => `大改 ${p.n}`,
  'button.reroll': '重新生成',
  'button.cancel': '取消',
  'button.delete': '删除',
  'eta.now': '片刻',
  'eta.seconds': (p) => `约 ${p.n} 秒`,
  'eta.minutes': (p) => `约 ${p.n} 分钟`,
  'recovered.failed': (p) => `机器人重启了，无法完成你的任务 ${p.job}。请重新运行。`,
  'error.unknown-flag': (p) => `不认识的选项 ${p.flag}。可用选项：${p.allowed}`,
  'error.flag-not-for-role': (p) => `${p.flag} 不适用于 /${p.role}。`,
  'error.duplicate-flag': (p) => `${p.flag} 重复出现。`,
  'error.missing-value': (p) => `${p.flag} 需要一个值。`,
  'error.not-a-number': (p) => `${p.flag} 需要${p.kind === 'integer' ? '整数' : '数字'}，而不是“${p.value}”。`,
  'error.option-out-of-range': (p) => `${p.flag} 必须在 ${p.min} 到 ${p.max} 之间；你给的是 ${p.value}。`,
  'error.unsupported-attachment': '这个附件不是我能读取的图像（PNG、JPEG、WebP、GIF、AVIF 或 TIFF）。',
  'error.attachment-too-large': (p) => `文件太大（上限 ${p.max}）。`,
  'error.attachment-host': '我只从平台自己的文件服务器下载图像。',
  'error.attachment-fetch': '无法下载这张图像，请重新上传。',
  'error.no-image': '请附上一张图像，或回复一张图像。',
  'error.no-draft': '你在这个频道还没有草图。请先使用 /draft，或附上一张图像。',
  'error.not-owner': '只有发起此任务的人（或管理员）可以这样做。',
  'error.unknown-job': '这个任务已经不存在了。',
  'error.expired-button': '这个按钮对应的任务已经不存在了。',
  'error.wrong-message': '这个按钮不属于这条消息，因此没有删除任何内容。',
  'error.invalid-request': (p) => `请求无效：${p.message}`,
  'error.unknown-role': '未知命令。',
  'error.unknown-command': (p) => `未知命令${p.command ? ` ${p.command}` : ''}。请使用 /draft、/refine 或 /edit。`,
  'error.image-not-for-draft': '/draft 只根据文字作画。要从一张图像开始，请使用 /edit 或 /refine。',
  'error.empty-prompt': '请告诉我要画什么：提示词是空的。',
  'error.prompt-too-long': (p) => `提示词太长（${p.length} 个字符；上限 ${p.max}）。`,
  'error.out-of-range': (p) => `${p.setting} 必须在 ${p.min} 到 ${p.max} 之间；你给的是 ${p.value}。`,
  'error.bad-size': (p) => `尺寸不可用：${p.message}`,
  'error.bad-image': '无法读取这张图像。文件完整吗？',
  'error.image-too-large': '图像太大。',
  'error.bad-mask': (p) => `遮罩必须与图像尺寸相同（遮罩 ${p.mask}，图像 ${p.image}）。`,
  'error.unknown-region': (p) => `未知区域“${p.value}”。可用：left、right、top、bottom、center，或百分比形式的 x,y,w,h。`,
  'error.unknown-style': (p) => `未知风格“${p.value}”。可用风格：${p.allowed}。`,
  'error.missing-image': '缺少起始图像，请附上一张。',
  'error.no-denoising-steps': (p) => `强度 ${p.strength} 使 ${p.steps} 步中没有任何一步执行。请把强度设为至少 ${p.min}。`,
  'error.prompt-blocked': '此处不允许这个提示词。',
  'error.input-blocked': '内容过滤器不允许这张图像。',
  'error.user-queue-full': (p) => `你已有 ${p.max} 个任务在排队，请等其中一个开始。`,
  'error.user-running-cap': '你已有一个任务正在运行。',
  'error.queue-full': '队列已满，请一分钟后再试。',
  'error.shutting-down': '机器人正在重启，请一分钟后再试。',
  'error.journal-unavailable': '我现在无法保存新任务（任务列表被锁定或磁盘已满），因此暂不接受新任务。已在运行的任务仍会完成。请过几分钟再试。',
  'error.storage-unavailable': '我现在无法保存图像（磁盘已满或只读）。请稍后再试。',
  'error.model-error': '模型处理这个任务时出错了。',
  'error.worker-crashed': '运行你的任务时图像进程崩溃了，已重新启动。请再试一次。',
  'error.moderation-unavailable': '内容过滤器暂时不可用，因此现在无法发布任何内容。',
  'error.lost-on-restart': '机器人重启了，无法再交付这个任务。请重新运行。',
  'error.internal': '我这边出了点问题。',
  'discord.status.queued': (p) => `排队中 · 第 ${p.position} 位 · 预计${p.when}开始`,
  'discord.status.finishes': (p) => `预计${p.when}完成`,
  'discord.command.draft': '快速生成草图：约一秒出候选',
  'discord.command.refine': '用更精细的模型重新渲染图像（默认：你在此频道最新的草图）',
  'discord.command.edit': '按指令修改图像',
  'discord.option.prompt.draft': '要画什么（也可以写 --seed 42 这样的参数）',
  'discord.option.prompt.refine': '要添加或修改的内容（可选）',
  'discord.option.prompt.edit': '编辑指令：要改什么',
  'discord.option.image.refine': '要精修的图像（默认：你在此频道最新的草图）',
  'discord.option.image.edit': '要编辑的图像',
  'discord.option.mask': '遮罩：白色为要修改的区域',
  'discord.menu.edit': '编辑图像',
  'discord.modal.title': '编辑图像',
  'discord.modal.instruction': '要改什么？',
  'discord.modal.region': '区域（可选）',
  'discord.modal.candidate': (p) => `候选编号（1–${p.max}）`,
  'discord.error.form-expired': '这个编辑表单已过期，请在消息上重新打开。',
  'slack.not-in-channel': '我还不在这个频道里。请先用 /invite 邀请我，然后再试一次。',
  'slack.pick-candidate': '这张图包含多个候选。请使用“编辑图像”快捷方式选择其中一个，或先点击“精修 n”。',
  'slack.modal.title': '编辑图像',
  'slack.modal.submit': '编辑',
  'slack.modal.instruction': '要改什么？',
  'slack.modal.candidate': '哪个候选',
  'studio.bad-message': '工作室无法读取这条消息，请刷新页面后重试。',
  'studio.too-many-new-users': '最近一分钟加入的新用户太多了。请一分钟后刷新页面再加入。',
};

const CATALOGS: Record<Locale, Record<TextKey, Template>> = { en: EN, 'zh-CN': ZH };

export function text(locale: Locale, key: TextKey, params: Params = {}): string {
  const template = CATALOGS[locale][key];
  return typeof template === 'function' ? template(params) : template;
}

export function roleName(locale: Locale, role: Role): string {
  return text(locale, `role.${role}`);
}

export function formatEta(locale: Locale, ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 2) return text(locale, 'eta.now');
  if (seconds < 90) return text(locale, 'eta.seconds', { n: seconds });
  return text(locale, 'eta.minutes', { n: Math.round(seconds / 60) });
}

/** One clear sentence for any refusal or failure. */
export function errorText(locale: Locale, error: UserError): string {
  const key = `error.${error.code}` as TextKey;
  const params = { ...(error.params ?? {}), ...('message' in error ? { message: error.message } : {}) };
  return key in EN ? text(locale, key, params) : text(locale, 'error.internal');
}
