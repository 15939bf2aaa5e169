/**
 * The filtering DNS service of pasta mode, on host loopback (UDP and TCP on
 * one port; pasta maps the sandbox's 127.0.0.1:53 to it). A query for a
 * name no rule allows is answered REFUSED here and never leaves: no DNS
 * exfiltration. Allowed names are resolved through the host's upstream
 * resolver; their addresses are added to the firewall before the answer
 * goes back, so the connect that follows is allowed.
 */
import { randomInt } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { createConnection, createServer, isIPv6, type Server } from "node:net";
import dnsPacket from "dns-packet";
import {
  type DnsRecord,
  type DroppedAnswer,
  FORWARDED_TYPES,
  filterAnswer,
} from "./_dns-policy.js";
import type { DnsGrant } from "./_firewall.js";
import type { Address } from "./_ip.js";
import { nameRules, normalizeName, type Rule } from "./_rules.js";

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const UPSTREAM_TIMEOUT_MS = 2500;

export interface DeniedName {
  name: string;
  type: string;
  count: number;
}

export interface DnsFilterOptions {
  rules: readonly Rule[];
  hostAddresses: readonly Address[];
  upstream: string | null;
  /** Adds addresses to the firewall; the answer waits for it. */
  grant(grants: DnsGrant[]): Promise<void>;
}

export interface DnsFilter {
  port: number;
  denied(): DeniedName[];
  dropped(): DroppedAnswer[];
  /** Address -> names it was resolved for. */
  names(): Map<string, Set<string>>;
  close(): Promise<void>;
}

type Packet = ReturnType<typeof dnsPacket.decode>;

function reply(query: Packet, rcode: number, answers: DnsRecord[] = []): Buffer {
  return dnsPacket.encode({
    type: "response",
    id: query.id ?? 0,
    flags:
      (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: query.questions ?? [],
    answers: answers as dnsPacket.Answer[],
  });
}

/** One query to the upstream resolver, over UDP, then TCP if the answer was truncated. */
async function resolveUpstream(upstream: string, name: string, type: string): Promise<Packet> {
  const id = randomInt(0, 65536);
  const query = dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as "A", class: "IN" }],
  });
  const matches = (p: Packet) =>
    p.type === "response" &&
    p.id === id &&
    p.questions?.length === 1 &&
    normalizeName(p.questions[0]?.name ?? "") === name &&
    p.questions[0]?.type === type;
  for (let attempt = 0; attempt < 2; attempt++) {
    const answer = await new Promise<Packet | null>((resolve) => {
      const socket = createSocket(isIPv6(upstream) ? "udp6" : "udp4");
      const done = (p: Packet | null) => {
        clearTimeout(timer);
        socket.close();
        resolve(p);
      };
      const timer = setTimeout(() => done(null), UPSTREAM_TIMEOUT_MS);
      socket.on("error", () => done(null));
      socket.on("message", (msg, from) => {
        if (from.address !== upstream && from.address !== `::ffff:${upstream}`) return;
        try {
          const p = dnsPacket.decode(msg);
          if (matches(p)) done(p);
        } catch {
          // not a DNS answer: keep waiting
        }
      });
      socket.send(query, 53, upstream);
    });
    if (!answer) continue;
    if (!answer.flag_tc) return answer;
    return await tcpQuery(upstream, query, matches);
  }
  throw new Error(`no answer from ${upstream}`);
}

function tcpQuery(upstream: string, query: Buffer, matches: (p: Packet) => boolean) {
  return new Promise<Packet>((resolve, reject) => {
    const socket = createConnection({ host: upstream, port: 53 });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(new Error("timeout")), UPSTREAM_TIMEOUT_MS);
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("connect", () =>
      socket.write(dnsPacket.streamEncode({ ...dnsPacket.decode(query) })),
    );
    socket.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        const p = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        if (matches(p)) resolve(p);
        else reject(new Error("mismatched answer"));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Starts the service on 127.0.0.1, UDP and TCP on the same (random) port. */
export async function startDnsFilter(options: DnsFilterOptions): Promise<DnsFilter> {
  const denied = new Map<string, DeniedName>();
  const dropped: DroppedAnswer[] = [];
  const names = new Map<string, Set<string>>();

  async function answer(msg: Buffer): Promise<Buffer | null> {
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    if (query.type !== "query") return null;
    const q = query.questions?.[0];
    if (!q || query.questions?.length !== 1 || (query as { opcode?: string }).opcode !== "QUERY")
      return reply(query, RCODE.FORMERR);
    const name = normalizeName(q.name);
    const type = String(q.type);
    if (!name || q.class !== "IN" || nameRules(options.rules, name).length === 0) {
      const key = `${name ?? q.name} ${type}`;
      const entry = denied.get(key) ?? { name: name ?? q.name, type, count: 0 };
      entry.count++;
      denied.set(key, entry);
      return reply(query, RCODE.REFUSED);
    }
    if (!(FORWARDED_TYPES as readonly string[]).includes(type)) return reply(query, RCODE.NOERROR);
    if (!options.upstream) return reply(query, RCODE.SERVFAIL);
    let upstream: Packet;
    try {
      upstream = await resolveUpstream(options.upstream, name, type);
    } catch {
      return reply(query, RCODE.SERVFAIL);
    }
    const rcode = upstream.flags !== undefined ? upstream.flags & 0xf : 0;
    if (rcode !== RCODE.NOERROR)
      return reply(query, rcode === RCODE.NXDOMAIN ? rcode : RCODE.SERVFAIL);
    const filtered = filterAnswer(
      name,
      (upstream.answers ?? []) as DnsRecord[],
      options.rules,
      options.hostAddresses,
    );
    dropped.push(...filtered.dropped);
    for (const [addr, n] of filtered.names) {
      const set = names.get(addr) ?? new Set<string>();
      set.add(n);
      names.set(addr, set);
    }
    if (filtered.grants.length > 0) {
      try {
        await options.grant(filtered.grants);
      } catch {
        return reply(query, RCODE.SERVFAIL);
      }
    }
    const answers = filtered.answers.map((r) => ({ ...r, name: String(r.name) }));
    return reply(query, RCODE.NOERROR, answers);
  }

  const listen = async (): Promise<{ udp: Socket; tcp: Server; port: number }> => {
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket("udp4");
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind({ address: "127.0.0.1", port: 0 }, () => resolve());
      });
      const port = udp.address().port;
      const tcp = createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once("error", reject);
          tcp.listen({ host: "127.0.0.1", port }, () => resolve());
        });
        return { udp, tcp, port };
      } catch (error) {
        udp.close();
        if (attempt >= 20) throw error;
      }
    }
  };
  const { udp, tcp, port } = await listen();

  udp.on("message", (msg, from) => {
    void answer(msg).then((out) => {
      if (!out) return;
      if (out.length > 512) {
        // No EDNS here: a long answer is truncated, and the client retries over TCP.
        const p = dnsPacket.decode(out);
        out = dnsPacket.encode({
          ...p,
          flags: (p.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
          answers: [],
          authorities: [],
          additionals: [],
        });
      }
      udp.send(out, from.port, from.address);
    });
  });
  udp.on("error", () => {});
  const sockets = new Set<import("node:net").Socket>();
  tcp.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("error", () => {});
    socket.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void answer(Buffer.from(msg)).then((out) => {
          if (!out || socket.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          socket.write(Buffer.concat([len, out]));
        });
      }
    });
  });

  return {
    port,
    denied: () => [...denied.values()],
    dropped: () => dropped,
    names: () => names,
    close: async () => {
      udp.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        tcp.unref();
      });
    },
  };
}
