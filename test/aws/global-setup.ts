import type { TestProject } from 'vitest/node';
import { awsEndpoint } from '../helpers/moto.ts';

/**
 * Starts one moto server for the AWS adapter suite (or uses `AWS_ENDPOINT_URL`, or AWS itself with
 * `MERIDIAN_AWS_TARGET=aws`) and hands its URL to every test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const endpoint = await awsEndpoint();
  project.provide('awsEndpoint', endpoint.url);
  project.provide('awsIsMoto', endpoint.isMoto);
  return () => endpoint.stop();
}
