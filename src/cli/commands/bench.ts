import { readdirSync } from 'node:fs';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { machineInfo, type Bench } from '../../bench/harness.js';

const benchDir = new URL('../../bench/', import.meta.url);

/** Benchmarks are the modules in src/bench/ other than the harness: `memer bench ffm` runs src/bench/ffm.ts. */
function available(): string[] {
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && f !== 'harness.ts')
    .map((f) => f.slice(0, -3))
    .sort();
}

export const command: Command = defineCommand({
  get help() {
    return [
      'Usage: memer bench <name> [--json] [--set key=value ...]',
      '',
      'Runs one benchmark and prints {"bench", "machine", "results": [{"name","value","unit","baseline","ratio"}]}.',
      'Each result may carry a baseline measured in the same run; ratio = value / baseline.',
      '',
      `Benchmarks: ${available().join(', ') || '(none yet)'}`,
      '',
      'Options:',
      '  --json           print only the JSON object on stdout (progress still goes to stderr)',
      '  --set key=value  benchmark-specific parameter (repeatable), e.g. --set rows=1000000',
    ].join('\n');
  },
  options: { json: { type: 'boolean' }, set: { type: 'string', multiple: true } },
  async run({ values, positionals }) {
    const name = positionals[0];
    if (!name) throw new CliError(`name a benchmark: ${available().join(', ')}`, ExitCode.USAGE);
    if (!available().includes(name)) throw new CliError(`unknown benchmark "${name}"; available: ${available().join(', ')}`, ExitCode.USAGE);
    const args: Record<string, string> = {};
    for (const pair of (values.set as string[] | undefined) ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new CliError(`--set expects key=value, got "${pair}"`, ExitCode.USAGE);
      args[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const { bench } = (await import(new URL(`${name}.ts`, benchDir).href)) as { bench: Bench };
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const results = await bench.run(args, log);
    const report = { bench: name, machine: machineInfo(), results };
    if (values.json) console.log(JSON.stringify(report));
    else {
      console.log(`bench ${name} on ${report.machine.cpus} x ${report.machine.cpuModel}, node ${report.machine.node}`);
      for (const r of results) {
        const base = r.baseline ? `   (baseline ${r.baseline.name}: ${fmt(r.baseline.value)}, ratio ${fmt(r.ratio ?? 0)})` : '';
        console.log(`  ${r.name.padEnd(40)} ${fmt(r.value).padStart(12)} ${r.unit}${base}`);
      }
    }
    return ExitCode.OK;
  },
});

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(4);
}
