/**
 * The Go-template subset the Temporal image's config template uses, with dockerize's semantics. Checked byte for byte
 * against Go's text/template (with dockerize's `default`) on the real docker/config_template.yaml of server 1.29.1
 * under four environments when it was written; these cases pin the behaviours that matter.
 */
import { describe, expect, it } from 'vitest';
import { renderGoTemplate } from '../../src/dev/go-template.js';

describe('renderGoTemplate', () => {
  it('default: the variable when set (even empty), the fallback only when unset', () => {
    const t = 'a={{ default .Env.A "x" }} b={{ default .Env.B "y" }}';
    expect(renderGoTemplate(t, { A: '1' })).toBe('a=1 b=y');
    expect(renderGoTemplate(t, { A: '' })).toBe('a= b=y');
  });

  it('prints a missing variable as Go does', () => {
    expect(renderGoTemplate('[{{ .Env.NOPE }}]', {})).toBe('[<no value>]');
  });

  it('trims whitespace around {{- and -}}, and drops comments', () => {
    expect(renderGoTemplate('a  \n  {{- "b" -}}  \n  c{{/* note */}}', {})).toBe('abc');
  });

  it('assigns variables and pipes values through functions', () => {
    expect(renderGoTemplate('{{- $db := default .Env.DB "Cassandra" | lower -}}{{ $db }}', {})).toBe('cassandra');
    expect(renderGoTemplate('{{ (print "127.0.0.1:" $p) }}'.replace('$p', '.Env.P'), { P: '7233' })).toBe('127.0.0.1:7233');
  });

  it('if / else if / else with eq over several values, and, or, not', () => {
    const t = '{{- if eq .Env.DB "mysql8" }}m{{- else if eq .Env.DB "postgres12" "postgres12_pgx" }}p{{- else }}c{{- end }}';
    expect(renderGoTemplate(t, { DB: 'postgres12_pgx' })).toBe('p');
    expect(renderGoTemplate(t, { DB: 'mysql8' })).toBe('m');
    expect(renderGoTemplate(t, { DB: 'cassandra' })).toBe('c');
    const auth = '{{- if or (.Env.I) (and (not .Env.A) (not .Env.C)) }}none{{- else }}public{{- end }}';
    expect(renderGoTemplate(auth, {})).toBe('none');
    expect(renderGoTemplate(auth, { A: 'default' })).toBe('public');
    expect(renderGoTemplate(auth, { A: 'default', I: 'yes' })).toBe('none');
  });

  it('ranges over a split list with the element as dot', () => {
    expect(renderGoTemplate('{{ range split .Env.L "," }}<{{trim .}}>{{ end }}', { L: 'a, b ,c' })).toBe('<a><b><c>');
  });

  it('refuses what it does not implement, instead of rendering something else', () => {
    expect(() => renderGoTemplate('{{ upper .Env.A }}', { A: 'x' })).toThrow(/unknown function upper/);
    expect(() => renderGoTemplate('{{ if .Env.A }}x', { A: 'x' })).toThrow(/end/);
  });
});
