import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvTokenizer, type CsvOptions } from '../../src/datasets/csv.js';
import { DatasetError } from '../../src/datasets/errors.js';
import { parseTime, formatTime } from '../../src/datasets/timestamps.js';
import { ByteInterner } from '../../src/datasets/interner.js';

/** Tokenizes `text` fed in chunks of `chunk` bytes; returns [line, fields] per record. */
function parse(text: string, chunk = 1 << 20, options: Partial<CsvOptions> = {}): [number, string[]][] {
  const out: [number, string[]][] = [];
  const t = new CsvTokenizer('t.csv', (r) => out.push([r.line, Array.from({ length: r.count }, (_, i) => r.text(i))]), options);
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += chunk) t.push(bytes.subarray(i, i + chunk));
  t.finish();
  return out;
}

const TRICKY = 'id,text\r\n1,"a, b"\r\n2,"say ""hi"""\r\n3,"two\r\nlines"\n4,\n\n5,plain é\n6,""\n7,x';

test('RFC 4180: quoted commas, doubled quotes, embedded CRLF, CRLF and LF endings, blank line, no final newline', () => {
  const expected: [number, string[]][] = [
    [1, ['id', 'text']],
    [2, ['1', 'a, b']],
    [3, ['2', 'say "hi"']],
    [4, ['3', 'two\r\nlines']],
    [6, ['4', '']],
    [8, ['5', 'plain é']],
    [9, ['6', '']],
    [10, ['7', 'x']],
  ];
  assert.deepEqual(parse(TRICKY), expected);
  // Same result whatever the chunk boundaries (every split point inside quotes, CRLF and multi-byte characters).
  for (const chunk of [1, 2, 3, 7]) assert.deepEqual(parse(TRICKY, chunk), expected, `chunk ${chunk}`);
});

test('byte-order mark is dropped, trailing empty field is kept, lone CR is content', () => {
  assert.deepEqual(parse('\ufeffa,b,\n1,2,\n'), [
    [1, ['a', 'b', '']],
    [2, ['1', '2', '']],
  ]);
  assert.deepEqual(parse('a\rb,c\n'), [[1, ['a\rb', 'c']]]);
});

test('other delimiters and quoting off (ml-100k u.item style), latin1 decoding', () => {
  const bytes = Buffer.from('1|Caf\xe9 "Noir" (1995)|0\n', 'latin1');
  const rows: string[][] = [];
  const t = new CsvTokenizer('u.item', (r) => rows.push(Array.from({ length: r.count }, (_, i) => r.text(i))), { delimiter: '|', quoting: false, encoding: 'latin1' });
  t.push(bytes);
  t.finish();
  assert.deepEqual(rows, [['1', 'Café "Noir" (1995)', '0']]);
});

test('malformed quoting is a DatasetError with file and line', () => {
  const cases: [string, number, RegExp][] = [
    ['a,b\n1,x"y\n', 2, /quote inside an unquoted field/],
    ['a,b\n1,"x"y\n', 2, /after a closing quote/],
    ['a,b\n1,2\n3,"never closed\n\n', 3, /unterminated/],
  ];
  for (const [text, line, why] of cases) {
    assert.throws(
      () => parse(text),
      (err: unknown) => err instanceof DatasetError && err.file === 't.csv' && err.line === line && why.test(err.message),
      text,
    );
  }
});

test('CsvRecord.number: integers on the fast path, decimals and exponents, NaN for junk', () => {
  const got: number[] = [];
  const t = new CsvTokenizer('n.csv', (r) => {
    for (let i = 0; i < r.count; i++) got.push(r.number(i));
  });
  t.push(Buffer.from('12,-7,4.5,1e3, 8 ,abc,,1.2.3\n'));
  t.finish();
  assert.deepEqual(got.slice(0, 5), [12, -7, 4.5, 1000, 8]);
  assert.ok(got.slice(5).every(Number.isNaN));
});

test('timestamps: epoch seconds, ISO-8601 with and without zone (UTC), impossible dates rejected', () => {
  assert.equal(parseTime('1700000000'), 1700000000);
  assert.equal(parseTime('1700000000.25'), 1700000000.25);
  assert.equal(parseTime('2023-01-01'), 1672531200);
  assert.equal(parseTime('2023-01-01T00:00:00Z'), 1672531200);
  assert.equal(parseTime('2023-01-01 05:30:00+05:30'), 1672531200);
  assert.equal(parseTime('2023-01-01T05:30:00+0530'), 1672531200);
  assert.equal(parseTime('2023-01-01T00:00:01.5'), 1672531201.5);
  for (const bad of ['2023-02-30', 'yesterday', '01/02/2023', '']) assert.ok(Number.isNaN(parseTime(bad)), bad);
  for (const t of [1672531200, 1672531201.5, 1672531201.0001]) assert.equal(parseTime(formatTime(t)), t);
});

test('ByteInterner: dense first-seen indices through growth, find vs intern', () => {
  const interner = new ByteInterner();
  const n = 20000;
  for (let i = 0; i < n; i++) assert.equal(interner.internString(`id-${i}`), i);
  for (let i = n - 1; i >= 0; i -= 997) assert.equal(interner.findString(`id-${i}`), i);
  assert.equal(interner.findString('id-x'), -1);
  const b = Buffer.from('xx id-42 yy');
  assert.equal(interner.intern(b, 3, 8), 42);
  assert.equal(interner.size, n);
  assert.equal(interner.ids[7], 'id-7');
});
