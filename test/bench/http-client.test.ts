import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { HttpClient } from '../../src/bench/http-client.js';

test("the bench's HTTP client reuses keep-alive connections and frames replies by Content-Length", { timeout: 10_000 }, async () => {
  const sockets = new Set<unknown>();
  const server = createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = body.includes('fail') ? 500 : body.includes('bad') ? 400 : 200;
      // As src/server/http.ts answers (Node then sends Content-Length); a reply larger than one TCP read, with
      // multi-byte characters, to exercise the framing.
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ echo: body, auth: req.headers.authorization, pad: 'é'.repeat(40_000) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new HttpClient('127.0.0.1', (server.address() as AddressInfo).port, '/graphql', { authorization: 'Bearer k' });
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(JSON.parse(await client.post(`{"n":${i}}`)).echo, `{"n":${i}}`);
    assert.equal(sockets.size, 1, 'sequential requests share one connection');
    const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => client.post(`{"c":${i}}`)));
    replies.forEach((r, i) => {
      const parsed = JSON.parse(r);
      assert.equal(parsed.echo, `{"c":${i}}`);
      assert.equal(parsed.auth, 'Bearer k');
      assert.equal(parsed.pad.length, 40_000);
    });
    assert.equal(sockets.size, 5, 'concurrent requests open connections as needed, then reuse them');
    assert.match(await client.post('"bad"'), /"echo":"\\"bad\\""/, 'a 4xx reply (GraphQL errors) is an answer');
    // The server closing idle connections (its keep-alive timeout) is not an error: the next request opens another.
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(JSON.parse(await client.post('{"after":1}')).echo, '{"after":1}');
    await assert.rejects(client.post('"fail"'), /HTTP 500/);
  } finally {
    client.close();
    server.close();
  }
});

test('connections idle longer than maxIdleMs are closed, not reused (no race with the server keep-alive timeout)', { timeout: 10_000 }, async () => {
  const sockets: import('node:net').Socket[] = [];
  const server = createServer((req, res) => {
    if (!sockets.includes(req.socket)) sockets.push(req.socket);
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new HttpClient('127.0.0.1', (server.address() as AddressInfo).port, '/', {}, 150);
  try {
    await client.post('{}');
    await client.post('{}');
    assert.equal(sockets.length, 1, 'a connection idle for less than maxIdleMs is reused');
    await new Promise((r) => setTimeout(r, 300));
    await client.post('{}');
    assert.equal(sockets.length, 2, 'after maxIdleMs the next request opens a new connection');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(sockets[0].destroyed, 'and the stale one was closed by the client');
  } finally {
    client.close();
    server.close();
  }
});
