import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the integration platform writes the AWS calls its functions make (bin/local/call-log.ts),
 * and the calls project reads them after the integration project: both global setups run in vitest's
 * main process, so its pid names the run.
 */
export const callLogPath = (): string => join(tmpdir(), `meridian-aws-calls-${process.pid}.log`);
