import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ArmInput } from '../../domain/experiments/experiment.validation.js';
import type { ExperimentStatus } from '../../domain/experiments/experiment.types.js';
import { experimentView, reportView, type ExperimentView, type ReportView } from '../../domain/experiments/views.js';
import { renderReportHtml } from '../../domain/experiments/report-html.js';
import { REPLAY_EXPERIMENT, REPLAY_SIZES, replayExperiment, type ReplayResult, type ReplaySizeName } from '../../domain/experiments/replay.js';
import { pipelineProgress } from '../../ml/pipeline/index.js';
import { choice, intAtLeast } from '../args.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { cliConfig, withServices } from '../context.js';

const STATUSES: readonly ExperimentStatus[] = ['DRAFT', 'RUNNING', 'STOPPED'];

export const command: Command = defineCommand({
  help: [
    'Usage: memer experiment create NAME --signal S --arm NAME:SOURCE[:SHARE] --arm ... [--window SECONDS]',
    '                               [--description TEXT] [--draft] [--json]',
    '       memer experiment start NAME [--json]',
    '       memer experiment stop NAME [--json]',
    '       memer experiment list [--status DRAFT|RUNNING|STOPPED] [--signal S] [--json]',
    '       memer experiment report NAME [--window SECONDS] [--json] [--html OUT.html]',
    '       memer experiment simulate [NAME] [--size tiny|small|standard] [--seed S] [--rounds R] [--users-per-round N]',
    '                               [--first K] [--new-posts N] [--signal S] [--window SECONDS] [--threads N]',
    '                               [--dir DIR] [--database URL] [--json] [--html OUT.html]',
    '',
    "Online experiments on the ranking of a signal's early-stage posts (docs/experiments.md). Each --arm names an arm,",
    'the source that ranks its early-stage posts (MEMER, TAG_AVG, GLOBAL_AVG or RANDOM) and its share of users (a',
    'fraction; omitted on every arm: equal shares of all users). The first arm is the control. Users are assigned by a',
    'hash of (experiment, user id). At most one experiment runs per signal (exit 5 otherwise). Running servers pick',
    'changes up within MEMER_REFRESH_MS.',
    '',
    '`simulate` replays the paper\'s online test on the synthetic platform (docs/experiments.md#replay) in a database',
    'of its own: it simulates a platform, imports it without its newest posts, trains and activates the models (as',
    '`memer train --signal S --activate`) and starts experiment NAME (default ' + REPLAY_EXPERIMENT + ': a TAG_AVG',
    'control, a MEMER arm). Then per round it uploads the next held-out posts, serves recommendations(stage: EARLY) to',
    'the arriving users, draws what each does with each post shown from the simulator\'s ground truth and records it.',
    'It prints the report (Table 3, the per-genre breakdown) and the CTR gain; progress goes to stderr. Deterministic',
    'for a seed.',
    '',
    'Options:',
    '  --signal S        the signal whose recommendations the experiment ranks',
    '  --arm A:SRC[:F]   an arm (repeat; 2 to 16), e.g. --arm control:TAG_AVG:0.5 --arm memer:MEMER:0.5',
    '  --window SECONDS  attribution window (create: default 86400; report: overrides the experiment\'s)',
    '  --draft           create without starting (start it with `memer experiment start NAME`)',
    '  --json            print JSON on stdout (report: the experimentReport query\'s shape)',
    '  --html OUT        report, simulate: also write an HTML report (Table 3 and the per-tag breakdown, with intervals)',
    '',
    'simulate options:',
    '  --size NAME       the platform and the traffic: tiny (seconds) | small (~30 s) | standard (2-3 min) [standard]',
    `                    (standard: ${sizeText('standard')})`,
    '  --seed S          seed of the platform, the training, the arrivals and the outcomes [1]',
    '  --rounds R, --users-per-round N, --first K, --new-posts N   override the size\'s traffic',
    '  --signal S        the signal the experiment ranks [click]',
    '  --threads N       training threads; more is faster but not bit-reproducible (MEMER on onnxruntime) [1]',
    '  --dir DIR         keep the platform, the database and the models in DIR (default: a temporary folder, removed)',
    '  --database URL    the database to replay in, which must hold no posts (default: a SQLite file in the folder)',
  ].join('\n'),
  options: {
    signal: { type: 'string' },
    arm: { type: 'string', multiple: true },
    window: { type: 'string' },
    description: { type: 'string' },
    draft: { type: 'boolean' },
    status: { type: 'string' },
    json: { type: 'boolean' },
    html: { type: 'string' },
    size: { type: 'string' },
    seed: { type: 'string' },
    rounds: { type: 'string' },
    'users-per-round': { type: 'string' },
    first: { type: 'string' },
    'new-posts': { type: 'string' },
    threads: { type: 'string' },
    dir: { type: 'string' },
    database: { type: 'string' },
  },
  async run({ values, positionals }) {
    const [action, name] = positionals;
    const json = Boolean(values.json);
    const needName = () => {
      if (!name) throw new CliError(`name the experiment\n\n${command.help}`, ExitCode.USAGE);
      return name;
    };
    switch (action) {
      case 'create': {
        const experimentName = needName();
        const signal = values.signal as string | undefined;
        if (!signal) throw new CliError('--signal is required', ExitCode.USAGE);
        const arms = parseArms((values.arm as string[] | undefined) ?? []);
        const e = await withServices((s) =>
          s.experiments.create({
            name: experimentName,
            signal,
            arms,
            attributionWindowSeconds: intAtLeast('window', values.window as string | undefined, 1),
            description: values.description as string | undefined,
            start: !values.draft,
          }),
        );
        print(experimentView(e), json);
        return ExitCode.OK;
      }
      case 'start':
      case 'stop': {
        const experimentName = needName();
        const e = await withServices((s) => (action === 'start' ? s.experiments.start(experimentName) : s.experiments.stop(experimentName)));
        print(experimentView(e), json);
        return ExitCode.OK;
      }
      case 'list': {
        const status = choice('status', values.status as string | undefined, STATUSES);
        const list = (await withServices((s) => s.experiments.list({ status, signal: values.signal as string | undefined }))).map(experimentView);
        if (json) console.log(JSON.stringify(list));
        else if (list.length === 0) console.log('no experiments');
        else for (const e of list) console.log(summary(e));
        return ExitCode.OK;
      }
      case 'report': {
        const experimentName = needName();
        const window = intAtLeast('window', values.window as string | undefined, 1);
        const report = reportView(await withServices((s) => s.experiments.report(experimentName, { attributionWindowSeconds: window })));
        if (values.html) writeFileSync(values.html as string, renderReportHtml(report));
        console.log(json ? JSON.stringify(report) : reportText(report));
        return ExitCode.OK;
      }
      case 'simulate': {
        const result = await simulateReplay(values, name);
        const report = reportView(result.report);
        if (values.html) writeFileSync(values.html as string, renderReportHtml(report));
        console.log(json ? JSON.stringify({ ...result, report }) : `${reportText(report)}\n\n${replayText(result)}`);
        return ExitCode.OK;
      }
      default:
        throw new CliError(`expected create, start, stop, list, report or simulate\n\n${command.help}`, ExitCode.USAGE);
    }
  },
});

function sizeText(name: ReplaySizeName): string {
  const z = REPLAY_SIZES[name];
  return `${z.platform.posts} posts, ${z.platform.users} users, ${z.platform.interactions / 1000}k interactions, ${z.newPosts} new posts over ${z.rounds} rounds of ${z.usersPerRound} users x ${z.first}`;
}

/** `memer experiment simulate`: the replay in its own folder and database (docs/experiments.md#replay). */
async function simulateReplay(values: Record<string, unknown>, name: string | undefined): Promise<ReplayResult> {
  const int = (flag: string, min: number) => intAtLeast(flag, values[flag] as string | undefined, min);
  const base = REPLAY_SIZES[choice('size', values.size as string | undefined, Object.keys(REPLAY_SIZES) as ReplaySizeName[]) ?? 'standard'];
  const size = {
    ...base,
    rounds: int('rounds', 1) ?? base.rounds,
    usersPerRound: int('users-per-round', 1) ?? base.usersPerRound,
    first: int('first', 1) ?? base.first,
    newPosts: int('new-posts', 1) ?? base.newPosts,
  };
  const seed = int('seed', 0) ?? 1;
  const threads = int('threads', 1);
  const keep = values.dir as string | undefined;
  const dir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'memer-replay-'));
  mkdirSync(dir, { recursive: true });
  // The replay's own platform decides the feature widths; quiet services unless LOG_LEVEL asks otherwise.
  const config = cliConfig({
    databaseUrl: (values.database as string | undefined) ?? `file:${join(dir, 'replay.db')}`,
    modelDir: join(dir, 'models'),
    featuresConfigured: { video: false, image: false },
    ...(process.env.LOG_LEVEL ? {} : { logLevel: 'warn' as const }),
  });
  const progress = pipelineProgress('replay: train');
  try {
    return await withServices(
      (s) =>
        replayExperiment(s, join(dir, 'platform'), {
          seed,
          size,
          signal: values.signal as string | undefined,
          experiment: name,
          attributionWindowSeconds: int('window', 1),
          threads,
          say: (line) => {
            progress.end();
            console.error(line);
          },
          onTrainProgress: (e) => {
            if (e.stage !== 'export') progress.onProgress(e);
          },
        }),
      config,
    );
  } finally {
    progress.end();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** The replay's figures under the report: the CTR gain, the per-genre verdicts, what was served, the time taken. */
function replayText(r: ReplayResult): string {
  const { ctr, tags, reach } = r.summary;
  const verdicts = (v: typeof tags) =>
    `better in ${v.better.length}, worse in ${v.worse.length}${v.worse.length ? ` (${v.worse.join(', ')})` : ''}, no significant difference in ${v.ties}` +
    (v.lowestGain ? `; lowest gain ${v.lowestGain.tag} ${pct(v.lowestGain.gain)} [${pct(v.lowestGain.low)}, ${pct(v.lowestGain.high)}]` : '');
  const lines = [
    `replay: seed ${r.seed}; ${r.platform.posts} posts (${r.platform.newPosts} uploaded during the replay), ${r.platform.users} users, ${r.platform.interactions} warm interactions; ${r.size.rounds} rounds of ${r.size.usersPerRound} users x ${r.size.first} recommendations`,
    `CTR gain of ${r.report.arms[1]?.arm ?? 'the test arm'} over ${r.report.arms[0]?.arm ?? 'the control'}: ${pct(ctr.gain)} [${pct(ctr.low)}, ${pct(ctr.high)}]${ctr.low !== null && ctr.low > 0 ? ' (interval above 0)' : ''}`,
    `per genre (${r.report.tags.length} tags), CTR of its impressions: ${verdicts(tags)}`,
    `per genre, clicks per arm user (reach): ${verdicts(reach)}`,
    `time: ${r.seconds.platform.toFixed(0)} s platform (simulate, import, train, activate), ${r.seconds.replay.toFixed(0)} s replay, ${r.seconds.total.toFixed(0)} s in all`,
  ];
  return lines.join('\n');
}

/** NAME:SOURCE[:SHARE]; without any share, equal shares of all users. */
export function parseArms(specs: readonly string[]): ArmInput[] {
  const parsed = specs.map((spec) => {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw new CliError(`--arm expects NAME:SOURCE[:SHARE], got "${spec}"`, ExitCode.USAGE);
    const share = parts[2] === undefined ? undefined : Number(parts[2]);
    if (share !== undefined && (parts[2].trim() === '' || !Number.isFinite(share))) throw new CliError(`--arm ${spec}: the share is a number, e.g. 0.5`, ExitCode.USAGE);
    return { name: parts[0], source: parts[1].toUpperCase(), share };
  });
  const given = parsed.filter((a) => a.share !== undefined).length;
  if (given > 0 && given < parsed.length) throw new CliError('give every --arm a share, or none (equal shares)', ExitCode.USAGE);
  return parsed.map((a) => ({ name: a.name, source: a.source, share: a.share ?? 1 / parsed.length }));
}

function summary(e: ExperimentView): string {
  const arms = e.arms.map((a) => `${a.name}=${a.source}:${Number(a.share.toFixed(4))}`).join(' ');
  return `${e.name.padEnd(24)} ${e.status.padEnd(8)} ${e.signal.padEnd(12)} ${arms}`;
}

function print(e: ExperimentView, json: boolean): void {
  console.log(json ? JSON.stringify(e) : summary(e));
}

const pct = (x: number | null) => (x === null ? '-' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`);
const num = (x: number | null) => (x === null ? '-' : x.toPrecision(4));

/** Table 3 as text: one row per arm, one column per metric (rate, then the gain over control with its interval). */
function reportText(r: ReportView): string {
  const metrics = r.arms[0]?.metrics.filter((m) => !m.signals.includes(m.metric) || m.metric === 'interactions_per_view').map((m) => m.metric) ?? [];
  const lines = [`experiment ${r.experiment.name}: signal ${r.experiment.signal}, ${r.experiment.status}, attribution window ${r.attributionWindowSeconds} s`, ''];
  // One block per arm, one line per metric: aligned columns without a terminal-wide table.
  const width = Math.max(...metrics.map((m) => m.length));
  for (const arm of r.arms) {
    lines.push(`${arm.arm} (${arm.control ? 'control, ' : ''}${arm.source}): ${arm.users} users, ${arm.impressions} impressions (${arm.videoImpressions} video)`);
    for (const name of metrics) {
      const m = arm.metrics.find((x) => x.metric === name)!;
      const rate = `${num(m.value)} [${num(m.low)}, ${num(m.high)}]  (${m.count} / ${m.views})`;
      lines.push(`  ${name.padEnd(width)}  ${arm.control ? rate : `${rate.padEnd(40)} gain ${pct(m.gain)} [${pct(m.gainLow)}, ${pct(m.gainHigh)}]`}`);
    }
  }
  const srm = r.sampleRatio;
  lines.push('', `sample ratio: chi-square ${srm.chiSquare.toFixed(2)} (${srm.degreesOfFreedom} df), p ${srm.pValue.toPrecision(3)}: ${srm.mismatch ? 'MISMATCH, do not trust the comparison' : 'ok'}`);
  if (r.clientImpressions || r.replacedServedImpressions) lines.push(`client-reported impressions: ${r.clientImpressions} (replacing ${r.replacedServedImpressions} logged ones)`);
  if (r.droppedImpressions) lines.push(`impressions dropped by the exposure log (buffer full): ${r.droppedImpressions}`);
  return lines.join('\n');
}
