/**
 * Online experiments end to end, on SQLite and on PostgreSQL: an experiment with a TAG_AVG control and a MEMER test
 * arm is created; users of both arms get recommendations ranked by their arm's source (and named by experiment and
 * arm); they click, like and play some of what they were served (and some things they were not, or too early, or too
 * late); the report, through GraphQL and `memer experiment report --json`, counts exactly what was served and
 * clicked. Client-reported impressions then replace a user's logged ones.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bucketOf } from '../../src/domain/experiments/assignment.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const bin = new URL('../../bin/memer.js', import.meta.url).pathname;
const M = 3;
const WINDOW = 3600;
const NAME = 'tag-vs-memer';
const MATURE = [...Array.from({ length: 5 }, (_, i) => `m-jazz-${i}`), ...Array.from({ length: 5 }, (_, i) => `m-rock-${i}`)];
const EARLY = Array.from({ length: 8 }, (_, i) => `e-${i}`);
const USERS = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, '0')}`);
const tagOf = (id: string) => (id.includes('jazz') || (id.startsWith('e-') && Number(id.slice(2)) % 2 === 0) ? 'jazz' : 'rock');
const mediaOf = (id: string) => (id === 'e-6' || id === 'e-7' ? 'IMAGE' : 'VIDEO');
const matureVector = (id: string) => {
  const i = Number(id.split('-')[2]);
  return tagOf(id) === 'jazz' ? [1, 0, i / 10, 0] : [0, 1, i / 10, 0];
};
const memerVector = (id: string) => [0.5, 0.5, 0, (Number(id.slice(2)) + 1) / 4];
const userVector = (u: string) => {
  const i = Number(u.slice(1));
  return [Math.cos(i), Math.sin(i), 0.3, ((i % 5) - 2) / 2];
};
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
const mean = (vs: number[][]) => vs[0].map((_, j) => vs.reduce((s, v) => s + v[j], 0) / vs.length);

const CREATE = `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { name signal status attributionWindowSeconds arms { name share source control } } }`;
const RECOMMEND = `query($u: ID!) { recommendations(userId: $u, signal: "click", first: 4, stage: EARLY) { post { id mediaType } score source strategy experiment arm } }`;
const REPORT = `query($n: String!) { experimentReport(name: $n) {
  experiment { name status } attributionWindowSeconds clientImpressions replacedServedImpressions droppedImpressions
  arms { arm control source users impressions videoImpressions imageImpressions metrics { metric signals count views value low high gain gainLow gainHigh } }
  sampleRatio { chiSquare degreesOfFreedom pValue mismatch threshold arms { arm users expectedShare observedShare } }
  tags { tag impressions arms { arm impressions metrics { metric count views } } } } }`;
const INTERACT = `mutation($x: [InteractionInput!]!) { recordInteractions(inputs: $x) { recorded } }`;

type Rec = { post: { id: string; mediaType: string }; score: number; source: string; strategy: string; experiment: string | null; arm: string | null };
type Metric = { metric: string; count: number; views: number; value: number | null; gain: number | null; gainLow: number | null; gainHigh: number | null };
type Arm = { arm: string; users: number; impressions: number; videoImpressions: number; imageImpressions: number; metrics: Metric[] };

for (const provider of PROVIDERS) {
  describe(`online experiments end to end on ${provider}`, () => {
    let h: Harness;
    /** What each user was served (in order) and when the request started. */
    const served = new Map<string, { recs: Rec[]; at: Date }>();
    /** Expected attributed counts per arm and signal (impression-signal pairs). */
    const expected = new Map<string, Map<string, number>>();
    const count = (arm: string, signal: string) => {
      const m = expected.get(arm) ?? new Map<string, number>();
      expected.set(arm, m);
      m.set(signal, (m.get(signal) ?? 0) + 1);
    };
    const memer = (...args: string[]) => {
      const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, DATABASE_URL: h.services.config.databaseUrl }, encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    before(async () => {
      h = await harness(provider);
      await h.ok(`mutation($x: [RegisterPostInput!]!) { registerPosts(inputs: $x) { id } }`, {
        x: [...MATURE, ...EARLY].map((id) => ({ id, mediaType: mediaOf(id), tags: [tagOf(id)] })),
      });
      // Mature posts: M views each from a crowd, a MATURE vector and a threshold; early posts: a MEMER vector.
      const crowd = MATURE.flatMap((id) => Array.from({ length: M }, (_, k) => ({ userId: `crowd${k}`, postId: id, signal: 'click', timestamp: '2026-01-01T00:00:00Z' })));
      await h.ok(INTERACT, { x: crowd });
      const { prisma } = h.services.db;
      const click = (await prisma.signal.findUniqueOrThrow({ where: { name: 'click' } })).id;
      for (const mediaType of ['VIDEO', 'IMAGE'] as const) await prisma.maturityThreshold.create({ data: { signalId: click, mediaType, threshold: M } });
      const posts = new Map((await prisma.post.findMany({ select: { id: true, externalId: true } })).map((p) => [p.externalId, p.id]));
      await prisma.postEmbedding.createMany({ data: MATURE.map((id) => ({ postId: posts.get(id)!, signalId: click, source: 'MATURE' as const, dim: 4, vector: vectorToBytes(matureVector(id)), views: M })) });
      await prisma.postEmbedding.createMany({ data: EARLY.map((id) => ({ postId: posts.get(id)!, signalId: click, source: 'MEMER' as const, dim: 4, vector: vectorToBytes(memerVector(id)) })) });
      await prisma.user.createMany({ data: USERS.map((externalId) => ({ externalId })) });
      const users = await prisma.user.findMany({ where: { externalId: { in: USERS } } });
      await prisma.userEmbedding.createMany({ data: users.map((u) => ({ userId: u.id, signalId: click, dim: 4, vector: vectorToBytes(userVector(u.externalId)) })) });
      h.services.baselines.invalidate(click);
    });
    after(() => h.close());

    test('createExperiment starts it; a second one on the signal is a CONFLICT; a retried create returns it', async () => {
      const input = { name: NAME, signal: 'click', attributionWindowSeconds: WINDOW, arms: [{ name: 'control', share: 0.5, source: 'TAG_AVG' }, { name: 'memer', share: 0.5, source: 'MEMER' }] };
      const { createExperiment: e } = await h.ok(CREATE, { i: input });
      assert.deepEqual(e, { name: NAME, signal: 'click', status: 'RUNNING', attributionWindowSeconds: WINDOW, arms: [{ name: 'control', share: 0.5, source: 'TAG_AVG', control: true }, { name: 'memer', share: 0.5, source: 'MEMER', control: false }] });
      assert.deepEqual((await h.ok(CREATE, { i: input })).createExperiment, e, 'the same definition again is a no-op');
      const other = await h.fails('CONFLICT', CREATE, { i: { ...input, name: 'another' } });
      assert.equal(other.extensions.running, NAME);
      assert.match(other.message, /already running for signal click/);
      await h.fails('CONFLICT', CREATE, { i: { ...input, arms: [input.arms[0], { ...input.arms[1], share: 0.4 }] } });
      await h.fails('BAD_USER_INPUT', CREATE, { i: { ...input, name: 'x', arms: [input.arms[0], { name: 'mature', share: 0.5, source: 'MATURE' }] } });
      await h.fails('BAD_USER_INPUT', CREATE, { i: { ...input, name: 'x', arms: [input.arms[0], { ...input.arms[1], share: 0.6 }] } });
      await h.fails('FORBIDDEN', CREATE, { i: { ...input, name: 'y' } }, h.keys.write);
      // A draft on the signal is fine; starting it while the first runs is not.
      await h.ok(CREATE, { i: { ...input, name: 'draft', start: false } });
      await h.fails('CONFLICT', `mutation { startExperiment(name: "draft") { status } }`);
      const list = (await h.ok(`{ experiments { name status } }`)).experiments;
      assert.deepEqual(list, [{ name: 'draft', status: 'DRAFT' }, { name: NAME, status: 'RUNNING' }]);
      assert.deepEqual((await h.ok(`{ experiments(status: RUNNING) { name } }`)).experiments, [{ name: NAME }]);
    });

    test('each user gets their arm, ranked by its source, and the results name the experiment and arm', async () => {
      const tagAvg = { jazz: mean(MATURE.filter((id) => tagOf(id) === 'jazz').map(matureVector)), rock: mean(MATURE.filter((id) => tagOf(id) === 'rock').map(matureVector)) };
      for (const u of USERS) {
        const at = new Date();
        const recs: Rec[] = (await h.ok(RECOMMEND, { u })).recommendations;
        served.set(u, { recs, at });
        const arm = bucketOf(NAME, u) < 0.5 ? 'control' : 'memer';
        assert.equal(recs.length, 4, u);
        for (const r of recs) {
          assert.equal(r.experiment, NAME);
          assert.equal(r.arm, arm, u);
          assert.equal(r.strategy, 'EMBEDDING');
          // Control: every early post by its tag average; test: by its MEMER vector, as outside the experiment.
          assert.equal(r.source, arm === 'control' ? 'TAG_AVG' : 'MEMER', `${u} ${r.post.id}`);
          const v = arm === 'control' ? tagAvg[tagOf(r.post.id) as 'jazz' | 'rock'] : memerVector(r.post.id);
          assert.ok(Math.abs(r.score - dot(userVector(u), v)) < 1e-5, `${u} ${r.post.id}: ${r.score}`);
        }
        const scores = recs.map((r) => r.score);
        assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
        const { user } = await h.ok(`query($u: ID!) { user(id: $u) { experiments { name signal arm source } } }`, { u });
        assert.deepEqual(user.experiments, [{ name: NAME, signal: 'click', arm, source: arm === 'control' ? 'TAG_AVG' : 'MEMER' }]);
      }
      const arms = new Set([...served.values()].map((s) => s.recs[0].arm));
      assert.deepEqual([...arms].sort(), ['control', 'memer'], 'both arms have users');
      // Mature posts keep their MATURE embedding in both arms.
      const all: Rec[] = (await h.ok(`{ recommendations(userId: "${USERS[0]}", signal: "click", first: 30, stage: MATURE) { post { id mediaType } score source strategy experiment arm } }`)).recommendations;
      assert.ok(all.length === MATURE.length && all.every((r) => r.source === 'MATURE'));
      served.set(`${USERS[0]}#mature`, { recs: all, at: new Date() });
    });

    test('interactions: the attributed ones are counted exactly, the others not at all', async () => {
      const inputs: { userId: string; postId: string; signal: string; label?: number; timestamp?: string }[] = [];
      USERS.forEach((u, i) => {
        const { recs, at } = served.get(u)!;
        const arm = recs[0].arm!;
        const first = recs[0].post;
        inputs.push({ userId: u, postId: first.id, signal: 'click' });
        count(arm, 'click');
        if (i % 3 === 0) {
          inputs.push({ userId: u, postId: first.id, signal: 'click' }); // a second click on one impression: once
          inputs.push({ userId: u, postId: first.id, signal: 'like' });
          count(arm, 'like');
        }
        const video = recs.find((r) => r.post.mediaType === 'VIDEO');
        if (i % 4 === 0 && video) {
          inputs.push({ userId: u, postId: video.post.id, signal: 'video_play' });
          count(arm, 'video_play');
        }
        // Not counted: a post the user was not served, a click before the impression, one after the window, a negative.
        const unserved = EARLY.find((id) => mediaOf(id) === 'VIDEO' && !recs.some((r) => r.post.id === id))!;
        inputs.push({ userId: u, postId: unserved, signal: 'click' });
        inputs.push({ userId: u, postId: recs[1].post.id, signal: 'click', timestamp: new Date(at.getTime() - 60_000).toISOString() });
        inputs.push({ userId: u, postId: recs[2].post.id, signal: 'click', timestamp: new Date(at.getTime() + 2 * WINDOW * 1000).toISOString() });
        inputs.push({ userId: u, postId: recs[3].post.id, signal: 'click', label: 0 });
      });
      await h.ok(INTERACT, { x: inputs });

      const report = (await h.ok(REPORT, { n: NAME })).experimentReport;
      assert.equal(report.attributionWindowSeconds, WINDOW);
      assert.equal(report.droppedImpressions, 0);
      const byArm = new Map<string, Arm>(report.arms.map((a: Arm) => [a.arm, a]));
      for (const arm of ['control', 'memer']) {
        const lists = [...served.entries()].filter(([, s]) => s.recs[0]?.arm === arm).map(([, s]) => s.recs);
        const users = new Set([...served.keys()].filter((k) => served.get(k)!.recs[0]?.arm === arm).map((k) => k.split('#')[0]));
        const impressions = lists.flat();
        const video = impressions.filter((r) => r.post.mediaType === 'VIDEO').length;
        const a = byArm.get(arm)!;
        assert.equal(a.users, users.size, arm);
        assert.equal(a.impressions, impressions.length, arm);
        assert.equal(a.videoImpressions, video, arm);
        assert.equal(a.imageImpressions, impressions.length - video, arm);
        const metric = (name: string) => a.metrics.find((m) => m.metric === name)!;
        const want = (s: string) => expected.get(arm)?.get(s) ?? 0;
        assert.deepEqual([metric('ctr').count, metric('ctr').views], [want('click'), impressions.length], `${arm} ctr`);
        assert.equal(metric('click').count, want('click'));
        assert.deepEqual([metric('like').count, metric('engagements_per_view').count], [want('like'), want('like')], `${arm} likes`);
        assert.deepEqual([metric('plays_per_view').count, metric('plays_per_view').views], [want('video_play'), video], `${arm} plays per video view`);
        assert.equal(metric('skips_per_view').count, 0);
        assert.equal(metric('interactions_per_view').count, want('click') + want('like') + want('video_play'));
        assert.ok(Math.abs(metric('ctr').value! - want('click') / impressions.length) < 1e-12);
        if (arm === 'control') assert.equal(metric('ctr').gain, null);
        else {
          const control = byArm.get('control')!.metrics.find((m) => m.metric === 'ctr')!;
          assert.ok(Math.abs(metric('ctr').gain! - (metric('ctr').value! / control.value! - 1)) < 1e-12);
          assert.ok(metric('ctr').gainLow! <= metric('ctr').gain! && metric('ctr').gain! <= metric('ctr').gainHigh!);
        }
      }
      assert.equal(report.sampleRatio.degreesOfFreedom, 1);
      assert.equal(report.sampleRatio.mismatch, false, JSON.stringify(report.sampleRatio));
      assert.deepEqual(report.sampleRatio.arms.map((a: { expectedShare: number }) => a.expectedShare), [0.5, 0.5]);
      assert.deepEqual(report.tags.map((t: { tag: string }) => t.tag).sort(), ['jazz', 'rock']);
      const tagged = report.tags.reduce((n: number, t: { impressions: number }) => n + t.impressions, 0);
      assert.equal(tagged, report.arms.reduce((n: number, a: Arm) => n + a.impressions, 0), 'every post has one tag');

      // The CLI reads the same report from the database.
      await h.services.experiments.exposures.flush();
      const cli = memer('experiment', 'report', NAME, '--json');
      assert.equal(cli.code, 0, cli.stderr);
      const fromCli = JSON.parse(cli.stdout);
      assert.deepEqual(
        fromCli.arms.map((a: Arm) => [a.arm, a.users, a.impressions, a.metrics.map((m) => [m.metric, m.count, m.views])]),
        report.arms.map((a: Arm) => [a.arm, a.users, a.impressions, a.metrics.map((m) => [m.metric, m.count, m.views])]),
      );
      const html = join(mkdtempSync(join(tmpdir(), 'memer-report-')), 'report.html');
      const text = memer('experiment', 'report', NAME, '--html', html);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /sample ratio: .*ok/);
      assert.match(text.stdout, /ctr\s+0\.\d+ \[/);
      const page = readFileSync(html, 'utf8');
      assert.match(page, /Results per arm \(Table 3\)/);
      assert.match(page, /<svg[\s\S]*jazz[\s\S]*<\/svg>/, 'the per-tag forest plot');
      rmSync(dirname(html), { recursive: true, force: true });
    });

    test('impressions a client reports replace that user\'s logged ones', async () => {
      const u = USERS.find((x) => served.get(x)!.recs[0].arm === 'control' && x !== USERS[0])!;
      const { recs, at } = served.get(u)!;
      const before = (await h.ok(REPORT, { n: NAME })).experimentReport;
      const control = (r: { arms: Arm[] }) => r.arms.find((a) => a.arm === 'control')!;
      const shownAt = new Date(at.getTime() - 1).toISOString();
      const result = await h.ok(`mutation($x: [ImpressionInput!]!) { recordImpressions(inputs: $x) { recorded } }`, {
        x: [{ experiment: NAME, userId: u, postId: recs[0].post.id, position: 0, shownAt, source: 'TAG_AVG' }],
      });
      assert.equal(result.recordImpressions.recorded, 1);
      const afterReport = (await h.ok(REPORT, { n: NAME })).experimentReport;
      assert.equal(afterReport.clientImpressions, 1);
      assert.equal(afterReport.replacedServedImpressions, recs.length);
      assert.equal(control(afterReport).impressions, control(before).impressions - recs.length + 1);
      const ctr = (r: { arms: Arm[] }) => control(r).metrics.find((m) => m.metric === 'ctr')!.count;
      assert.equal(ctr(afterReport), ctr(before), 'the click on the displayed post still counts');
      const bad = await h.fails('BAD_USER_INPUT', `mutation($x: [ImpressionInput!]!) { recordImpressions(inputs: $x) { recorded } }`, {
        x: [{ experiment: NAME, userId: u, postId: recs[0].post.id, position: 0 }, { experiment: 'nope', userId: u, postId: recs[0].post.id, position: 1 }],
      });
      assert.equal(bad.extensions.index, 1);
    });

    test('stopExperiment: users get AUTO rankings again, with no experiment named; the report stays', async () => {
      const cli = memer('experiment', 'list', '--status', 'RUNNING', '--json');
      assert.equal(cli.code, 0, cli.stderr);
      assert.deepEqual(JSON.parse(cli.stdout).map((e: { name: string }) => e.name), [NAME]);
      const { stopExperiment } = await h.ok(`mutation { stopExperiment(name: "${NAME}") { status stoppedAt } }`);
      assert.equal(stopExperiment.status, 'STOPPED');
      const u = USERS.find((x) => served.get(x)!.recs[0].arm === 'control')!;
      const recs: Rec[] = (await h.ok(`{ recommendations(userId: "${u}", signal: "click", first: 3, stage: EARLY) { post { id mediaType } score source strategy experiment arm } }`)).recommendations;
      assert.ok(recs.length > 0 && recs.every((r) => r.experiment === null && r.arm === null && r.source === 'MEMER'));
      assert.deepEqual((await h.ok(`{ user(id: "${u}") { experiments { name } } }`)).user.experiments, []);
      const report = (await h.ok(REPORT, { n: NAME })).experimentReport;
      assert.equal(report.experiment.status, 'STOPPED');
      await h.fails('NOT_FOUND', REPORT, { n: 'missing' });
      // The signal is free again: the draft starts now.
      assert.equal((await h.ok(`mutation { startExperiment(name: "draft") { status } }`)).startExperiment.status, 'RUNNING');
      await h.fails('CONFLICT', `mutation { startExperiment(name: "${NAME}") { status } }`);
    });
  });
}
