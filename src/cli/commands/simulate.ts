import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { ttyProgress } from '../../datasets/progress.js';
import { DEFAULT_SIMULATOR_OPTIONS as D, simulate, type SimulatorOverrides } from '../../datasets/simulator/index.js';
import { PRESETS, type PresetName } from '../../datasets/simulator/presets.js';
import { choice } from '../args.js';

/** Integer flags: `1e7`, `10M`, `250k` and `10_000` are accepted. */
function count(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^([\d_.]+(?:e\d+)?)([kKmM]?)$/.exec(text.trim());
  const v = m ? Number(m[1].replace(/_/g, '')) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1e3 : 1e6) : NaN;
  if (!Number.isInteger(v)) throw new CliError(`--${flag} expects an integer (e.g. 10000, 1e6, 250k, 10M), got "${text}"`, ExitCode.USAGE);
  return v;
}

function real(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new CliError(`--${flag} expects a number, got "${text}"`, ExitCode.USAGE);
  return v;
}

export const command: Command = defineCommand({
  help: [
    'Usage: memer simulate --out DIR [--seed S] [--users N] [--posts N] [--days N] [--interactions N] [options] [--json]',
    '',
    'Writes items.csv, users.csv, interactions.csv, features/{visual,audio,text,aux}.npy and simulation/ (config and',
    'ground-truth factors). Same seed and options -> byte-identical files. Generative process: docs/simulator.md.',
    '',
    'Options (defaults in brackets):',
    `  --out DIR               output folder (created; files of the same name are overwritten)`,
    `  --preset NAME           start from a named platform: science (the science test's), engaged (the default\n                          platform with boosted like/share/favorite rates; docs/evaluation.md) [none]`,
    `  --seed S                PRNG seed [${D.seed}]`,
    `  --users N               users [${D.users}]`,
    `  --posts N               posts, videos and images [${D.posts}]`,
    `  --days N                days of log [${D.days}]`,
    `  --interactions N        target rows in interactions.csv, within ~1% [${D.interactions}]`,
    `  --video-share F         fraction of posts that are videos [${D.videoShare}]`,
    `  --tags N                tag vocabulary (Zipf popularity) [${D.tags}]`,
    `  --visual-dim N          video visual width [${D.dims.videoVisual}]`,
    `  --image-visual-dim N    image visual width [${D.dims.imageVisual}]`,
    `  --audio-dim N           audio width, videos only [${D.dims.audio}]`,
    `  --text-dim N            text width [${D.dims.text}]`,
    `  --feature-dtype T       auto | float32 | float16 (auto: float16 past 256 MiB of float32) [${D.featureDtype}]`,
    `  --negatives M           impressions (click/video_play/skip rows with label 0) | none (positives only) [${D.negatives}]`,
    `  --no-latent             do not write the ground-truth matrices under simulation/`,
    '  --json                  print the summary as one JSON object on stdout (progress on stderr on a TTY)',
  ].join('\n'),
  options: {
    out: { type: 'string' },
    preset: { type: 'string' },
    seed: { type: 'string' },
    users: { type: 'string' },
    posts: { type: 'string' },
    days: { type: 'string' },
    interactions: { type: 'string' },
    'video-share': { type: 'string' },
    tags: { type: 'string' },
    'visual-dim': { type: 'string' },
    'image-visual-dim': { type: 'string' },
    'audio-dim': { type: 'string' },
    'text-dim': { type: 'string' },
    'feature-dtype': { type: 'string' },
    negatives: { type: 'string' },
    'no-latent': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }) {
    if (positionals.length) throw new CliError(`unexpected argument(s): ${positionals.join(' ')}`, ExitCode.USAGE);
    const out = values.out as string | undefined;
    if (!out) throw new CliError('--out DIR is required', ExitCode.USAGE);
    const s = (k: string) => values[k] as string | undefined;
    const presetName = choice('preset', s('preset'), Object.keys(PRESETS) as PresetName[]);
    const preset: SimulatorOverrides = presetName ? PRESETS[presetName] : {};
    const flags: SimulatorOverrides = withoutUndefined({
        seed: count('seed', s('seed')),
        users: count('users', s('users')),
        posts: count('posts', s('posts')),
        days: real('days', s('days')),
        interactions: count('interactions', s('interactions')),
        videoShare: real('video-share', s('video-share')),
        tags: count('tags', s('tags')),
        dims: { videoVisual: count('visual-dim', s('visual-dim')), imageVisual: count('image-visual-dim', s('image-visual-dim')), audio: count('audio-dim', s('audio-dim')), text: count('text-dim', s('text-dim')) },
        featureDtype: s('feature-dtype'),
        negatives: s('negatives'),
        writeLatent: values['no-latent'] ? false : undefined,
      }) as SimulatorOverrides;
    const overrides: SimulatorOverrides = { ...preset, ...flags, dims: { ...preset.dims, ...flags.dims }, rates: { ...preset.rates, ...flags.rates } };
    const progress = ttyProgress('simulate');
    let summary;
    try {
      summary = await simulate(out, overrides, (stage, done, total) => progress.update(stage, done, total));
    } finally {
      progress.end();
    }
    if (values.json) console.log(JSON.stringify(summary));
    else {
      const r = summary.rates;
      console.log(
        [
          `${out}: ${summary.posts.total} posts (${summary.posts.video} video, ${summary.posts.image} image), ${summary.users} users,`,
          `${summary.impressions} impressions -> ${summary.interactions} interactions in ${summary.seconds.toFixed(1)} s (features ${summary.featureDtype})`,
          `rates: click ${pct(r.click)}, like|click ${pct(r.like)}, share|click ${pct(r.share)}, favorite|click ${pct(r.favorite)}, video_play ${pct(r.video_play)}, skip ${pct(r.skip)}`,
        ].join('\n'),
      );
    }
    return ExitCode.OK;
  },
});

/** Drops undefined fields (flags not given), one level into nested objects, so the defaults apply. */
function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k] = v !== null && typeof v === 'object' ? withoutUndefined(v as Record<string, unknown>) : v;
  }
  return out;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
