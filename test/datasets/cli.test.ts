import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as simulateCommand } from '../../src/cli/commands/simulate.js';
import { command as datasetCommand } from '../../src/cli/commands/dataset.js';
import { CliError, ExitCode, type Command } from '../../src/cli/command.js';
import { parseArgs } from 'node:util';

const root = mkdtempSync(join(tmpdir(), 'memer-cli-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** Runs a command as main.ts would (same parseArgs call) and returns its exit code and stdout lines. */
async function run(cmd: Command, args: string[]): Promise<{ code: number; out: string[] }> {
  const parsed = parseArgs({ args, options: cmd.options, allowPositionals: true, strict: true });
  const log = mock.method(console, 'log', () => {});
  try {
    const code = await cmd.run(parsed as Parameters<Command['run']>[0]);
    return { code, out: log.mock.calls.map((c) => String(c.arguments[0])) };
  } finally {
    log.mock.restore();
  }
}

test('memer simulate --json then memer dataset info --json agree on the counts', async () => {
  const out = join(root, 'sim');
  const sim = await run(simulateCommand, ['--out', out, '--seed', '5', '--users', '300', '--posts', '400', '--interactions', '20k', '--visual-dim', '8', '--image-visual-dim', '12', '--audio-dim', '4', '--text-dim', '4', '--feature-dtype', 'float16', '--json']);
  assert.equal(sim.code, ExitCode.OK);
  const summary = JSON.parse(sim.out[0]);
  const info = await run(datasetCommand, ['info', out, '--json']);
  const i = JSON.parse(info.out[0]);
  assert.equal(i.interactions, summary.interactions);
  assert.equal(i.items, 400);
  assert.deepEqual(i.mediaTypes, { video: summary.posts.video, image: summary.posts.image });
  assert.equal(i.signals.click.rows, summary.impressions);
  assert.equal(i.signals.click.positives, summary.perSignal.click.positives);
  assert.equal(summary.featureDtype, 'float16');
  assert.deepEqual(i.modalities.audio, { dim: 4, dtype: 'float16', present: { video: summary.posts.video, image: 0 } });
  assert.equal(i.modalities.aux.dtype, 'float32');
  assert.equal(i.modalities.visual.dim, 12);
});

test('CLI failures: malformed row -> exit 3 with file:line, bad flags -> usage, missing folder -> not found', async () => {
  const bad = join(root, 'bad');
  const sim = await run(simulateCommand, ['--out', bad, '--users', '50', '--posts', '60', '--interactions', '2000', '--visual-dim', '4', '--image-visual-dim', '4', '--audio-dim', '4', '--text-dim', '4']);
  assert.equal(sim.code, 0);
  assert.match(sim.out.join('\n'), /rates: click/);
  writeFileSync(join(bad, 'interactions.csv'), 'user_id,item_id,signal,timestamp,label\nu1,p01,click,1,1\nu1,p01,click,1,yes\n');
  const expectCli = async (p: Promise<unknown>, code: number, message: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof CliError && e.code === code && message.test(e.message));
  await expectCli(run(datasetCommand, ['info', bad]), ExitCode.BAD_INPUT, new RegExp(`${join(bad, 'interactions.csv')}:3: label "yes"`));
  await expectCli(run(datasetCommand, ['movielens', bad, '--out', join(root, 'x'), '--layout', 'ml-1m']), ExitCode.USAGE, /--layout/);
  await expectCli(run(datasetCommand, ['movielens', bad, '--out', join(root, 'x')]), ExitCode.BAD_INPUT, /not a MovieLens folder/);
  await expectCli(run(datasetCommand, ['info', join(root, 'nope')]), ExitCode.NOT_FOUND, /no such folder/);
  await expectCli(run(simulateCommand, ['--out', join(root, 'y'), '--posts', 'many']), ExitCode.USAGE, /--posts expects an integer/);
  await expectCli(run(simulateCommand, ['--out', join(root, 'y'), '--negatives', 'some']), ExitCode.USAGE, /negatives must be/);
  await expectCli(run(simulateCommand, []), ExitCode.USAGE, /--out DIR is required/);
});
