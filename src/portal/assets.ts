/**
 * The portal's one stylesheet and one small script, served by the API itself (`/portal/assets/...`): the CSP allows
 * nothing else. The script only shows times in the viewer's zone and copies a new secret; every page works without it.
 */
export const PORTAL_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --bad: #a40e26; --ok: #116329; --accent: #0550ae; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #fff; }
header { padding: 10px 24px; border-bottom: 1px solid var(--line); background: #f6f8fa; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
.brand { margin: 0; font-weight: 600; }
nav a { margin-right: 14px; color: var(--accent); }
nav a[aria-current="page"] { font-weight: 700; color: var(--ink); }
main { padding: 16px 24px 40px; max-width: 1100px; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 17px; margin: 22px 0 8px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 13px; color: var(--muted); font-weight: 600; }
code, .mono { font-family: ui-monospace, monospace; font-size: 13px; }
.flash { padding: 8px 12px; border: 1px solid #54aeff; background: #ddf4ff; border-radius: 6px; }
.warn { padding: 8px 12px; border: 1px solid #d4a72c; background: #fff8c5; border-radius: 6px; }
.status-delivered { color: var(--ok); } .status-failed, .status-undelivered, .status-retrying { color: var(--bad); font-weight: 600; }
form.action { display: inline; margin: 0; }
form.inline { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; margin: 8px 0; }
label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); }
input, select, button { font: inherit; padding: 4px 8px; }
button { border: 1px solid var(--line); border-radius: 6px; background: #f6f8fa; cursor: pointer; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.event { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.event h3 { font-size: 15px; margin: 0 0 4px; }
pre { white-space: pre-wrap; word-break: break-all; background: #f6f8fa; padding: 6px; margin: 4px 0; max-height: 10em; overflow: auto; }
.secret { font-family: ui-monospace, monospace; padding: 8px; border: 2px dashed var(--bad); display: inline-block; }
.pager a { margin-right: 12px; }
`;

export const PORTAL_JS = `
document.querySelectorAll('time[datetime]').forEach(function (t) {
  var d = new Date(t.getAttribute('datetime'));
  if (!isNaN(d.getTime())) t.textContent = d.toLocaleString();
});
document.querySelectorAll('button[data-copy]').forEach(function (b) {
  b.hidden = false;
  b.addEventListener('click', function () {
    var source = document.getElementById(b.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () { b.textContent = 'Copied'; }, function () { b.textContent = 'Copy failed: select the text'; });
  });
});
`;
