// From rule to inbox, one test per route: instrumented apps answer a share of requests with 5xx;
// their metrics go through our Collector to the real Prometheus, which evaluates the
// HttpErrorRatioHigh rules and notifies the real Alertmanager running the shipped config (rendered
// from the environment by render-config.sh), which delivers
//   warning  -> Slack (a local webhook receiver that checks the exact payload), no email;
//   critical -> Slack and email (a local aiosmtpd SMTP sink).
//
// Prometheus runs a test-rendered copy of the rules: the same generator and the shipped
// thresholds (1 % / 5 %), with only the timing shortened (rate window 30s, `for: 10s` instead of
// 5m) so the test takes about a minute, and only the HttpErrorRatioHigh rules, so that host alerts
// on a busy CI machine cannot join the same notification group. promtool proves the shipped timing.
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thresholdRuleGroups } from '../../src/cli/rules/threshold-rules.js';
import { toYaml } from '../../src/cli/rules/rule-yaml.js';
import { readThresholdsFile } from '../../src/cli/rules/thresholds.js';
import { startApp, type RunningApp } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { abs, startAlertmanager, startCollector, startPrometheus, type RunningAlertmanager } from '../helpers/stack.js';

interface SlackPost {
  path: string;
  body: any;
}
const slack: SlackPost[] = [];
let slackUrl: string;
let smtp: SmtpSink;
let alertmanager: RunningAlertmanager;
const timers: NodeJS.Timeout[] = [];

function testRules(): string {
  const t = readThresholdsFile(abs('deploy/prometheus/thresholds.yaml'));
  t.http.window = '30s';
  t.http.errorRatio!.warning.for = '10s';
  t.http.errorRatio!.critical.for = '10s';
  const groups = thresholdRuleGroups(t)
    .map((g) => ({ ...g, rules: g.rules.filter((r) => r.alert === 'HttpErrorRatioHigh') }))
    .filter((g) => g.rules.length > 0);
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-delivery-rules-'));
  writeFileSync(join(dir, 'otel-monitor.yml'), toYaml(groups, ['test copy: shortened timing']));
  return dir;
}

/** Requests to /orders/:id every 100 ms, every `failEvery`-th of them answered 500. */
function traffic(app: RunningApp, failEvery: number): void {
  let i = 0;
  const timer = setInterval(() => {
    i++;
    void app.get(`/orders/${i}${i % failEvery === 0 ? '?fail=1' : ''}`).then((r) => r.arrayBuffer(), () => undefined);
  }, 100);
  timers.push(timer);
}

beforeAll(async () => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      slack.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  slackUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/services/T000/B000/XXXX`;
  server.unref();
  smtp = await startSmtpSink();
  alertmanager = await startAlertmanager({
    ALERTMANAGER_SLACK_WEBHOOK_URL: slackUrl,
    ALERTMANAGER_SLACK_CHANNEL: '#ops-alerts',
    ALERTMANAGER_EMAIL_TO: 'oncall@example.test',
    ALERTMANAGER_SMTP_FROM: 'alertmanager@example.test',
    ALERTMANAGER_SMTP_SMARTHOST: smtp.smarthost,
    ALERTMANAGER_SMTP_REQUIRE_TLS: 'false',
  });
  const collector = await startCollector();
  await startPrometheus({ collector, alertmanagerUrl: alertmanager.url, rulesDir: testRules() });
  const env = (service: string, release: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
    OTEL_SERVICE_NAME: service,
    OTEL_RESOURCE_ATTRIBUTES: `service.version=${release},deployment.environment.name=test`,
    OTEL_MONITOR_HOST_METRICS: 'false',
  });
  // shop 1.4.2: 1 in 33 requests fails (3 %): above the warning level, below the critical one.
  traffic(await startApp({ script: 'test/fixtures/alert-app.mjs', env: env('shop', '1.4.2') }), 33);
  // pay 2.0.0: 1 in 5 fails (20 %): critical.
  traffic(await startApp({ script: 'test/fixtures/alert-app.mjs', env: env('pay', '2.0.0') }), 5);
}, 300_000);

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  await stopAll();
});

const forService = (service: string) => slack.filter((p) => p.body.attachments?.[0]?.title?.includes(` ${service} `));

describe('alert delivery through the real Prometheus and Alertmanager', () => {
  it('warning: the Slack webhook gets exactly our payload, and no email is sent', async () => {
    const post = await waitFor(() => forService('shop')[0], { timeoutMs: 180_000, intervalMs: 1000, what: 'the Slack notification for shop' });
    expect(post.path).toBe('/services/T000/B000/XXXX');
    expect(post.body).toEqual({
      channel: '#ops-alerts',
      username: 'otel-monitor',
      attachments: [
        {
          title: '[FIRING] shop 1.4.2: HttpErrorRatioHigh',
          text: expect.stringMatching(/^\[warning\] shop 1\.4\.2 \(test\) route \/orders\/:id: [1-4](\.\d+)?% of requests failed \(5xx\) over 30s, above 1% for 10s\.\n$/),
          fallback: '[FIRING] shop 1.4.2: HttpErrorRatioHigh',
          color: 'warning',
          // Alertmanager always sends these two, empty unless configured.
          callback_id: '',
          footer: '',
          mrkdwn_in: ['fallback', 'pretext', 'text'],
        },
      ],
    });
    // The email route would have been notified in the same flush; give it time to show up anyway.
    await new Promise((r) => setTimeout(r, 3000));
    expect(smtp.mails().filter((m) => m.subject.includes(' shop '))).toEqual([]);
  });

  it('critical: Slack and an email in the SMTP sink', async () => {
    const mail = await waitFor(() => smtp.mails().find((m) => m.subject.includes(' pay ')), { timeoutMs: 180_000, intervalMs: 1000, what: 'the email for pay' });
    expect(mail).toMatchObject({
      mail_from: 'alertmanager@example.test',
      rcpt_tos: ['oncall@example.test'],
      to: 'oncall@example.test',
      subject: '[FIRING] pay 2.0.0: HttpErrorRatioHigh',
      html: true,
    });
    expect(mail.text).toMatch(/^\[critical\] pay 2\.0\.0 \(test\) route \/orders\/:id: [12]\d(\.\d+)?% of requests failed \(5xx\) over 30s, above 5% for 10s\.\r?\n$/);
    const post = await waitFor(() => forService('pay').find((p) => p.body.attachments[0].text.startsWith('[critical]')), {
      timeoutMs: 120_000,
      intervalMs: 1000,
      what: 'the critical Slack notification for pay',
    });
    expect(post.body.attachments[0]).toMatchObject({ title: '[FIRING] pay 2.0.0: HttpErrorRatioHigh', color: 'danger' });
    // The warning of the same alert is inhibited by the critical one: the critical text stands alone.
    expect(post.body.attachments[0].text.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
