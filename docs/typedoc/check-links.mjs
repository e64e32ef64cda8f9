// Part of `npm run docs`: every relative link in the README and the docs pages must lead
// somewhere — a file of the repository, a heading of a Markdown page, or a page of the API
// reference TypeDoc has just generated in docs/api/ (so renaming an export cannot silently
// break the README's API tour).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pages = ['README.md', 'ARCHITECTURE.md', 'docs/README.md', 'docs/results.md', 'docs/decisions.md', 'docs/cuda.md', 'examples/README.md'];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown) {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#+ (.*)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-')));
}

const bad = [];
for (const page of pages) {
  const file = join(root, page);
  if (!existsSync(file)) continue;
  const text = readFileSync(file, 'utf8');
  for (const [, target] of text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target)) continue; // http(s), mailto: not checked offline
    const [path, anchor] = target.split('#');
    const dest = path ? normalize(join(dirname(file), path)) : file;
    if (!existsSync(dest)) bad.push(`${page}: ${target} (no ${relative(root, dest)})`);
    else if (anchor && dest.endsWith('.md') && !anchors(readFileSync(dest, 'utf8')).has(anchor)) bad.push(`${page}: ${target} (no heading #${anchor})`);
  }
}
// ARCHITECTURE.md names source files in code spans (its worked example walks real files): each
// must exist, so a rename that forgets the guide fails here.
{
  const text = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
  for (const [, path] of text.matchAll(/`((?:lib|native|test|docs)\/[\w./-]+\.\w+)`/g)) {
    if (!existsSync(join(root, path))) bad.push(`ARCHITECTURE.md: \`${path}\` (no such file)`);
  }
}
if (bad.length) {
  console.error(`docs: ${bad.length} broken link(s):\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
console.log(`docs: every relative link in ${pages.length} pages resolves`);
