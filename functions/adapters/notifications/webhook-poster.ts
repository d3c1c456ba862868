import { EgressAllowlist } from '#core/net/egress.ts';
import { DeliveryError, type WebhookPoster } from '#core/notifications/ports.ts';
import {
  EgressGuard,
  type EgressGuardOptions,
  EgressRefused,
  EgressUnresolved,
  errorCode,
  pinnedRequest,
  type ResolvedAddress,
} from '../egress-guard.ts';

/** How long one delivery may take, DNS included. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Posts slack and webhook notifications through the SSRF guard HTTP tools use (egress-guard.ts):
 * https only (http only to a host a platform admin allowlisted), every resolved address public or
 * on the tenant's allowlist, the connection pinned to the checked addresses. Redirects are not
 * followed (a receiver answers where it was registered) and the response body is not read.
 */
export class GuardedWebhookPoster implements WebhookPoster {
  private readonly guard: EgressGuard;
  private readonly timeoutMs: number;

  constructor(options: EgressGuardOptions & { readonly timeoutMs?: number } = {}) {
    this.guard = new EgressGuard(options);
    this.timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  }

  async check(url: string, egress: readonly string[]): Promise<string | undefined> {
    try {
      await this.addresses(new URL(url), new EgressAllowlist(egress), AbortSignal.timeout(this.timeoutMs));
      return undefined;
    } catch (error) {
      if (error instanceof DeliveryError) return error.message;
      throw error;
    }
  }

  async post(
    url: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    egress: readonly string[],
  ): Promise<{ status: number }> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new DeliveryError('not a valid URL', true);
    }
    const signal = AbortSignal.timeout(this.timeoutMs);
    const addresses = await this.addresses(target, new EgressAllowlist(egress), signal);
    const status = await this.send(target, Buffer.from(body), headers, addresses, signal);
    if (status < 200 || status >= 300)
      throw new DeliveryError(`${target.host} answered HTTP ${status}`, false, status);
    return { status };
  }

  // The guard's refusals are final (refused); a name that does not resolve may next time (failed).
  private async addresses(
    url: URL,
    allowlist: EgressAllowlist,
    signal: AbortSignal,
  ): Promise<readonly ResolvedAddress[]> {
    try {
      this.guard.checkScheme(url, allowlist);
      return await this.guard.addresses(url, allowlist, signal);
    } catch (error) {
      if (error instanceof EgressRefused) throw new DeliveryError(error.message, true);
      if (error instanceof EgressUnresolved) throw new DeliveryError(error.message, false);
      if (signal.aborted)
        throw new DeliveryError(`no answer from ${url.host} within ${this.timeoutMs} ms`, false);
      throw error;
    }
  }

  private async send(
    url: URL,
    body: Buffer,
    headers: Readonly<Record<string, string>>,
    addresses: readonly ResolvedAddress[],
    signal: AbortSignal,
  ): Promise<number> {
    try {
      const response = await pinnedRequest({
        url,
        method: 'POST',
        headers: { ...headers, 'user-agent': 'Meridian-Notifications/1' },
        body,
        addresses,
        signal,
        maxBytes: 0,
        reads: () => false,
      });
      return response.status;
    } catch (error) {
      throw new DeliveryError(
        signal.aborted
          ? `no answer from ${url.host} within ${this.timeoutMs} ms`
          : `request to ${url.host} failed: ${errorCode(error)}`,
        false,
      );
    }
  }
}
