/**
 * The package's entry points: package.json's exports must name files `npm run build` emits (tsconfig.build.json
 * compiles src/X.ts to dist/X.js and, with declarations on, dist/X.d.ts), the CLI must stay its bin, and msw must
 * be an optional peer (a user of the CLI never installs it). Read from the files; no build runs here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8'));

/** the source file tsc compiles to `emitted` (./dist/x.js or ./dist/x.d.ts) */
function sourceOf(emitted: string): string {
  const outDir = build.compilerOptions.outDir as string;
  const rootDir = build.compilerOptions.rootDir as string;
  const relative = emitted.replace(/^\.\//, '');
  expect(relative.startsWith(`${outDir}/`), `${emitted} is under ${outDir}/`).toBe(true);
  return join(ROOT, rootDir, relative.slice(outDir.length + 1).replace(/\.d\.ts$|\.js$/, '.ts'));
}

describe('the package', () => {
  it('exports understudy/msw and the server, each as JavaScript the build emits and its declarations', () => {
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './msw']));
    expect(build.compilerOptions.declaration).toBe(true);
    for (const [entry, target] of Object.entries(pkg.exports as Record<string, string | { types: string; import: string }>)) {
      if (typeof target === 'string') {
        expect(existsSync(join(ROOT, target)), `${entry} → ${target}`).toBe(true);
        continue;
      }
      expect(target.types.replace(/\.d\.ts$/, ''), `${entry}: types beside the code`).toBe(target.import.replace(/\.js$/, ''));
      for (const file of [target.import, target.types]) expect(existsSync(sourceOf(file)), `${entry} → ${file} from ${sourceOf(file)}`).toBe(true);
    }
    expect(sourceOf(pkg.exports['./msw'].import)).toBe(join(ROOT, 'src/msw.ts'));
  });

  it('keeps the CLI as its bin, and msw an optional peer that the tests install', () => {
    expect(existsSync(sourceOf(`./${pkg.bin.understudy}`))).toBe(true);
    expect(pkg.scripts.start).toMatch(/node dist\/cli\.js serve/);
    expect(pkg.peerDependencies.msw).toMatch(/^\^2\./);
    expect(pkg.peerDependenciesMeta.msw.optional).toBe(true);
    expect(pkg.devDependencies.msw).toMatch(/^\^2\./);
    expect(pkg.dependencies.msw).toBeUndefined();
  });
});
