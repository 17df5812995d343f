import { pipelineProgress } from '../../ml/pipeline/index.js';
import { activateVersion } from '../../domain/training/activation.js';
import { trainOnDatabase } from '../../domain/training/train.service.js';
import { choice, intAtLeast } from '../args.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { withServices } from '../context.js';

export const command: Command = defineCommand({
  help: [
    'Usage: memer train [--signal NAME ...] [--backbone hybrid|ffm] [--epochs N] [--search N] [--seed S] [--threads N] [--hash-text D] [--activate] [--json]',
    '       memer train --activate-version VERSION [--json]',
    '',
    'Exports the database (posts, features, users, interactions), then per signal: trains the backbone (hybrid by',
    'default, --backbone ffm for the paper\'s), estimates the maturity threshold M from the embedding-maturity curve',
    'measured on it, and trains MEMER per media type on the training posts (a residual on a linear prior)',
    '(src/ml/pipeline, docs/evaluation.md), with the modalities and feature widths the data has (each MEMER version',
    'records them; servers check uploads against them). Artefacts go to MEMER_MODEL_DIR/<run>/<signal>/ and are registered as',
    'model versions (status READY). With --activate, each trained signal is switched over in one transaction: MATURE',
    'and user embeddings, thresholds, active versions, and MEMER embeddings of every post recomputed with the new',
    'models. Running servers pick the change up within MEMER_REFRESH_MS; requests in flight finish on the old models.',
    'Interactions are ordered by time, ties in the order they were imported; when every time is the same (TikTok),',
    'a warning says so on stderr. A database without interactions is an error (exit 3). A database without content',
    'features gives MEMER nothing to learn from (a warning says so): new posts are then served by their tag average.',
    'With --hash-text D, MEMER reads a D-wide hashed feature of each post\'s text and tags (the signed hashing trick of',
    '`memer evaluate --hash-text`) as its text input, in place of any stored text feature; the versions record it, and',
    'the service computes the same feature from the same text and tags on upload, as views accrue and on activation.',
    '',
    'Options:',
    '  --signal NAME             train only this signal (repeatable; default: every signal with interactions)',
    '  --backbone B              hybrid (LightFM-style, content-aware) | ffm (the paper\'s) [hybrid] (docs/memer.md)',
    '  --epochs N                FFM epochs (early stopping keeps the best; the hybrid picks its own on held-out posts) [10]',
    '  --search N                random-search trials per MEMER model over loss weights, sizes, learning rate and',
    '                            weight decay, chosen on a validation split of the training posts (0 = defaults) [0]',
    '  --seed S                  seed for every random choice [1]',
    '  --threads N               threads for FFM workers and onnxruntime [2]',
    '  --hash-text D             MEMER\'s text input: a D-wide hashed feature of title words and tags (D >= 2, e.g. 64)',
    '  --activate                activate the new run after training',
    '  --activate-version V      activate an already trained version (FFM, or MEMER: its run) and exit',
    '  --force                   activate even a MEMER model whose validation GAUC is below its prior\'s (refused,',
    '                            exit 5, otherwise)',
    '  --json                    print a JSON summary on stdout',
  ].join('\n'),
  options: {
    signal: { type: 'string', multiple: true },
    backbone: { type: 'string' },
    epochs: { type: 'string' },
    search: { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    'hash-text': { type: 'string' },
    activate: { type: 'boolean' },
    force: { type: 'boolean' },
    'activate-version': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const int = (flag: string, min: number) => intAtLeast(flag, values[flag] as string | undefined, min);
    const json = Boolean(values.json);
    const only = values['activate-version'] as string | undefined;
    if (only) {
      const result = await withServices((s) => activateVersion(s, only, { force: Boolean(values.force) }));
      console.log(json ? JSON.stringify(result) : `activated ${result.ffm} with ${result.memer.join(', ') || 'no MEMER model'}: ${result.maturePosts} mature posts, ${result.users} users, ${result.memerPosts} MEMER embeddings`);
      return ExitCode.OK;
    }
    const epochs = int('epochs', 1);
    const threads = int('threads', 1);
    const search = int('search', 0);
    const seed = int('seed', 0);
    const hashText = int('hash-text', 2);
    const progress = pipelineProgress('train');
    const summary = await withServices(async (s) => {
      const trained = await trainOnDatabase(
        s,
        {
          ...(values.signal ? { signals: values.signal as string[] } : {}),
          ...(values.backbone !== undefined ? { backbone: choice('backbone', values.backbone as string, ['hybrid', 'ffm']) } : {}),
          ...(epochs !== undefined || threads !== undefined ? { ffm: { ...(epochs !== undefined ? { epochs } : {}), ...(threads !== undefined ? { threads } : {}) } } : {}),
          ...(threads !== undefined ? { threads } : {}),
          ...(search !== undefined ? { searchTrials: search } : {}),
          ...(seed !== undefined ? { seed } : {}),
          ...(hashText !== undefined ? { hashText } : {}),
        },
        (e) => {
          if (e.stage !== 'export') progress.onProgress(e);
        },
      );
      progress.end();
      const activated = [];
      if (values.activate) {
        for (const v of trained.versions.filter((x) => x.kind === 'FFM')) activated.push(await activateVersion(s, v.version, { force: Boolean(values.force) }));
      }
      return { ...trained, activated };
    });
    for (const w of summary.warnings) console.error(`memer train: warning: ${w}`);
    if (json) console.log(JSON.stringify(summary));
    else {
      console.log(`trained ${summary.run} on ${summary.dataset.posts} posts, ${summary.dataset.users} users, ${summary.dataset.interactions} interactions`);
      for (const v of summary.versions) {
        const m = v.metrics;
        const detail =
          'ffm' in m
            ? `AUC ${m.ffm.map((f) => `${f.aucFull?.toFixed(3)} (dot ${f.aucDot?.toFixed(3)})`).join(', ')}; M ${Object.entries(m.thresholds).map(([k, t]) => `${k} ${t?.threshold}`).join(', ')}`
            : `validation AUC ${m.validationAuc?.toFixed(3) ?? '-'}`;
        console.log(`  ${v.version.padEnd(48)} ${detail}`);
      }
      for (const s of summary.skipped) console.log(`  (no MEMER for ${s.signal}/${s.mediaType}: ${s.reason})`);
      for (const a of summary.activated) console.log(`activated ${a.signal}: ${a.maturePosts} mature posts, ${a.users} users, ${a.memerPosts} MEMER embeddings`);
      if (!values.activate) console.log('not activated: run `memer train --activate-version <ffm version>` or the activateModel mutation');
    }
    return ExitCode.OK;
  },
});
