// Tokenizer parity: @huggingface/tokenizers (JS) must give the same ids as Python `tokenizers`.
// usage: node tools/mini/parity_check.mjs [models/mini] [tools/mini/work/parity_sample.json]
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

const dir = process.argv[2] ?? 'models/mini';
const samplePath = process.argv[3] ?? 'tools/mini/work/parity_sample.json';
const json = JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8'));
const config = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8'));
const tok = new Tokenizer(json, config);
const { texts, ids } = JSON.parse(readFileSync(samplePath, 'utf8'));
let bad = 0;
for (let i = 0; i < texts.length; i++) {
  const got = tok.encode(texts[i], { add_special_tokens: false }).ids;
  const exp = ids[i];
  if (got.length !== exp.length || got.some((v, k) => v !== exp[k])) {
    if (bad < 5) console.log('MISMATCH', JSON.stringify(texts[i]), '\n js:', got.join(','), '\n py:', exp.join(','));
    bad++;
  }
}
console.log(`parity: ${texts.length - bad}/${texts.length} identical`);
process.exit(bad ? 1 : 0);
