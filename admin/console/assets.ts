/**
 * The console's one style sheet, served from the admin listener itself (`/console/ura.css`, CSP
 * `style-src 'self'`): no external assets, since a node may run on a closed network. The palette and
 * type follow the public catalogue's (the red header, the link blue, system fonts), so an officer
 * moving between them sees one product. Charts are inline SVG drawn on the server; no script runs.
 */
import { createHash } from 'node:crypto'

export const CSS = `
:root{--ink:#1b1f24;--muted:#4a5563;--line:#c9d1d9;--brand:#a4161a;--brand-dark:#7d1014;--link:#0b4f9c;--bg:#f6f8fa;--ok:#1a7f37;--bad:#b42318;--warn:#9a6700}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);background:#fff;display:flex;flex-direction:column;min-height:100vh}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:var(--ink);padding:.5rem;z-index:2}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
header.top{background:var(--brand);color:#fff}header.top a{color:#fff}
.wrap{max-width:76rem;margin:0 auto;padding:0 1rem;width:100%}
.bar{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem 1rem;padding:.5rem 1rem}
.brand{font-weight:700;font-size:1.2rem;letter-spacing:.02em;text-decoration:none}
.who{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;font-size:.95rem}
.who form{margin:0}.who button{background:transparent;border:1px solid #fff;color:#fff;padding:.2rem .7rem;width:auto}
.langs a{margin-left:.6rem}.langs a[aria-current]{font-weight:700;text-decoration:none;border-bottom:2px solid #fff}
nav.main{background:var(--brand-dark)}
nav.main ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:0 .25rem}
nav.main a{display:block;padding:.45rem .6rem;color:#fff;text-decoration:none;font-size:.95rem}
nav.main a[aria-current]{background:#fff;color:var(--brand-dark);font-weight:600;border-radius:4px 4px 0 0}
main{flex:1;padding-bottom:2rem}
h1{font-size:1.6rem;line-height:1.25;margin:1.25rem 0 .5rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}h3{font-size:1.05rem;margin:1rem 0 .35rem}
.lead{color:var(--muted);margin-top:0}
label{display:block;font-weight:600;font-size:.92rem;margin-bottom:.2rem}
.hint{display:block;font-weight:400;color:var(--muted);font-size:.85rem}
input,select,textarea,button{font:inherit;width:100%;padding:.45rem .55rem;border:1px solid #6e7781;border-radius:4px;background:#fff;color:var(--ink)}
textarea{min-height:6rem;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
input[type=checkbox],input[type=radio]{width:auto;margin-right:.4rem}
button,.button{background:var(--brand);color:#fff;border:1px solid var(--brand);font-weight:600;cursor:pointer;width:auto;padding:.45rem 1rem;text-decoration:none;display:inline-block;border-radius:4px}
button.secondary,.button.secondary{background:#fff;color:var(--brand);}
button.danger{background:var(--bad);border-color:var(--bad)}
.field{margin:0 0 .9rem}
.field.invalid input,.field.invalid select,.field.invalid textarea{border-color:var(--bad);border-width:2px}
.field .problem{color:var(--bad);font-weight:600;font-size:.9rem;margin:.2rem 0 0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.25rem 1rem}
form.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.6rem;align-items:end;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.8rem;margin:1rem 0}
form.inline{display:inline}
fieldset{border:1px solid var(--line);border-radius:6px;margin:0 0 1rem;padding:.75rem 1rem}
legend{font-weight:700;padding:0 .3rem}
.panel{border:1px solid var(--line);border-radius:6px;padding:1rem;margin:0 0 1rem;background:#fff}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:1rem;margin:1rem 0}
.card{border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;background:#fff}
.card h2,.card h3{margin:0 0 .3rem;font-size:1rem}
.big{font-size:1.8rem;font-weight:700;line-height:1.1}
.muted{color:var(--muted)}
.table{overflow-x:auto;margin:0 0 1rem;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:var(--bg);font-size:.88rem}
tbody tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.82rem;font-weight:600;border:1px solid var(--line);background:var(--bg);white-space:nowrap}
.badge.ok{background:#dafbe1;border-color:#4ac26b;color:#116329}
.badge.bad{background:#ffebe9;border-color:#ff8182;color:#a40e26}
.badge.warn{background:#fff8c5;border-color:#d4a72c;color:#7d4e00}
.notice{background:#fff4e5;border:1px solid #f0b400;border-radius:6px;padding:.6rem .8rem;margin:1rem 0}
.notice.ok{background:#dafbe1;border-color:#4ac26b}
.notice.bad{background:#ffebe9;border-color:#ff8182}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;background:var(--bg);border-radius:3px}
code{padding:0 .25rem;word-break:break-all}
pre{padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
dl.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.5rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600;font-size:.88rem;color:var(--muted)}dl.facts dd{margin:0}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.75rem 0}
.chart{width:100%;height:auto;max-width:28rem}
.chart .bar{fill:var(--link)}.chart .err{fill:var(--bad)}.chart text{font-size:10px;fill:var(--muted)}
.diff-add{background:#dafbe1}.diff-del{background:#ffebe9}
.signin{max-width:26rem;margin:2rem auto}
/* pages: institutions, services, officials */
.catalogue-card{border:1px solid var(--line);border-radius:6px;padding:1rem;margin:0 0 1rem;background:#fff}.catalogue-card h2,.catalogue-card h3{margin:0 0 .25rem;font-size:1.2rem}
.catalogue-card .meta{color:var(--muted);margin:.1rem 0 .5rem;font-size:.95rem}
.tag{display:inline-block;background:var(--bg);border:1px solid var(--line);border-radius:999px;padding:0 .6rem;font-size:.85rem}
.preview{background:var(--bg)}label.inline-label{display:inline;font-weight:400}
/* pages: access, applications, certificates */
td details summary{cursor:pointer;color:var(--link);font-size:.88rem;margin-top:.25rem}td details form{margin-top:.4rem;min-width:12rem}
ul.checks{list-style:none;margin:0;padding:0}ul.checks li{margin:0 0 .2rem}
/* pages: overview, audit, message log, versions */
pre.json-diff span{display:block}pre.json-diff .diff-gap{color:var(--muted);font-style:italic}ul.diff-list{list-style:none;padding-left:0}ul.diff-list li{padding:.1rem .3rem}
/* pages: the public application form */
.apply-nav{margin:.75rem 0 0;font-size:.95rem}
code.secret{display:inline-block;font-size:1.05rem;padding:.3rem .5rem;border:1px dashed var(--line);word-break:break-all}
form.apply .actions{position:sticky;bottom:0;background:#fff;padding:.5rem 0;border-top:1px solid var(--line)}
footer{border-top:1px solid var(--line);padding:1rem 0;color:var(--muted);font-size:.9rem}
@media (max-width:40rem){h1{font-size:1.35rem}nav.main a{padding:.4rem .45rem;font-size:.9rem}.big{font-size:1.4rem}}
`

export const CSS_PATH = '/console/ura.css'
export const CSS_ETAG = `"${createHash('sha256').update(CSS).digest('base64url').slice(0, 22)}"`

/**
 * Every console page's Content-Security-Policy: its own style sheet and images only, no script at
 * all, forms posting only back to the node, never framed.
 */
export const CONSOLE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
