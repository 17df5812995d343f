import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ttyProgress } from '../../datasets/progress.js';
import { mediaLimitsOf, textModelPath } from '../../domain/media/media.service.js';
import { extractMediaFeatures, MEDIA_EXTENSIONS } from '../../ml/extract/media-batch.js';
import { MEDIA_TYPES, MODALITIES, type MediaType } from '../../datasets/types.js';
import { DEFAULT_EXTRACT_OPTIONS as D, extractFeatures, type ExtractorModel } from '../../ml/extract/extract.js';
import type { ProviderChoice } from '../../ml/onnx/runtime.js';
import { choice, intAtLeast } from '../args.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { cliConfig } from '../context.js';

/** `--model video=a.onnx`, `--model image=b.onnx`, or `--model c.onnx` for every media type. */
function models(specs: string[]): ExtractorModel[] {
  if (specs.length === 0) throw new CliError('--model FILE.onnx is required (or one per media type: --model video=A.onnx --model image=B.onnx)', ExitCode.USAGE);
  return specs.map((spec) => {
    const m = /^(\w+)=(.+)$/.exec(spec);
    if (!m) return { mediaType: 'all', path: spec };
    if (!MEDIA_TYPES.includes(m[1] as MediaType)) throw new CliError(`--model ${spec}: "${m[1]}" is not a media type (${MEDIA_TYPES.join(', ')})`, ExitCode.USAGE);
    return { mediaType: m[1] as MediaType, path: m[2] };
  });
}

export const command: Command = defineCommand({
  help: [
    'Usage: memer extract DIR --media RAW [options] [--json]',
    '       memer extract DIR --modality M --model [MEDIA=]FILE.onnx ... --inputs INPUTS [options] [--json]',
    '',
    'With --media: runs memer\'s built-in content extractors (docs/content-pipeline.md) over RAW/<item_id>.<ext>, one',
    'media file per item of DIR/items.csv (the id URI-encoded), and writes',
    'DIR/features/visual.npy (MobileNetV2, 1280-d; video frames averaged per second, then over the video),',
    'audio.npy (log-mel, 128-d, videos with sound) and, with a text model, text.npy (every item\'s text and tags plus',
    'the text read from its file). Items without a file, or whose file is refused (listed), get all-zero rows. An',
    'interrupted run resumes where it stopped (DIR/features/.media-extract.jsonl); the files are replaced only when all',
    'are complete. Limits and frame rate come from the configuration (MEMER_MEDIA_*), as in serving.',
    '  --media RAW         the folder of media files, by extension:',
    `                      ${MEDIA_EXTENSIONS.join(', ')}`,
    '  --text-model FILE   the text model [MEMER_TEXT_MODEL, else MEMER_MODEL_DIR/text-model.onnx when present]',
    '  --train-text        train a text model on these texts and the text read from the files instead, written to',
    '                      DIR/text-model.onnx (copy it to MEMER_MODEL_DIR/text-model.onnx to serve with it)',
    '  --no-ocr            do not read text in images and frames',
    `  --jobs N            files decoded at once [${availableParallelism()}: one per core]`,
    '  --restart           ignore what an interrupted run finished',
    '  (--dtype, --provider, --threads and --json as below)',
    '',
    'Runs content extractors given as ONNX files (the paper uses ResNeXt3D-101 on video frames, DenseNet161 on images,',
    'VGGish on audio and FastText on text) over each item of DIR/items.csv and writes DIR/features/<M>.npy, one row per',
    'item, ready for `memer import` and `memer evaluate`.',
    '',
    'Each item\'s raw input is INPUTS/<item_id>.npy (the id URI-encoded), float32 or float16: one step shaped like the',
    "model's input without its batch axis, or T steps with time first (frames, seconds of audio). The model maps",
    '[batch, ...] to [batch, D]; an item\'s feature is the mean of its steps\' outputs (the paper averages over time).',
    'Items without an input file, or of a media type without a model, get the all-zero row of a missing modality.',
    'The file is replaced only when complete. Format: docs/datasets.md.',
    '',
    'Options (defaults in brackets):',
    '  --modality M        the file to write: visual | audio | text | aux',
    '  --model [MEDIA=]F   extractor ONNX file; repeat with video= and image= for one model per media type',
    '  --inputs DIR        folder of raw inputs, one .npy per item',
    `  --batch N           steps per onnxruntime run [${D.batch}]`,
    '  --dtype T           auto | float32 | float16 (auto: float16 past 256 MiB of float32) [auto]',
    '  --provider P        auto | cpu | cuda [MEMER_EXECUTION_PROVIDER, else auto]',
    '  --threads N         onnxruntime intra-op threads (0: its default) [0]',
    '  --json              print the summary as one JSON object on stdout (progress on stderr on a TTY)',
    '',
    'Exit codes: 2 bad usage, 3 a bad input file or model (the message names it), 4 a file or folder not found.',
  ].join('\n'),
  options: {
    modality: { type: 'string' },
    model: { type: 'string', multiple: true },
    inputs: { type: 'string' },
    batch: { type: 'string' },
    dtype: { type: 'string' },
    provider: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
    media: { type: 'string' },
    'text-model': { type: 'string' },
    'train-text': { type: 'boolean' },
    'no-ocr': { type: 'boolean' },
    jobs: { type: 'string' },
    restart: { type: 'boolean' },
  },
  async run({ values, positionals }) {
    const dataset = positionals[0];
    if (!dataset || positionals.length > 1) throw new CliError('name one dataset folder (with items.csv)', ExitCode.USAGE);
    const s = (k: string) => values[k] as string | undefined;
    if (s('media') !== undefined) return extractMedia(dataset, values);
    const modality = choice('modality', s('modality'), MODALITIES);
    if (!modality) throw new CliError(`--modality is required: ${MODALITIES.join(', ')}`, ExitCode.USAGE);
    const inputs = s('inputs');
    if (!inputs) throw new CliError('--inputs DIR is required', ExitCode.USAGE);
    const dtype = choice('dtype', s('dtype'), ['auto', 'float32', 'float16'] as const) ?? D.dtype;
    const provider = choice<ProviderChoice>('provider', s('provider'), ['auto', 'cpu', 'cuda']) ?? cliConfig().executionProvider;
    const extractors = models((values.model as string[] | undefined) ?? []);
    for (const [path, what] of [[dataset, 'folder'], [inputs, 'folder'], ...extractors.map((m) => [m.path, 'file'])]) {
      if (!existsSync(path)) throw new CliError(`${path}: no such ${what}`, ExitCode.NOT_FOUND);
    }
    const options = {
      dataset, modality, inputs, provider,
      models: extractors,
      batch: intAtLeast('batch', s('batch'), 1) ?? D.batch,
      dtype,
      threads: intAtLeast('threads', s('threads'), 0) ?? D.threads,
    };
    const progress = ttyProgress(`extract ${modality}`);
    try {
      const summary = await extractFeatures(options, (done, total) => progress.update('items', done, total));
      progress.end();
      if (values.json) console.log(JSON.stringify(summary));
      else {
        const per = MEDIA_TYPES.filter((m) => summary.extracted[m]).map((m) => `${summary.extracted[m]} ${m}s (${summary.dims[m]}-d)`);
        console.log(
          `wrote ${summary.file}: ${summary.items} rows, ${summary.width} wide (${summary.dtype}); extracted ${per.join(' and ') || 'nothing'} from ` +
            `${summary.steps} steps in ${summary.runs} runs on ${summary.provider}, ${summary.missing} missing, in ${summary.seconds.toFixed(1)} s`,
        );
        if (summary.allZero) console.log(`warning: ${summary.allZero} extracted rows are all zero and will read as a missing modality`);
      }
      return ExitCode.OK;
    } catch (err) {
      progress.end();
      throw err;
    }
  },
});

/** `memer extract DIR --media RAW`: the built-in extractors over a folder of media files. */
async function extractMedia(dataset: string, values: Record<string, unknown>): Promise<number> {
  const s = (k: string) => values[k] as string | undefined;
  const media = s('media')!;
  for (const [path, what] of [[dataset, 'folder'], [media, 'folder'], ...(s('text-model') ? [[s('text-model')!, 'file']] : [])]) {
    if (!existsSync(path)) throw new CliError(`${path}: no such ${what}`, ExitCode.NOT_FOUND);
  }
  if (s('text-model') && values['train-text']) throw new CliError('give --text-model or --train-text, not both', ExitCode.USAGE);
  const config = cliConfig();
  const progress = ttyProgress('extract --media');
  try {
    const summary = await extractMediaFeatures(
      {
        dataset,
        media,
        limits: mediaLimitsOf(config),
        fps: config.media.fps,
        jobs: intAtLeast('jobs', s('jobs'), 1) ?? availableParallelism(),
        provider: choice<ProviderChoice>('provider', s('provider'), ['auto', 'cpu', 'cuda']) ?? config.executionProvider,
        threads: intAtLeast('threads', s('threads'), 0) ?? D.threads,
        textModel: values['train-text'] ? null : (s('text-model') ?? textModelPath(config)),
        trainText: Boolean(values['train-text']),
        ocr: !values['no-ocr'] && config.media.ocr,
        dtype: choice('dtype', s('dtype'), ['auto', 'float32', 'float16'] as const) ?? D.dtype,
        restart: Boolean(values.restart),
      },
      (stage, done, total) => progress.update(stage, done, total),
    );
    progress.end();
    if (values.json) console.log(JSON.stringify(summary));
    else {
      const rows = Object.entries(summary.extracted).map(([k, v]) => `${k} ${v} rows (${summary.dims[k as keyof typeof summary.dims]}-d)`);
      console.log(
        `extracted ${summary.withMedia} of ${summary.items} items with a file (${summary.resumed} resumed) in ${summary.seconds.toFixed(1)} s on ${summary.provider}: ${rows.join(', ')}` +
          (summary.textModel ? `; text model ${summary.textModel}${summary.trainedTextModel ? ' (trained now)' : ''}` : '; no text model, so no text.npy'),
      );
      if (summary.failed) {
        console.log(`${summary.failed} files refused (all-zero rows):`);
        for (const f of summary.failures) console.log(`  ${f.id}: ${f.reason} ${f.message}`);
      }
    }
    return ExitCode.OK;
  } catch (err) {
    progress.end();
    throw err;
  }
}
