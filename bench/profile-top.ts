/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`) by self time per function:
 *   node --import tsx bench/profile-top.ts <file.cpuprofile | directory> [rows]
 * A directory means its largest profile (the busiest process or thread).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

const [target = '.', rowsText = '30'] = process.argv.slice(2);
const file = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((name) => name.endsWith('.cpuprofile'))
      .map((name) => join(target, name))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0]
  : target;
if (file === undefined) throw new Error(`no .cpuprofile in ${target}`);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const frame = byId.get(id)?.callFrame;
  const delta = profile.timeDeltas[index] ?? 0;
  const where = frame?.url.split('/').slice(-2).join('/') ?? '';
  const key = `${frame?.functionName || '(anonymous)'} ${where}:${frame?.lineNumber ?? 0}`;
  self.set(key, (self.get(key) ?? 0) + delta);
  total += delta;
});
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n`);
for (const [key, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsText)))
  process.stdout.write(`${((100 * time) / total).toFixed(1).padStart(6)} %  ${key}\n`);
