// Lints code snippets as if they sat at the given paths, with the workspace's eslint.config.mjs,
// through ESLint's Node API. Run as a child process (Jest's VM cannot import the ESM config):
// stdin: {"rules": [ruleId...], "snippets": [{"filePath", "code"}]}; stdout: one message list per snippet.
import { ESLint } from 'eslint';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text));
}));
const rules = new Set(input.rules);
const eslint = new ESLint({ cwd: process.cwd(), ruleFilter: ({ ruleId }) => rules.has(ruleId) });
const results = [];
for (const { filePath, code } of input.snippets) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push((result?.messages ?? []).map(({ line, ruleId, message }) => ({ line, ruleId, message })));
}
process.stdout.write(JSON.stringify(results));
