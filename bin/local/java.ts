import { execFile } from 'node:child_process';
import { LocalPlatformError } from './errors.ts';

/** DynamoDB Local 3.x needs Java 17 or newer. */
export const MIN_JAVA_MAJOR = 17;

/** Thrown when Java is missing or too old; the message says how to install it. */
export class JavaError extends LocalPlatformError {
  override readonly name = 'JavaError';
}

/**
 * The major version in `java -version` output: `openjdk version "17.0.15"` → 17,
 * `java version "1.8.0_381"` → 8, `openjdk version "21" 2023-09-19` → 21; undefined if unrecognised.
 */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  // Java 8 and older report themselves as 1.x.
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** How to install Java 17 (both common systems, so the hint is right wherever it is read). */
export function javaInstallHint(): string {
  return [
    `Install Java ${MIN_JAVA_MAJOR} or newer (DynamoDB Local runs on it):`,
    '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless',
    "  macOS:         brew install openjdk@17   (then follow brew's hint to put it on PATH)",
    'Then check with: java -version',
  ].join('\n');
}

/**
 * Runs `java -version` and resolves to the major version, or throws {@link JavaError} with install
 * instructions when Java is missing or older than {@link MIN_JAVA_MAJOR}.
 */
export function checkJava(command = 'java'): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(command, ['-version'], { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new JavaError(`Java was not found on PATH.\n${javaInstallHint()}`));
        return;
      }
      // `java -version` writes to stderr.
      const major = parseJavaMajorVersion(`${stderr}\n${stdout}`);
      if (error || major === undefined) {
        reject(
          new JavaError(
            `Could not run \`${command} -version\` (${error?.message ?? stderr}).\n${javaInstallHint()}`,
          ),
        );
        return;
      }
      if (major < MIN_JAVA_MAJOR) {
        reject(new JavaError(`Java ${major} is too old for DynamoDB Local.\n${javaInstallHint()}`));
        return;
      }
      resolve(major);
    });
  });
}
