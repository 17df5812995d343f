import { writeFileSync } from 'node:fs';
import type { ArmInput } from '../../domain/experiments/experiment.validation.js';
import type { ExperimentStatus } from '../../domain/experiments/experiment.types.js';
import { experimentView, reportView, type ExperimentView, type ReportView } from '../../domain/experiments/views.js';
import { renderReportHtml } from '../../domain/experiments/report-html.js';
import { choice, intAtLeast } from '../args.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { withServices } from '../context.js';

const STATUSES: readonly ExperimentStatus[] = ['DRAFT', 'RUNNING', 'STOPPED'];

export const command: Command = defineCommand({
  help: [
    'Usage: memer experiment create NAME --signal S --arm NAME:SOURCE[:SHARE] --arm ... [--window SECONDS]',
    '                               [--description TEXT] [--draft] [--json]',
    '       memer experiment start NAME [--json]',
    '       memer experiment stop NAME [--json]',
    '       memer experiment list [--status DRAFT|RUNNING|STOPPED] [--signal S] [--json]',
    '       memer experiment report NAME [--window SECONDS] [--json] [--html OUT.html]',
    '',
    "Online experiments on the ranking of a signal's early-stage posts (docs/experiments.md). Each --arm names an arm,",
    'the source that ranks its early-stage posts (MEMER, TAG_AVG, GLOBAL_AVG or RANDOM) and its share of users (a',
    'fraction; omitted on every arm: equal shares of all users). The first arm is the control. Users are assigned by a',
    'hash of (experiment, user id). At most one experiment runs per signal (exit 5 otherwise). Running servers pick',
    'changes up within MEMER_REFRESH_MS.',
    '',
    'Options:',
    '  --signal S        the signal whose recommendations the experiment ranks',
    '  --arm A:SRC[:F]   an arm (repeat; 2 to 16), e.g. --arm control:TAG_AVG:0.5 --arm memer:MEMER:0.5',
    '  --window SECONDS  attribution window (create: default 86400; report: overrides the experiment\'s)',
    '  --draft           create without starting (start it with `memer experiment start NAME`)',
    '  --json            print JSON on stdout (report: the experimentReport query\'s shape)',
    '  --html OUT        report: also write an HTML report (Table 3 and the per-tag breakdown, with intervals)',
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
      default:
        throw new CliError(`expected create, start, stop, list or report\n\n${command.help}`, ExitCode.USAGE);
    }
  },
});

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
