import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaError } from '../../src/media/errors.js';
import { sniff, sniffFormat } from '../../src/media/sniff.js';
import { wavDeclaredSeconds } from '../../src/media/wav-header.js';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const box = (type: string, payload: string) => {
  const b = bytes([0, 0, 0, 0], type, payload);
  b.writeUInt32BE(b.length, 0);
  return b;
};

test('formats are told by their bytes', () => {
  const cases: [Buffer, string, string][] = [
    [bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF'), 'image', 'jpeg'],
    [bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'image', 'png'],
    [bytes('GIF89a', [1, 0, 1, 0]), 'image', 'gif'],
    [bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'image', 'webp'],
    [box('ftyp', 'avif\0\0\0\0mif1miaf'), 'image', 'avif'],
    [box('ftyp', 'heic\0\0\0\0mif1heic'), 'image', 'heif'],
    [box('ftyp', 'isom\0\0\x02\0isomiso2avc1mp41'), 'video', 'mp4'],
    [box('ftyp', 'qt  \0\0\x02\0qt  '), 'video', 'mov'],
    [box('ftyp', 'M4A \0\0\x02\0isom'), 'audio', 'm4a'],
    [bytes([0, 0, 0, 8], 'wide', [0, 0, 0, 8], 'mdat'), 'video', 'mov'],
    [bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1, 0x42, 0x82, 0x84], 'webm'), 'video', 'webm'],
    [bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88], 'matroska'), 'video', 'matroska'],
    [bytes('RIFF', [0, 0, 0, 0], 'AVI LIST'), 'video', 'avi'],
    [bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt '), 'audio', 'wav'],
    [bytes('ID3', [4, 0, 0, 0, 0, 0, 0x23]), 'audio', 'mp3'],
    [bytes([0xff, 0xfb, 0x90, 0x64]), 'audio', 'mp3'],
    [bytes('OggS', [0, 2]), 'audio', 'ogg'],
    [bytes('fLaC', [0, 0, 0, 0x22]), 'audio', 'flac'],
  ];
  for (const [head, kind, format] of cases) {
    const found = sniffFormat(head);
    assert.deepEqual(found && [found.kind, found.format], [kind, format], head.subarray(0, 16).toString('hex'));
  }
});

test('what no decoder here should see is unsupported, whatever it is named', () => {
  const refused = [
    '<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
    '#EXTM3U\n#EXTINF:10,\nhttp://example.com/a.ts\n',
    'ffconcat version 1.0\nfile /etc/passwd\n',
    '<!doctype html><html></html>',
    'II*\0', // TIFF
    'BM', // BMP
    'RIFF\0\0\0\0ACON', // a RIFF that is none of ours
    '%PDF-1.7',
  ];
  for (const text of refused) {
    assert.equal(sniffFormat(Buffer.from(text, 'latin1')), null, text);
    assert.throws(() => sniff(Buffer.from(text, 'latin1')), (err: unknown) => err instanceof MediaError && err.code === 'UNSUPPORTED');
  }
  // ADTS AAC shares MP3's sync word but has layer 0: not sniffed as MP3.
  assert.equal(sniffFormat(Buffer.from([0xff, 0xf1, 0x50, 0x80])), null);
  assert.throws(() => sniff(Buffer.alloc(0)), (err: unknown) => err instanceof MediaError && err.code === 'EMPTY');
});

test('a WAV header declares its length by its data size over its byte rate', () => {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt32LE(88200, 16); // 44.1 kHz x 16-bit mono
  const data = Buffer.from('data\0\0\0\0', 'latin1');
  data.writeUInt32LE(88200 * 3, 4);
  const list = Buffer.from('LIST\x05\0\0\0abcde\0', 'latin1'); // an odd-sized chunk, padded
  const wav = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), list, fmt, data]);
  assert.equal(wavDeclaredSeconds(wav), 3);
  data.writeUInt32LE(0xffffffff, 4);
  assert.equal(wavDeclaredSeconds(Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), fmt, data])), null);
});
