/**
 * The online replay (`memer experiment simulate`, domain/experiments/replay.ts) at its tiny size, on SQLite: the
 * report's impressions are exactly what the service served (overall and per tag), its counts are exactly the
 * positives the replay recorded (read back from the database), and two replays with the same seed serve the same
 * posts to the same users and report the same figures.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadConfig } from '../../../src/config/config.js';
import { openDatabase } from '../../../src/data/db.js';
import { migrate } from '../../../src/data/migrate.js';
import { SIGNALS } from '../../../src/datasets/simulator/index.js';
import type { ExperimentReport } from '../../../src/domain/experiments/report.js';
import { REPLAY_SIZES, replayExperiment, type ReplayResult, type ServedResponse } from '../../../src/domain/experiments/replay.js';
import { Services } from '../../../src/domain/services.js';
import { createLogger } from '../../../src/lib/logger.js';
import { tempDatabase, type TempDatabase } from '../../helpers/databases.js';

const SEED = 7;

interface Run {
  result: ReplayResult;
  served: ServedResponse[];
  /** Positive interactions recorded during the replay, per arm and signal, read back from the database. */
  recorded: Map<string, Map<string, number>>;
}

async function replay(seed: number): Promise<Run> {
  const temp: TempDatabase = await tempDatabase('sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'memer-replay-test-'));
  const config = loadConfig({}, { databaseUrl: temp.url, modelDir: join(dir, 'models') });
  await migrate(config.databaseUrl);
  const services = new Services(await openDatabase(config.databaseUrl), config, createLogger('error', () => undefined));
  try {
    const served: ServedResponse[] = [];
    const result = await replayExperiment(services, join(dir, 'platform'), { seed, size: REPLAY_SIZES.tiny, threads: 1, onServed: (s) => served.push(s) });
    // Every interaction the replay recorded is newer than the experiment's start; the warm history is years older.
    const { prisma } = services.db;
    const started = (await prisma.experiment.findUniqueOrThrow({ where: { name: result.experiment } })).startedAt!;
    const armOf = new Map(served.filter((s) => s.recommendations.length).map((s) => [s.userId, s.recommendations[0].arm!]));
    const rows = await prisma.interaction.findMany({ where: { timestamp: { gte: started }, label: 1 }, select: { user: { select: { externalId: true } }, signal: { select: { name: true } } } });
    const recorded = new Map<string, Map<string, number>>();
    for (const r of rows) {
      const arm = armOf.get(r.user.externalId)!;
      const m = recorded.get(arm) ?? recorded.set(arm, new Map()).get(arm)!;
      m.set(r.signal.name, (m.get(r.signal.name) ?? 0) + 1);
    }
    return { result, served, recorded };
  } finally {
    await services.close();
    await temp.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report without what differs between two runs by nature: times, database keys, the training run's name. */
function comparable(r: ExperimentReport) {
  return { arms: r.arms, sampleRatio: r.sampleRatio, tags: r.tags, clientImpressions: r.clientImpressions, replacedServedImpressions: r.replacedServedImpressions, droppedImpressions: r.droppedImpressions };
}

describe('the online replay (tiny)', () => {
  let first: Run;
  before(async () => {
    first = await replay(SEED);
  });

  test('the report counts exactly what was served: users, impressions, video impressions, per tag', () => {
    const { report } = first.result;
    const size = REPLAY_SIZES.tiny;
    assert.equal(first.served.length, size.rounds * size.usersPerRound);
    assert.equal(report.experiment.status, 'STOPPED');
    assert.equal(report.droppedImpressions, 0);
    assert.deepEqual(report.arms.map((a) => [a.arm, a.source]), [['control', 'TAG_AVG'], ['memer', 'MEMER']]);
    for (const arm of report.arms) {
      const responses = first.served.filter((s) => s.recommendations[0]?.arm === arm.arm);
      const shown = responses.flatMap((s) => s.recommendations);
      assert.ok(shown.length > 0, arm.arm);
      assert.equal(arm.users, new Set(responses.map((s) => s.userId)).size, `${arm.arm} users`);
      assert.equal(arm.impressions, shown.length, `${arm.arm} impressions`);
      assert.equal(arm.videoImpressions, shown.filter((r) => r.post.mediaType === 'VIDEO').length, `${arm.arm} video impressions`);
      assert.ok(shown.every((r) => r.experiment === first.result.experiment && r.arm === arm.arm));
      // No user is shown a post twice: every positive belongs to exactly one impression.
      const pairs = new Set(responses.flatMap((s) => s.recommendations.map((r) => `${s.userId} ${r.post.id}`)));
      assert.equal(pairs.size, shown.length, `${arm.arm}: a post shown twice to a user`);
      const tally = first.result.served.find((t) => t.arm === arm.arm)!;
      assert.deepEqual([tally.users, tally.impressions, tally.videoImpressions], [arm.users, arm.impressions, arm.videoImpressions]);
    }
    assert.ok(report.tags.length > 0);
    for (const t of report.tags) {
      report.arms.forEach((arm, a) => {
        const shown = first.served.filter((s) => s.recommendations[0]?.arm === arm.arm).flatMap((s) => s.recommendations.map((r, i) => ({ r, o: s.outcomes[i] })));
        const withTag = shown.filter(({ r }) => r.post.tags.includes(t.tag));
        assert.equal(t.arms[a].impressions, withTag.length, `${t.tag} ${arm.arm} impressions`);
        const ctr = t.arms[a].metrics.find((m) => m.metric === 'ctr')!;
        assert.deepEqual([ctr.count, ctr.views], [withTag.filter(({ o }) => o[0] === 1).length, withTag.length], `${t.tag} ${arm.arm} clicks`);
      });
    }
  });

  test("the report's counts are the positives recorded, per arm and signal, and the outcomes drawn", () => {
    const { report } = first.result;
    for (const arm of report.arms) {
      const outcomes = first.served.filter((s) => s.recommendations[0]?.arm === arm.arm).flatMap((s) => s.outcomes);
      const tally = first.result.served.find((t) => t.arm === arm.arm)!;
      for (const [k, signal] of SIGNALS.entries()) {
        const m = arm.metrics.find((x) => x.metric === signal)!;
        const drawn = outcomes.reduce((n, o) => n + o[k], 0);
        assert.equal(m.count, first.recorded.get(arm.arm)?.get(signal) ?? 0, `${arm.arm} ${signal}: recorded`);
        assert.equal(m.count, drawn, `${arm.arm} ${signal}: drawn`);
        assert.equal(tally.positives[signal], drawn, `${arm.arm} ${signal}: tallied`);
        assert.equal(m.views, signal === 'video_play' || signal === 'skip' ? arm.videoImpressions : arm.impressions, `${arm.arm} ${signal} views`);
      }
      const ctr = arm.metrics.find((m) => m.metric === 'ctr')!;
      assert.ok(Math.abs(ctr.value! - ctr.count / arm.impressions) < 1e-12);
      const engagements = arm.metrics.find((m) => m.metric === 'engagements_per_view')!;
      assert.equal(engagements.count, tally.positives.like + tally.positives.share + tally.positives.favorite);
    }
    const clicks = first.served.reduce((n, s) => n + s.outcomes.reduce((c, o) => c + o[0], 0), 0);
    assert.ok(clicks > 0, 'someone clicked');
    assert.equal(first.result.summary.ctr.gain, report.arms[1].metrics.find((m) => m.metric === 'ctr')!.gain);
  });

  test('the same seed replays the same traffic and the same report', async () => {
    const second = await replay(SEED);
    const trace = (r: Run) => r.served.map((s) => `${s.round} ${s.userId}: ${s.recommendations.map((x, i) => `${x.post.id}/${x.source}/${[...s.outcomes[i]].join('')}`).join(' ')}`);
    assert.deepEqual(trace(second), trace(first));
    assert.deepEqual(comparable(second.result.report), comparable(first.result.report));
    assert.deepEqual(second.result.served, first.result.served);
  });
});
