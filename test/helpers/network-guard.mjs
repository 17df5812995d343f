/**
 * A network guard to preload into a Node process (`node --import <this file's URL> ...`, or in NODE_OPTIONS): every
 * attempt to reach a host other than loopback (127.0.0.0/8, ::1, localhost) throws (or fails its callback or promise)
 * and appends one JSON line to the file named by MEMER_NET_GUARD_LOG (stderr without it). Loopback and Unix sockets
 * are allowed: the server's own listener, its database and Redis on this machine.
 *
 * Covered: net.Socket.prototype.connect (so net.connect / createConnection, tls.connect, http(s) agents and the
 * undici that global fetch runs on, which all connect through it), tls.connect, http(s).request / get, global fetch,
 * dns.lookup / dns.promises.lookup and the resolver functions (c-ares sends its queries itself, not through net),
 * dgram sends. Each thread that loads it logs {"event":"loaded"} once, so a test can see that worker threads, which
 * inherit --import through execArgv, are guarded too.
 *
 * Plain JavaScript (no tsx) so that it loads before anything else, in any process or worker.
 */
import { appendFileSync } from 'node:fs';
import dgram from 'node:dgram';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { threadId } from 'node:worker_threads';

const MARK = Symbol.for('memer.test.networkGuard');

if (!globalThis[MARK]) {
  globalThis[MARK] = true;
  const logPath = process.env.MEMER_NET_GUARD_LOG;

  const write = (entry) => {
    const line = `${JSON.stringify({ ...entry, pid: process.pid, threadId, at: new Date().toISOString() })}\n`;
    try {
      if (logPath) appendFileSync(logPath, line);
      else process.stderr.write(`[network-guard] ${line}`);
    } catch {
      // The log is best effort; the block itself is not.
    }
  };

  const isLoopback = (host) => {
    if (host === undefined || host === null || host === '') return true; // Node's default host is localhost
    let h = String(host).toLowerCase().trim();
    if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
    const zone = h.indexOf('%');
    if (zone >= 0) h = h.slice(0, zone);
    if (h === 'localhost' || h.endsWith('.localhost')) return true;
    if (net.isIPv4(h)) return h.startsWith('127.');
    if (net.isIPv6(h)) {
      if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
      return Boolean(mapped && mapped[1].startsWith('127.'));
    }
    return false;
  };

  const blocked = (kind, target) => {
    const err = new Error(`network guard: ${kind} to ${target} refused (only loopback is allowed in this process)`);
    err.code = 'ENETUNREACH';
    write({ event: 'blocked', kind, target: String(target), stack: err.stack?.split('\n').slice(1, 12).map((s) => s.trim()) });
    return err;
  };

  // --- net (and everything built on it) ---------------------------------------------------------------------------
  /** What Socket#connect's arguments target: null for a Unix socket / pipe, else {host, port}. */
  const connectTarget = (args) => {
    let a0 = args[0];
    if (Array.isArray(a0)) a0 = a0[0]; // net.connect passes its normalized [options, cb]
    if (a0 !== null && typeof a0 === 'object') {
      if (a0.path !== undefined && a0.path !== null) return null;
      return { host: a0.host ?? a0.hostname, port: a0.port };
    }
    if (typeof a0 === 'string' && !/^\d+$/.test(a0)) return null; // a path
    return { host: typeof args[1] === 'string' ? args[1] : undefined, port: a0 };
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const t = connectTarget(args);
    if (t && !isLoopback(t.host)) throw blocked('net.Socket.connect', `${t.host}:${t.port}`);
    return connect.apply(this, args);
  };
  const tlsConnect = tls.connect;
  tls.connect = function guardedTlsConnect(...args) {
    const t = connectTarget(args);
    const viaSocket = args.find((a) => a && typeof a === 'object' && a.socket);
    if (!viaSocket && t && !isLoopback(t.host)) throw blocked('tls.connect', `${t.host}:${t.port}`);
    return tlsConnect.apply(this, args);
  };

  // --- http / https -------------------------------------------------------------------------------------------------
  const requestTarget = (args) => {
    const a0 = args[0];
    if (typeof a0 === 'string' || a0 instanceof URL) {
      const u = new URL(String(a0));
      return u.hostname;
    }
    if (a0 && typeof a0 === 'object') {
      if (a0.socketPath) return null;
      return a0.hostname ?? a0.host ?? 'localhost';
    }
    return 'localhost';
  };
  for (const [name, mod] of [['http', http], ['https', https]]) {
    for (const fn of ['request', 'get']) {
      const original = mod[fn];
      mod[fn] = function guardedRequest(...args) {
        let host;
        try {
          host = requestTarget(args);
        } catch {
          host = undefined; // an invalid URL: let Node's own error come
        }
        if (host !== null && host !== undefined && !isLoopback(host)) throw blocked(`${name}.${fn}`, host);
        return original.apply(this, args);
      };
    }
  }

  // --- fetch (undici) -----------------------------------------------------------------------------------------------
  if (typeof globalThis.fetch === 'function') {
    const fetch = globalThis.fetch;
    globalThis.fetch = function guardedFetch(input, init) {
      let url;
      try {
        url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
      } catch {
        return fetch.call(this, input, init);
      }
      if ((url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ws:' || url.protocol === 'wss:') && !isLoopback(url.hostname)) {
        return Promise.reject(new TypeError('fetch failed', { cause: blocked('fetch', url.href) }));
      }
      return fetch.call(this, input, init);
    };
  }

  // --- dns ----------------------------------------------------------------------------------------------------------
  const lookup = dns.lookup;
  dns.lookup = function guardedLookup(hostname, options, callback) {
    if (!isLoopback(hostname)) {
      const cb = typeof options === 'function' ? options : callback;
      const err = blocked('dns.lookup', hostname);
      if (typeof cb === 'function') {
        process.nextTick(cb, err);
        return {};
      }
      throw err;
    }
    return lookup.call(this, hostname, options, callback);
  };
  const promiseLookup = dns.promises.lookup;
  dns.promises.lookup = function guardedPromiseLookup(hostname, options) {
    if (!isLoopback(hostname)) return Promise.reject(blocked('dns.promises.lookup', hostname));
    return promiseLookup.call(this, hostname, options);
  };
  // The resolvers query name servers themselves (c-ares), not through net: any of them is a request leaving.
  const resolverNames = (o) => Object.keys(o).filter((k) => /^(resolve|reverse)/.test(k) && typeof o[k] === 'function');
  for (const target of [dns, dns.promises, dns.Resolver.prototype, dns.promises.Resolver.prototype]) {
    for (const k of resolverNames(target)) {
      const isPromise = target === dns.promises || target === dns.promises.Resolver.prototype;
      target[k] = function guardedResolve(name, ...rest) {
        const err = blocked(`dns.${isPromise ? 'promises.' : ''}${k}`, name);
        if (isPromise) return Promise.reject(err);
        const cb = rest.reverse().find((r) => typeof r === 'function');
        if (cb) return void process.nextTick(cb, err);
        throw err;
      };
    }
  }

  // --- UDP ----------------------------------------------------------------------------------------------------------
  const send = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function guardedSend(msg, ...rest) {
    // send(msg, [offset, length,] port, address, cb): the address is the first string after the message.
    const address = rest.find((r) => typeof r === 'string');
    if (address !== undefined && !isLoopback(address)) throw blocked('dgram.send', address);
    return send.call(this, msg, ...rest);
  };
  const udpConnect = dgram.Socket.prototype.connect;
  dgram.Socket.prototype.connect = function guardedUdpConnect(port, address, cb) {
    if (typeof address === 'string' && !isLoopback(address)) throw blocked('dgram.connect', `${address}:${port}`);
    return udpConnect.call(this, port, address, cb);
  };

  write({ event: 'loaded', argv: process.argv.slice(1, 3) });
}
