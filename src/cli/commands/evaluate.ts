import { writeFileSync } from 'node:fs';
import { DatasetError } from '../../datasets/errors.js';
import { readDataset } from '../../datasets/read.js';
import { DEFAULT_EVALUATION_OPTIONS as E, evaluateCvar, evaluateTime, methodName, renderReport, withHashedText, type EvaluationOptions, type EvaluationReport } from '../../ml/evaluation/index.js';
import { FfmError } from '../../ml/ffm/errors.js';
import { DEFAULT_PIPELINE_OPTIONS as P, pipelineProgress, type PipelineOptions } from '../../ml/pipeline/index.js';
import { choice } from '../args.js';
import { CliError, ExitCode, type Command } from '../command.js';

function num(flag: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new CliError(`--${flag} expects ${integer ? 'an integer' : 'a number'}, got "${text}"`, ExitCode.USAGE);
  return v;
}

export const command: Command = {
  help: [
    'Usage: memer evaluate DIR [--json OUT] [--report OUT.html] [--protocol time|cvar] [options]',
    '',
    'Reads a dataset folder (docs/datasets.md), trains the FFM backbone per signal, estimates M, trains MEMER on the',
    'old training posts and scores every method on held-out interactions. Protocols and every number: docs/evaluation.md.',
    '',
    'Options (defaults in brackets):',
    '  --json OUT            write the JSON report to OUT ("-" = stdout)',
    '  --report OUT.html     write a self-contained HTML report (Table 2 layout, maturity curves, AUC and per-tag charts)',
    `  --protocol P          time (the paper's split by creation time) | cvar (old items, warm-a/b/c, test) [${E.protocol}]`,
    '  --signals A,B         signals to evaluate [all]',
    `  --train-fraction F    time: posts created in the first F of the time span train [${E.trainFraction}]`,
    `  --held-out F          time: share of each test post's interactions held out for scoring [${E.heldOutFraction}]`,
    `  --held-out-by U       time: draw per interaction or per (user, post) pair (stricter; docs/evaluation.md) [${E.heldOutBy}]`,
    `  --epsilon E           maturity curve: distance below which an embedding is stable [${P.maturity.epsilon}]`,
    `  --maturity-compare C  maturity curve: consecutive snapshots | doubling (v(n/2) vs v(n)) [${P.maturity.compare}]`,
    `  --min-threshold M     floor on the estimated threshold M [${P.minThreshold}]`,
    '  --threshold M         a fixed maturity threshold M (views) instead of the curve',
    `  --cvar-h H            cvar: items with more than H interactions are old [${E.cvarH}]`,
    `  --cvar-n N            cvar: interactions per warm set [${E.cvarN}]`,
    '  --ablation A          all | none | signals (comma-separated) to train one MEMER per modality subset [all]',
    '  --hash-text D         derive a D-wide hashed text feature from titles and tags (for datasets without features)',
    `  --cold-freq F         freq fed to MEMER for evaluated posts: zero | threshold [${E.coldFreq}]`,
    `  --search N            random-search trials per MEMER model (1 = no search) [${P.searchTrials || 1}]`,
    `  --max-samples N       samples per MEMER model [${P.memerMaxSamples}]`,
    `  --ffm-epochs N        most FFM epochs (early stopping) [${P.ffm.epochs}]`,
    `  --ffm-threads N       FFM Hogwild worker threads [${P.ffm.threads}]`,
    `  --threads N           onnxruntime threads for MEMER [${P.threads}]`,
    `  --seed S              seed of every random choice [${P.seed}]`,
  ].join('\n'),
  options: {
    json: { type: 'string' },
    report: { type: 'string' },
    protocol: { type: 'string' },
    signals: { type: 'string' },
    'train-fraction': { type: 'string' },
    'held-out': { type: 'string' },
    'held-out-by': { type: 'string' },
    epsilon: { type: 'string' },
    threshold: { type: 'string' },
    'maturity-compare': { type: 'string' },
    'min-threshold': { type: 'string' },
    'cvar-h': { type: 'string' },
    'cvar-n': { type: 'string' },
    ablation: { type: 'string' },
    'hash-text': { type: 'string' },
    'cold-freq': { type: 'string' },
    search: { type: 'string' },
    'max-samples': { type: 'string' },
    'ffm-epochs': { type: 'string' },
    'ffm-threads': { type: 'string' },
    threads: { type: 'string' },
    seed: { type: 'string' },
  },
  async run({ values, positionals }) {
    const dir = positionals[0];
    if (!dir || positionals.length > 1) throw new CliError('name one dataset folder to evaluate', ExitCode.USAGE);
    const s = (k: string) => values[k] as string | undefined;
    const ablation = s('ablation');
    const pipeline: Partial<PipelineOptions> = JSON.parse(JSON.stringify({
      signals: s('signals')?.split(',').map((x) => x.trim()).filter(Boolean),
      maturity: { ...P.maturity, epsilon: num('epsilon', s('epsilon')), compare: choice('maturity-compare', s('maturity-compare'), ['consecutive', 'doubling']) },
      fixedThreshold: num('threshold', s('threshold')),
      minThreshold: num('min-threshold', s('min-threshold'), true),
      searchTrials: num('search', s('search'), true),
      memerMaxSamples: num('max-samples', s('max-samples'), true),
      ffm: { ...P.ffm, epochs: num('ffm-epochs', s('ffm-epochs'), true), threads: num('ffm-threads', s('ffm-threads'), true) },
      threads: num('threads', s('threads'), true),
      seed: num('seed', s('seed'), true),
    }));
    const options: Partial<EvaluationOptions> = JSON.parse(JSON.stringify({
      protocol: s('protocol'),
      trainFraction: num('train-fraction', s('train-fraction')),
      heldOutFraction: num('held-out', s('held-out')),
      heldOutBy: s('held-out-by') as 'interaction' | 'pair' | undefined,
      cvarH: num('cvar-h', s('cvar-h'), true),
      cvarN: num('cvar-n', s('cvar-n'), true),
      coldFreq: s('cold-freq'),
      ablation: ablation === undefined || ablation === 'all' ? true : ablation === 'none' ? false : ablation.split(','),
      pipeline,
    }));
    const progress = pipelineProgress(`evaluate ${dir}`);
    let report: EvaluationReport;
    try {
      const t0 = performance.now();
      let ds = await readDataset(dir);
      const hash = num('hash-text', s('hash-text'), true);
      if (hash !== undefined) ds = withHashedText(ds, hash);
      const read = (performance.now() - t0) / 1000;
      const run = (options.protocol ?? E.protocol) === 'cvar' ? evaluateCvar : evaluateTime;
      report = await run(ds, options, progress.onProgress);
      report.timings = { read, ...report.timings, total: (performance.now() - t0) / 1000 };
      if (hash !== undefined) report.parameters.hashText = hash;
    } catch (err) {
      if (err instanceof DatasetError) throw new CliError(err.message, ExitCode.BAD_INPUT);
      if (err instanceof RangeError || (err instanceof FfmError && ['BAD_PARAM', 'UNKNOWN_SIGNAL', 'UNKNOWN_FIELD'].includes(err.code))) throw new CliError(err.message, ExitCode.USAGE);
      throw err;
    } finally {
      progress.end();
    }
    const json = JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
    const out = s('json');
    if (out === '-') console.log(json);
    else if (out) writeFileSync(out, json + '\n');
    if (s('report')) writeFileSync(s('report')!, renderReport(report));
    if (out !== '-') printTable(report);
    return ExitCode.OK;
  },
};

function printTable(r: EvaluationReport): void {
  const f = (v: number | null, d: number) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));
  console.log(`${r.protocol} protocol on ${String(r.dataset.name)}: ${r.results.length} result rows in ${r.timings.total.toFixed(1)} s`);
  console.log(`${'signal'.padEnd(12)}${'media'.padEnd(7)}${'phase'.padEnd(8)}${'method'.padEnd(40)}${'AUC'.padStart(7)}${'F1'.padStart(7)}${'RI(%)'.padStart(8)}${'n'.padStart(8)}`);
  for (const x of r.results) {
    console.log(`${x.signal.padEnd(12)}${x.mediaType.padEnd(7)}${x.phase.padEnd(8)}${methodName(x).padEnd(40)}${f(x.auc, 3).padStart(7)}${f(x.f1, 3).padStart(7)}${f(x.relaImpr, 1).padStart(8)}${String(x.n).padStart(8)}`);
  }
}
