// Who this browser is in the studio: a random user id and a display name, both kept in localStorage so a person
// stays the same user across reloads and tabs (and can still Cancel or Delete yesterday's jobs). A first visit gets
// a friendly generated name in the page's language instead of a question before the composer.

const ID_KEY = 'zimage.userId';
const NAME_KEY = 'zimage.name';
export const MAX_NAME = 32;

const WORDS = {
  en: {
    colours: ['Amber', 'Azure', 'Coral', 'Crimson', 'Golden', 'Indigo', 'Ivory', 'Jade', 'Lilac', 'Olive', 'Silver', 'Teal', 'Violet', 'Snowy', 'Inky', 'Tangerine'],
    animals: ['Fox', 'Otter', 'Panda', 'Whale', 'Owl', 'Hedgehog', 'Dolphin', 'Squirrel', 'Penguin', 'Rabbit', 'Tiger', 'Crane', 'Parrot', 'Koala', 'Lynx', 'Sparrow'],
    join: (colour, animal) => `${colour} ${animal}`,
  },
  'zh-CN': {
    colours: ['琥珀', '蔚蓝', '珊瑚', '绯红', '金色', '靛蓝', '象牙', '翡翠', '丁香', '橄榄', '银色', '青绿', '紫色', '雪白', '墨黑', '橙色'],
    animals: ['狐狸', '水獭', '熊猫', '鲸鱼', '猫头鹰', '刺猬', '海豚', '松鼠', '企鹅', '兔子', '老虎', '仙鹤', '鹦鹉', '考拉', '猞猁', '麻雀'],
    join: (colour, animal) => `${colour}${animal}`,
  },
};

// localStorage can be switched off (some private modes, blocked site data): the page still works, for this visit.
const memory = new Map();
function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return memory.get(key) ?? null;
  }
}
function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    memory.set(key, value);
  }
}

const pick = (list) => list[crypto.getRandomValues(new Uint32Array(1))[0] % list.length];

/** The server's rule (protocol.ts): 1 to 32 characters after trimming, no control or format characters. */
export const validName = (name) => typeof name === 'string' && name.length >= 1 && name.length <= MAX_NAME && !/\p{C}/u.test(name);

export function generatedName(locale) {
  const words = WORDS[locale] ?? WORDS.en;
  return words.join(pick(words.colours), pick(words.animals));
}

export function userId() {
  let id = load(ID_KEY);
  if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id = `u-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    store(ID_KEY, id);
  }
  return id;
}

/** The stored name, or a new generated one (stored, so the next visit keeps it). */
export function currentName(locale) {
  const stored = load(NAME_KEY);
  if (stored !== null && validName(stored)) return stored;
  const name = generatedName(locale);
  store(NAME_KEY, name);
  return name;
}

export function saveName(name) {
  store(NAME_KEY, name);
}

/** Calls back with the new name when another tab of this browser renames the user. */
export function onNameChangedElsewhere(callback) {
  addEventListener('storage', (event) => {
    if (event.key === NAME_KEY && validName(event.newValue)) callback(event.newValue);
  });
}
