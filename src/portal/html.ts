/**
 * Server-rendered HTML with escaping by default: `html` escapes every interpolated value unless it is already
 * `Html` (from another `html` template, or `raw` for the few trusted constants). No framework, no client bundle.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

type Part = Html | string | number | null | undefined | boolean | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false || part === true) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

export const raw = (text: string) => new Html(text);

/** A time the page script shows in the viewer's zone; UTC in the text without script, and on hover. */
export function time(iso: string | null | undefined): Html {
  if (!iso) return html`<span>–</span>`;
  const utc = `${iso.slice(0, 19).replace('T', ' ')} UTC`;
  return html`<time datetime="${iso}" title="${utc}">${utc}</time>`;
}

export interface Layout {
  title: string;
  /** The page's main heading and content. */
  body: Html;
  /** Session pages get the navigation; error pages without a session do not. */
  nav?: { clientId: string; current: 'visits' | 'attention' | 'endpoint'; csrf?: string };
  flash?: string | undefined;
}

export function page(l: Layout): Html {
  const link = (href: string, label: string, key: string) =>
    html`<a href="${href}"${l.nav?.current === key ? raw(' aria-current="page"') : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${l.title} · SSN webhook portal</title>
<link rel="stylesheet" href="/portal/assets/portal.css">
<script src="/portal/assets/portal.js" defer></script>
</head>
<body>
<header>
<p class="brand">SSN webhook portal${l.nav ? html` · <span class="client">${l.nav.clientId}</span>` : ''}</p>
${l.nav ? html`<nav aria-label="Portal">${link('/portal/visits', 'Visits', 'visits')} ${link('/portal/attention', 'Needs attention', 'attention')} ${link('/portal/endpoint', 'Endpoint and secrets', 'endpoint')}</nav>` : ''}
${l.nav?.csrf ? actionForm('/portal/logout', l.nav.csrf, 'Sign out') : ''}
</header>
<main id="main">
${l.flash ? html`<p class="flash" role="status">${l.flash}</p>` : ''}
${l.body}
</main>
</body>
</html>`;
}

/** A page that says what went wrong and what to do, in one or two sentences. */
export function messagePage(title: string, sentences: string[], nav?: Layout['nav']): Html {
  return page({ title, nav, body: html`<h1>${title}</h1>${sentences.map((s) => html`<p>${s}</p>`)}` });
}

/** A POST form of one button, carrying the session's CSRF token. */
export function actionForm(action: string, csrf: string, label: string, fields: Html | string = ''): Html {
  return html`<form method="post" action="${action}" class="action"><input type="hidden" name="csrf" value="${csrf}">${fields}<button type="submit">${label}</button></form>`;
}
