/** The helm CLI, built from its Go module by scripts/build-helm.sh and cached (rebuilt when the build stamp changes). */
import { execFileSync, execFile } from 'node:child_process';

let cached: string | undefined;

export function findHelm(): string {
  cached ??= execFileSync('bash', ['scripts/build-helm.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  return cached;
}

export function runHelm(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(findHelm(), args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
