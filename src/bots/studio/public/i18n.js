// UI chrome in English and Simplified Chinese, chosen by the browser's language. Everything the bot itself says
// (status lines, results, refusals) comes from the server, already in this tab's language.

const TABLE = {
  en: {
    title: 'Z-Image Studio',
    nameLabel: 'Your name',
    rename: 'Your name on your cards. Click to change it.',
    nameInvalid: 'Use 1 to 32 visible characters.',
    send: 'Send',
    attach: 'Image…',
    paintMask: 'Paint mask',
    maskReady: 'Mask painted',
    remove: 'Remove',
    replyingTo: 'Replying to candidate {n} of job {job}',
    yourImage: 'Your image: {name}',
    reply: 'Reply',
    onlyYou: 'Only you can see this',
    connecting: 'Connecting…',
    connected: 'Connected',
    offline: 'Reconnecting…',
    placeholder: '/draft a red fox --seed 42 · reply to an image, or attach one, to edit it',
    help: 'Commands: /draft, /refine, /edit. Options:',
    etaLeft: '≈ {n} s left',
    from: '↳ from {job}',
    brush: 'Brush',
    clear: 'Clear',
    cancel: 'Cancel',
    done: 'Done',
    maskHint: 'Paint over what should change.',
    sending: 'Sending…',
    withheld: 'Withheld by the content filter',
    preview: 'Preview of the image as it forms',
    uploadFailed: 'The upload did not reach the studio. Try again.',
    notSent: 'Not connected: nothing was sent. Try again in a moment.',
    anonymous: 'someone',
  },
  'zh-CN': {
    title: 'Z-Image 工作室',
    nameLabel: '你的名字',
    rename: '你的卡片上显示的名字，点击即可修改。',
    nameInvalid: '请使用 1 到 32 个可见字符。',
    send: '发送',
    attach: '图像…',
    paintMask: '绘制遮罩',
    maskReady: '已绘制遮罩',
    remove: '移除',
    replyingTo: '回复任务 {job} 的第 {n} 个候选',
    yourImage: '你的图像：{name}',
    reply: '回复',
    onlyYou: '仅你可见',
    connecting: '正在连接…',
    connected: '已连接',
    offline: '正在重新连接…',
    placeholder: '/draft 一只红狐狸 --seed 42 · 回复或附上一张图像即可编辑',
    help: '命令：/draft、/refine、/edit。选项：',
    etaLeft: '约剩 {n} 秒',
    from: '↳ 来自 {job}',
    brush: '画笔',
    clear: '清除',
    cancel: '取消',
    done: '完成',
    maskHint: '涂抹需要修改的区域。',
    sending: '发送中…',
    withheld: '已被内容过滤器拦截',
    preview: '图像生成中的预览',
    uploadFailed: '上传没有成功，请重试。',
    notSent: '未连接：没有发送任何内容，请稍后再试。',
    anonymous: '某人',
  },
};

/** Mirrors the server's localeFrom(): any zh-* browser gets Simplified Chinese. */
export const locale = /^zh\b/i.test(navigator.language) ? 'zh-CN' : 'en';

export function t(key, params = {}) {
  const template = TABLE[locale][key] ?? TABLE.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

/** Fills the static page: data-i18n → text; data-i18n-placeholder, -title, -aria-label → those attributes. */
export function translatePage(root = document) {
  document.documentElement.lang = locale;
  document.title = t('title');
  for (const element of root.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  for (const element of root.querySelectorAll('[data-i18n-placeholder]')) element.placeholder = t(element.dataset.i18nPlaceholder);
  for (const element of root.querySelectorAll('[data-i18n-title]')) element.title = t(element.dataset.i18nTitle);
  for (const element of root.querySelectorAll('[data-i18n-aria-label]')) element.setAttribute('aria-label', t(element.dataset.i18nAriaLabel));
}
