/**
 * A minimal authoritative-style DNS server over UDP on 127.0.0.1, for tests only: it answers TXT
 * questions from records a test sets (and, optionally, from files another process writes), so the
 * TXT adapter runs against real DNS traffic instead of a mock of node:dns. Hand-built RFC 1035 wire
 * format; first question only, additional records (EDNS OPT) ignored, no TCP and no truncation (TC), so
 * keep an answer to one datagram (node's resolver read a 1.7 kB one; under 512 bytes suits any client).
 *
 * Special names: a first label `servfail` answers SERVFAIL; `silent` gets no answer at all.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A running server. */
export interface TestDnsServer {
  /** `127.0.0.1:<port>`, for TxtLookupOptions.servers. */
  readonly address: string;
  /** Sets (replaces) the TXT records of `name`. */
  setTxt(name: string, records: readonly string[]): void;
  /** Every question asked, as `<name> <qtype number>`, in order. */
  readonly queries: string[];
  close(): Promise<void>;
}

const TYPE_TXT = 16;
const CLASS_IN = 1;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

/** Lower case, no trailing dot: the key both the records and the questions are looked up by. */
const normalize = (name: string): string => name.replace(/\.$/, '').toLowerCase();

interface Question {
  readonly name: string;
  readonly type: number;
  /** Offset just past QCLASS: the response copies bytes 12..end as its question. */
  readonly end: number;
}

/** The first question of a query, or undefined when it is malformed. */
function parseQuestion(query: Buffer): Question | undefined {
  if (query.length < 12 || query.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    const length = query[offset];
    if (length === undefined) return undefined;
    offset += 1;
    if (length === 0) break;
    // A compression pointer (0xC0) cannot point anywhere useful in the first question.
    if (length > 63 || offset + length > query.length) return undefined;
    labels.push(query.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > query.length) return undefined;
  return { name: labels.join('.'), type: query.readUInt16BE(offset), end: offset + 4 };
}

/** One TXT answer: the name as a pointer to the question (0xC00C), class IN, TTL 1, ≤255-byte strings. */
function txtAnswer(record: string): Buffer {
  const bytes = Buffer.from(record, 'utf8');
  const strings: Buffer[] = [];
  for (let at = 0; at < bytes.length || strings.length === 0; at += 255) {
    const chunk = bytes.subarray(at, at + 255);
    strings.push(Buffer.from([chunk.length]), chunk);
  }
  const rdata = Buffer.concat(strings);
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0);
  fixed.writeUInt16BE(TYPE_TXT, 2);
  fixed.writeUInt16BE(CLASS_IN, 4);
  fixed.writeUInt32BE(1, 6);
  fixed.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([fixed, rdata]);
}

/**
 * Starts a server on an OS-chosen port. `zoneDir`: also answers from files there (file name = the DNS
 * name, one TXT record per non-empty line), read at each query, so another process can publish records.
 */
export async function startDnsServer(options: { zoneDir?: string } = {}): Promise<TestDnsServer> {
  const records = new Map<string, readonly string[]>();
  const queries: string[] = [];
  const { zoneDir } = options;

  // Records set in this process win; then a zone file whose name matches case-insensitively (matched
  // against the listing, never joined from the question, so a name cannot reach outside the directory).
  const recordsOf = (name: string): readonly string[] | undefined => {
    const held = records.get(name);
    if (held !== undefined || zoneDir === undefined) return held;
    const file = readdirSync(zoneDir).find((entry) => normalize(entry) === name);
    if (file === undefined) return undefined;
    return readFileSync(join(zoneDir, file), 'utf8')
      .split(/\r?\n/)
      .filter((line) => line !== '');
  };

  const answer = (name: string, type: number): { rcode: number; answers: Buffer[] } => {
    if (name.split('.')[0] === 'servfail') return { rcode: RCODE_SERVFAIL, answers: [] };
    let held: readonly string[] | undefined;
    try {
      held = recordsOf(name);
    } catch {
      // The zone directory vanished, or a file did mid-read: what a real server would say.
      return { rcode: RCODE_SERVFAIL, answers: [] };
    }
    if (held === undefined) return { rcode: RCODE_NXDOMAIN, answers: [] };
    // A name it holds but another type: NOERROR without answers (NODATA).
    return { rcode: 0, answers: type === TYPE_TXT ? held.map(txtAnswer) : [] };
  };

  const respond = (query: Buffer): Buffer | undefined => {
    // Queries only (QR=0); a malformed one gets no answer.
    if (query.length < 12 || (query[2] ?? 0) & 0x80) return undefined;
    const question = parseQuestion(query);
    if (question === undefined) return undefined;
    queries.push(`${question.name} ${question.type}`);
    const name = normalize(question.name);
    if (name.split('.')[0] === 'silent') return undefined;

    const opcode = ((query[2] ?? 0) >> 3) & 0x0f;
    const { rcode, answers } =
      opcode !== 0 ? { rcode: RCODE_NOTIMP, answers: [] } : answer(name, question.type);
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // ID
    // QR=1, the query's opcode, AA=1, RD copied; RA=1, RCODE.
    header[2] = 0x80 | (opcode << 3) | 0x04 | ((query[2] ?? 0) & 0x01);
    header[3] = 0x80 | rcode;
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    return Buffer.concat([header, query.subarray(12, question.end), ...answers]);
  };

  const socket = createSocket('udp4');
  socket.on('message', (query: Buffer, peer: RemoteInfo) => {
    const response = respond(query);
    if (response !== undefined) socket.send(response, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });

  return {
    address: `127.0.0.1:${socket.address().port}`,
    setTxt: (name, txt) => {
      records.set(normalize(name), [...txt]);
    },
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
