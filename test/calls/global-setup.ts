import type { TestProject } from 'vitest/node';
import { callLogPath } from '../helpers/call-log.ts';

/** Hands the calls project the integration platform's call log (test/helpers/call-log.ts). */
export default function setup(project: TestProject): void {
  project.provide('awsCallLog', callLogPath());
}
