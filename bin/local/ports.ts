import { createServer, type Server } from 'node:net';
import { LocalPlatformError } from './errors.ts';

/**
 * Port checks before anything starts, so a conflict is reported in one clear sentence instead of a
 * Java stack trace two seconds later.
 */

/** One port a service wants. */
export interface PortRequest {
  /** Who wants it, for the message, e.g. "DynamoDB Local". */
  readonly service: string;
  /** The environment variable that changes it, e.g. "MERIDIAN_DYNAMODB_PORT". */
  readonly envVar: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/** The platform's ports, their defaults and the variables that change them. */
export const PORT_DEFAULTS = Object.freeze({
  api: { service: 'the Meridian API', envVar: 'PORT', port: 3000 },
  dynamodb: { service: 'DynamoDB Local', envVar: 'MERIDIAN_DYNAMODB_PORT', port: 8000 },
  s3: { service: 's3rver (S3)', envVar: 'MERIDIAN_S3_PORT', port: 4569 },
  cognito: { service: 'cognito-local', envVar: 'MERIDIAN_COGNITO_PORT', port: 9229 },
  idp: { service: 'the local OpenID provider', envVar: 'MERIDIAN_IDP_PORT', port: 9230 },
} as const);

/** Thrown when a wanted port is taken; the message says which, by whom wanted, and how to change it. */
export class PortInUseError extends LocalPlatformError {
  override readonly name = 'PortInUseError';
}

/** Reads a port from `env[name]`, falling back to `fallback`; rejects anything but 0..65535. */
export function portFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new LocalPlatformError(`${name}=${raw} is not a port number (0 to 65535; 0 picks a free port).`);
  }
  return port;
}

/** The message for a taken port, e.g. "Port 8000 ... MERIDIAN_DYNAMODB_PORT=8001 npm start". */
export function portInUseMessage(request: PortRequest): string {
  const suggestion = request.port < 65_535 ? request.port + 1 : 0;
  return (
    `Port ${request.port} is already in use, but ${request.service} needs it. ` +
    `Stop whatever is listening there, or choose another port: ${request.envVar}=${suggestion} npm start`
  );
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    // No host: the wildcard address collides with a listener on any address, including 127.0.0.1
    // and DynamoDB Local's Java socket, which binds every interface.
    server.listen({ port, exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Checks every requested port and resolves each 0 to a free port. All probes stay open until all
 * are chosen, so two services asking for 0 never get the same port. Throws one
 * {@link PortInUseError} listing every conflict.
 */
export async function claimPorts(requests: readonly PortRequest[]): Promise<number[]> {
  const problems: string[] = [];
  const seen = new Map<number, PortRequest>();
  for (const request of requests) {
    const other = request.port === 0 ? undefined : seen.get(request.port);
    if (other) {
      problems.push(
        `${other.service} (${other.envVar}) and ${request.service} (${request.envVar}) both want port ${request.port}.`,
      );
    }
    seen.set(request.port, request);
  }
  if (problems.length > 0) throw new PortInUseError(problems.join('\n'));

  const probes: Server[] = [];
  const ports: number[] = [];
  try {
    for (const request of requests) {
      try {
        const probe = await listen(request.port);
        probes.push(probe);
        const address = probe.address();
        ports.push(typeof address === 'object' && address !== null ? address.port : request.port);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') problems.push(portInUseMessage(request));
        else if (code === 'EACCES') {
          problems.push(
            `Port ${request.port} for ${request.service} needs privileges; pick one above 1023 with ${request.envVar}.`,
          );
        } else throw error;
        ports.push(request.port);
      }
    }
  } finally {
    await Promise.all(probes.map(close));
  }
  if (problems.length > 0) throw new PortInUseError(problems.join('\n'));
  return ports;
}
