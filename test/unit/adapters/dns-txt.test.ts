import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsLookupError, txtLookup } from '#adapters/dns-txt.ts';
import { startDnsServer, type TestDnsServer } from '../../helpers/dns-server.ts';

// The TXT lookup domain verification uses, against a real DNS server on loopback UDP.

let server: TestDnsServer;
let zoneDir: string;
beforeAll(async () => {
  zoneDir = await mkdtemp(join(tmpdir(), 'meridian-dns-'));
  server = await startDnsServer({ zoneDir });
});
afterAll(async () => {
  await server.close();
  await rm(zoneDir, { recursive: true, force: true });
});

const lookup = (name: string): Promise<string[]> => txtLookup({ servers: [server.address] })(name);

describe('txtLookup', () => {
  it('returns every TXT record, a record longer than 255 bytes joined back together', async () => {
    // Prepare: the server sends the long record as a 255-byte and a 45-byte character-string.
    const long = `meridian-verification=${'a'.repeat(278)}`;
    server.setTxt('_meridian-verification.example.com', ['meridian-verification=abc123', long]);
    // Act
    const found = await lookup('_meridian-verification.example.com');
    // Assess
    expect(found.toSorted()).toEqual(['meridian-verification=abc123', long].toSorted());
    expect(server.queries).toContain('_meridian-verification.example.com 16');
  });

  it('matches names case-insensitively', async () => {
    // Prepare
    server.setTxt('_Meridian-Verification.Mixed.EXAMPLE', ['v=1']);
    // Act
    const found = await lookup('_meridian-verification.mixed.Example');
    // Assess
    expect(found).toEqual(['v=1']);
  });

  it('returns [] for a name that does not exist (NXDOMAIN)', async () => {
    // Act / Assess
    await expect(lookup('_meridian-verification.absent.example')).resolves.toEqual([]);
    expect(server.queries).toContain('_meridian-verification.absent.example 16');
  });

  it('returns [] for a name without TXT records (NODATA)', async () => {
    // Prepare
    server.setTxt('no-txt.example.com', []);
    // Act / Assess
    await expect(lookup('no-txt.example.com')).resolves.toEqual([]);
  });

  it('reads records another process publishes in the zone directory, at each query', async () => {
    // Prepare: written after the server started, empty lines ignored.
    const file = join(zoneDir, '_meridian-verification.Zone.example');
    await writeFile(file, 'meridian-verification=zone1\n\nsecond record\n');
    // Act
    const first = await lookup('_meridian-verification.zone.example');
    await writeFile(file, 'meridian-verification=zone2\n');
    const second = await lookup('_meridian-verification.zone.example');
    // Assess
    expect(first.toSorted()).toEqual(['meridian-verification=zone1', 'second record']);
    expect(second).toEqual(['meridian-verification=zone2']);
  });

  it('fails with the code, not [], when the server fails (SERVFAIL)', async () => {
    // Act
    const failure = await lookup('servfail.example.com').catch((error: unknown) => error);
    // Assess: retryable, and nothing but the code in the message.
    expect(failure).toBeInstanceOf(DnsLookupError);
    expect(failure).toMatchObject({ name: 'DnsLookupError', code: 'ESERVFAIL' });
    expect((failure as Error).message).toBe('DNS TXT lookup failed: ESERVFAIL');
  });

  it('fails with a timeout, not [], when the server does not answer', async () => {
    // Prepare
    const impatient = txtLookup({ servers: [server.address], timeoutMs: 200, tries: 1 });
    const started = Date.now();
    // Act
    const failure = await impatient('silent.example.com').catch((error: unknown) => error);
    // Assess: node's resolver only checks timeouts on its own timer tick, so this takes ~2 x 200 ms.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(failure).toBeInstanceOf(DnsLookupError);
    expect(failure).toMatchObject({ code: 'ETIMEOUT' });
    expect(server.queries).toContain('silent.example.com 16');
  });

  it('gives up at its deadline, however many tries and servers the resolver has left', async () => {
    // Prepare: 3 servers × 3 tries × 1 s would take 9 s.
    const address = server.address;
    const patient = txtLookup({
      servers: [address, address, address],
      timeoutMs: 1000,
      tries: 3,
      deadlineMs: 300,
    });
    const started = Date.now();
    // Act
    const failure = await patient('silent.example.com').catch((error: unknown) => error);
    // Assess
    expect(Date.now() - started).toBeLessThan(1500);
    expect(failure).toMatchObject({ name: 'DnsLookupError', code: 'ECANCELLED' });
  });
});
