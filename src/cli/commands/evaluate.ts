import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readDataset } from '../../datasets/read.js';
import { DEFAULT_EVALUATION_OPTIONS as E, evaluateCvar, evaluateItemCold, evaluateTime, methodName, PROTOCOLS, renderReport, withHashedText, type EvaluationOptions, type EvaluationReport } from '../../ml/evaluation/index.js';
import { PRIOR_KINDS } from '../../ml/memer/config.js';
import { DEFAULT_PIPELINE_OPTIONS as P, pipelineProgress, type PipelineOptions } from '../../ml/pipeline/index.js';
import { choice, intAtLeast } from '../args.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';

function num(flag: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new CliError(`--${flag} expects ${integer ? 'an integer' : 'a number'}, got "${text}"`, ExitCode.USAGE);
  return v;
}

/** A comma-separated list of numbers (a search grid), or undefined. */
function nums(flag: string, text: string | undefined): number[] | undefined {
  return text?.split(',').map((x) => num(flag, x.trim())!);
}

export const command: Command = defineCommand({
  help: [
    'Usage: memer evaluate DIR [--json OUT] [--report OUT.html] [--protocol time|cvar|item-cold] [options]',
    '',
    'Reads a dataset folder (docs/datasets.md), trains the backbone per signal (hybrid by default, --backbone ffm for the',
    'paper\'s), estimates M, trains MEMER on the training posts and scores every method on held-out interactions.',
    'Protocols and every number: docs/evaluation.md.',
    '',
    'Options (defaults in brackets):',
    '  --json OUT            write the JSON report to OUT ("-" = stdout)',
    '  --report OUT.html     write a self-contained HTML report (Table 2 layout, maturity curves, AUC and per-tag charts)',
    `  --protocol P          time (the paper's split by creation time) | cvar (old items, warm-a/b/c, test) |`,
    `                        item-cold (a random share of posts held out with all their interactions) [${E.protocol}]`,
    `  --cold-fraction F     item-cold: share of the posts held out [${E.coldFraction}]`,
    '  --held-out-split FILE item-cold: the held-out post ids, one per line (instead of a seeded draw)',
    `  --min-rows N          groups with fewer scored rows are insufficient (no verdict) [${E.minRows}]`,
    `  --min-posts N         groups with fewer evaluated posts are insufficient (no verdict) [${E.minPosts}]`,
    `  --bootstrap N         bootstrap resamples (over posts) of the 95% intervals [${E.resamples}]`,
    `  --baselines B         all (adds RIDGE and HYBRID_MF) | paper (the paper's methods only) [all]`,
    `  --hybrid-loss L       HYBRID_MF loss: warp | bpr [${E.hybridLoss}]`,
    '  --signals A,B         signals to evaluate [all]',
    `  --train-fraction F    time: posts created in the first F of the time span train [${E.trainFraction}]`,
    `  --split-on S          time: train-fraction of the time span, of the posts, or auto (the earlier cutoff) [${E.splitOn}]`,
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
    '  --backbone B          the backbone MEMER maps into and serving ranks with: hybrid | ffm (docs/memer.md) [hybrid]',
    '  --memer-prior P       MEMER residual on a prior: linear | tag-average | global-average | none (docs/memer.md) [linear]',
    '  --memer-prior-smoothing K   tag-average prior: pseudo-count shrinking a tag average to the global one [0]',
    '  --no-prior-tags       linear prior: content only, without its per-tag rows (docs/memer.md)',
    '  --memer-residual-init S     with a prior: the decoder output layer starts at S x its Glorot init [0]',
    '  --memer-weight-decay X      MEMER AdamW decoupled weight decay [0]',
    '  --memer-rec-loss L    MEMER recommendation term: bce (the paper) | softmax (in-batch, a ranking loss) [bce]',
    '  --memer-input-dropout X     MEMER dropout of the normalised content features in training [0]',
    '  --memer-modality-dropout X  MEMER dropout of whole modalities per training sample [0]',
    `  --memer-freq F        MEMER training freq: observed | uniform (in [0, own]) | zero [${P.memer.training?.freq}]`,
    `  --memer-monitor M     MEMER early stopping on validation auc | gauc | loss [${P.memer.training?.monitor}]`,
    `  --memer-validation-freq F   freq fed to MEMER validation posts: observed | zero [${P.memer.training?.validationFreq}]`,
    '  --memer-seed S        seed of MEMER training alone (init, validation split, shuffles, noise) [--seed]',
    `  --ffm-epochs N        most FFM epochs (early stopping) [${P.ffm.epochs}]`,
    `  --ffm-threads N       FFM Hogwild worker threads [${P.ffm.threads}]`,
    '  --ffm-init I          FFM initialisation: uniform (libffm, [0, s/sqrt(k))) | normal (N(0, (s/sqrt(k))^2)) [uniform]',
    '  --ffm-init-scale S    FFM initialisation scale s [1 for uniform, 0.1 for normal]',
    '  --ffm-biases          FFM global and per-feature bias terms (docs/ffm.md)',
    '  --fold-biases         serve the bias-folded k + 2 embeddings (needs --ffm-biases)',
    '  --ffm-eta X, --ffm-lambda X, --ffm-bias-lambda X   FFM learning rate, L2, bias L2 [0.2, 2e-5, 2e-5]',
    '  --ffm-search-eta A,B, --ffm-search-lambda A,B, --ffm-search-bias-lambda A,B',
    '                        FFM grid picked on the FFM\'s own held-out rows [no search]',
    '  --ffm-search-metric M grid pick: logLoss (lowest) | auc (highest full-score AUC) [logLoss]',
    `  --threads N           onnxruntime threads for MEMER [${P.threads}]`,
    `  --seed S              seed of every random choice [${P.seed}]`,
  ].join('\n'),
  options: {
    json: { type: 'string' },
    report: { type: 'string' },
    protocol: { type: 'string' },
    'cold-fraction': { type: 'string' },
    'held-out-split': { type: 'string' },
    'min-rows': { type: 'string' },
    'min-posts': { type: 'string' },
    bootstrap: { type: 'string' },
    baselines: { type: 'string' },
    'hybrid-loss': { type: 'string' },
    signals: { type: 'string' },
    'train-fraction': { type: 'string' },
    'held-out': { type: 'string' },
    'split-on': { type: 'string' },
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
    'memer-prior': { type: 'string' },
    'memer-rec-loss': { type: 'string' },
    backbone: { type: 'string' },
    'memer-prior-smoothing': { type: 'string' },
    'no-prior-tags': { type: 'boolean' },
    'memer-residual-init': { type: 'string' },
    'memer-weight-decay': { type: 'string' },
    'memer-input-dropout': { type: 'string' },
    'memer-modality-dropout': { type: 'string' },
    'memer-freq': { type: 'string' },
    'memer-monitor': { type: 'string' },
    'memer-validation-freq': { type: 'string' },
    'memer-seed': { type: 'string' },
    'ffm-epochs': { type: 'string' },
    'ffm-threads': { type: 'string' },
    'ffm-init': { type: 'string' },
    'ffm-init-scale': { type: 'string' },
    'ffm-biases': { type: 'boolean' },
    'fold-biases': { type: 'boolean' },
    'ffm-eta': { type: 'string' },
    'ffm-lambda': { type: 'string' },
    'ffm-bias-lambda': { type: 'string' },
    'ffm-search-eta': { type: 'string' },
    'ffm-search-lambda': { type: 'string' },
    'ffm-search-bias-lambda': { type: 'string' },
    'ffm-search-metric': { type: 'string' },
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
      memer: {
        architecture: { ...P.memer.architecture, prior: choice('memer-prior', s('memer-prior'), PRIOR_KINDS), priorSmoothing: num('memer-prior-smoothing', s('memer-prior-smoothing')),
          residualInit: num('memer-residual-init', s('memer-residual-init')) },
        loss: { ...P.memer.loss, recommendation: choice('memer-rec-loss', s('memer-rec-loss'), ['bce', 'softmax']) },
        training: {
          ...P.memer.training, inputDropout: num('memer-input-dropout', s('memer-input-dropout')), modalityDropout: num('memer-modality-dropout', s('memer-modality-dropout')),
          freq: choice('memer-freq', s('memer-freq'), ['observed', 'uniform', 'zero']), monitor: choice('memer-monitor', s('memer-monitor'), ['auc', 'gauc', 'loss']),
          validationFreq: choice('memer-validation-freq', s('memer-validation-freq'), ['observed', 'zero']),
          seed: num('memer-seed', s('memer-seed'), true),
          adam: { ...P.memer.training?.adam, weightDecay: num('memer-weight-decay', s('memer-weight-decay')) },
        },
      },
      ffm: {
        ...P.ffm, epochs: num('ffm-epochs', s('ffm-epochs'), true), threads: num('ffm-threads', s('ffm-threads'), true),
        init: choice('ffm-init', s('ffm-init'), ['uniform', 'normal']), initScale: num('ffm-init-scale', s('ffm-init-scale')),
        biases: values['ffm-biases'] === true ? true : undefined,
        eta: num('ffm-eta', s('ffm-eta')), lambda: num('ffm-lambda', s('ffm-lambda')), biasLambda: num('ffm-bias-lambda', s('ffm-bias-lambda')),
      },
      foldBiases: values['fold-biases'] === true ? true : undefined,
      priorTags: values['no-prior-tags'] === true ? false : undefined,
      backbone: choice('backbone', s('backbone'), ['hybrid', 'ffm']),
      ffmSearch: s('ffm-search-eta') || s('ffm-search-lambda') || s('ffm-search-bias-lambda')
        ? { eta: nums('ffm-search-eta', s('ffm-search-eta')), lambda: nums('ffm-search-lambda', s('ffm-search-lambda')), biasLambda: nums('ffm-search-bias-lambda', s('ffm-search-bias-lambda')), metric: choice('ffm-search-metric', s('ffm-search-metric'), ['logLoss', 'auc']) }
        : undefined,
      threads: num('threads', s('threads'), true),
      seed: num('seed', s('seed'), true),
    }));
    const protocol = choice('protocol', s('protocol'), PROTOCOLS) ?? E.protocol;
    const split = s('held-out-split');
    if (split !== undefined && protocol !== 'item-cold') throw new CliError('--held-out-split needs --protocol item-cold', ExitCode.USAGE);
    if (split !== undefined && !(existsSync(split) && statSync(split).isFile())) throw new CliError(`${split}: no such file`, ExitCode.NOT_FOUND);
    const baselines = choice('baselines', s('baselines'), ['all', 'paper']);
    const options: Partial<EvaluationOptions> = JSON.parse(JSON.stringify({
      protocol,
      coldFraction: num('cold-fraction', s('cold-fraction')),
      coldItems: split === undefined ? undefined : heldOutIds(split),
      minRows: intAtLeast('min-rows', s('min-rows'), 0),
      minPosts: intAtLeast('min-posts', s('min-posts'), 0),
      resamples: intAtLeast('bootstrap', s('bootstrap'), 10),
      strongBaselines: baselines === undefined ? undefined : baselines === 'all',
      hybridLoss: choice('hybrid-loss', s('hybrid-loss'), ['warp', 'bpr']),
      trainFraction: num('train-fraction', s('train-fraction')),
      heldOutFraction: num('held-out', s('held-out')),
      splitOn: choice('split-on', s('split-on'), ['span', 'posts', 'auto']),
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
      else if (Object.keys(ds.features).length === 0) {
        console.error(`hint: ${dir} has no content features (features/*.npy), so MEMER and RIDGE have nothing to learn from; add --hash-text 64 to derive a hashed text feature from titles and tags`);
      }
      const read = (performance.now() - t0) / 1000;
      const run = protocol === 'cvar' ? evaluateCvar : protocol === 'item-cold' ? evaluateItemCold : evaluateTime;
      report = await run(ds, options, progress.onProgress);
      report.timings = { read, ...report.timings, total: (performance.now() - t0) / 1000 };
      if (hash !== undefined) report.parameters.hashText = hash;
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
});

/** Post ids of a held-out split file: one per line; blank lines, # comments and an item_id / post_id / id header skipped. */
function heldOutIds(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim().split(/[,\t]/)[0]).filter((l) => l && !l.startsWith('#'));
  if (lines.length && ['item_id', 'post_id', 'id'].includes(lines[0])) lines.shift();
  if (lines.length === 0) throw new CliError(`${path}: no post ids`, ExitCode.BAD_INPUT);
  return lines;
}

function printTable(r: EvaluationReport): void {
  const f = (v: number | null, d: number) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));
  console.log(`${r.protocol} protocol on ${String(r.dataset.name)}: ${r.results.length} result rows in ${r.timings.total.toFixed(1)} s (* = insufficient: fewer than ${String(r.parameters.minRows)} rows or ${String(r.parameters.minPosts)} posts, no verdict)`);
  console.log(`${'signal'.padEnd(12)}${'media'.padEnd(7)}${'phase'.padEnd(8)}${'method'.padEnd(40)}${'AUC'.padStart(7)}${'GAUC'.padStart(7)}${'F1'.padStart(7)}${'RI(%)'.padStart(8)}${'n'.padStart(8)}${'posts'.padStart(7)}`);
  for (const x of r.results) {
    console.log(`${x.signal.padEnd(12)}${x.mediaType.padEnd(7)}${x.phase.padEnd(8)}${methodName(x).padEnd(40)}${f(x.auc, 3).padStart(7)}${f(x.gauc, 3).padStart(7)}${f(x.f1, 3).padStart(7)}${f(x.relaImpr, 1).padStart(8)}${String(x.n).padStart(8)}${String(x.posts).padStart(6)}${x.insufficient ? '*' : ''}`);
  }
  const gauc = r.comparisons.filter((c) => c.metric === 'gauc');
  if (gauc.length === 0) return;
  console.log(`\nMEMER - baseline, GAUC, 95% bootstrap interval over posts`);
  for (const c of gauc) {
    const auc = r.comparisons.find((x) => x.metric === 'auc' && x.signal === c.signal && x.mediaType === c.mediaType && x.phase === c.phase && x.baseline === c.baseline);
    const iv = (x: typeof c) => `${f(x.diff, 3)} [${f(x.ci[0], 3)}, ${f(x.ci[1], 3)}] ${x.verdict ?? 'insufficient'}`;
    console.log(`${c.signal.padEnd(12)}${c.mediaType.padEnd(7)}${c.phase.padEnd(8)}vs ${c.baseline.padEnd(11)} GAUC ${iv(c).padEnd(34)} AUC ${auc ? iv(auc) : '-'}`);
  }
  const fair = (r.fairness ?? []).filter((x) => x.tags > 0);
  if (fair.length === 0) return;
  console.log(`\nPer tag, MEMER - TAG_AVG GAUC (judged tags: enough rows; worse / better: interval below / above 0)`);
  for (const x of fair) console.log(`${x.signal.padEnd(12)}${x.mediaType.padEnd(7)}tags ${x.tags}, judged ${x.judged}: worse ${x.worse}, better ${x.better}, spread (sd) ${f(x.spread, 3)}, range [${f(x.min, 3)}, ${f(x.max, 3)}]`);
}
