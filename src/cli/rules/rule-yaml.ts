// Prometheus rule files as text. Hand-written rather than YAML.stringify so the generated files
// read like hand-written ones (expressions as literal blocks) and stay byte-stable for the test
// that compares the shipped rules with a fresh generation.

export interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export function toYaml(groups: readonly RuleGroup[], header: readonly string[]): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [...header.map((h) => `# ${h.replace(/\n/g, ' ')}`), 'groups:'];
  for (const group of groups) {
    lines.push(`  - name: ${q(group.name)}`, '    rules:');
    for (const r of group.rules) {
      lines.push(`      - alert: ${r.alert}`, '        expr: |-', ...r.expr.split('\n').map((l) => `          ${l}`));
      if (r.for) lines.push(`        for: ${r.for}`);
      lines.push('        labels:');
      for (const [k, v] of Object.entries(r.labels)) lines.push(`          ${k}: ${q(v)}`);
      lines.push('        annotations:');
      for (const [k, v] of Object.entries(r.annotations)) lines.push(`          ${k}: ${q(v)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
