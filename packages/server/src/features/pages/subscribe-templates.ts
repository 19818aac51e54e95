// The small server-rendered pages of the web subscribe flow: sign up or log
// in (listener accounts), or confirm when already signed in. No script; the
// forms post to this server with a CSRF token.

import { html, trusted, type SafeHtml } from './html.js';
import { formatPrice, PAGE_CSS, type PagePlan } from './templates.js';

export interface SubscribeView {
  plan: PagePlan & { description?: string | null };
  /** The page to come back to (a path of this server). */
  returnPath: string;
  csrf: string;
  /** Signed in as this email: a confirm button instead of the account forms. */
  signedInAs: string | null;
  error: string | null;
  /** What the visitor typed (never the password). */
  email?: string;
}

function shell(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${title} · djcast</title>
<style>${trusted(PAGE_CSS)}</style>
</head>
<body class="page">
${body}
</body>
</html>
`.value;
}

function hidden(v: SubscribeView): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="plan" value="${v.plan.id}">
<input type="hidden" name="return" value="${v.returnPath}">`;
}

export function renderSubscribe(v: SubscribeView): string {
  const summary = html`<h1>Subscribe to ${v.plan.name}</h1>
<p class="by"><span class="price">${formatPrice(v.plan)}</span>${
    v.plan.features.length > 0 ? html` · ${v.plan.features.join(', ')}` : ''
  }</p>
${v.error ? html`<p class="error" role="alert" data-role="error">${v.error}</p>\n` : ''}`;
  const forms = v.signedInAs
    ? html`<section class="card">
<form method="post" action="/subscribe/confirm">
${hidden(v)}
<p>Signed in as <strong>${v.signedInAs}</strong>.</p>
<button class="btn" type="submit">Subscribe</button>
</form>
</section>`
    : html`<section class="card" aria-labelledby="signup-h">
<h2 id="signup-h">New here? Create a listener account</h2>
<form class="auth" method="post" action="/subscribe/signup" data-role="signup">
${hidden(v)}
<label for="signup-email">Email</label>
<input id="signup-email" name="email" type="email" autocomplete="email" required value="${v.email ?? ''}">
<label for="signup-password">Password (8 or more characters, one of them not a letter or digit)</label>
<input id="signup-password" name="password" type="password" autocomplete="new-password" required minlength="8">
<p><button class="btn" type="submit">Sign up and subscribe</button></p>
</form>
</section>
<section class="card" aria-labelledby="login-h">
<h2 id="login-h">Have an account? Log in</h2>
<form class="auth" method="post" action="/subscribe/login" data-role="login">
${hidden(v)}
<label for="login-email">Email</label>
<input id="login-email" name="email" type="email" autocomplete="email" required>
<label for="login-password">Password</label>
<input id="login-password" name="password" type="password" autocomplete="current-password" required>
<p><button class="btn" type="submit">Log in and subscribe</button></p>
</form>
</section>`;
  return shell(
    `Subscribe to ${v.plan.name}`,
    html`<main>
${summary}${forms}
<p><a href="${v.returnPath}">Back to the page</a></p>
</main>`,
  );
}

export function renderSubscribeProblem(title: string, detail: string): string {
  return shell(title, html`<main><h1>${title}</h1><p data-role="error">${detail}</p></main>`);
}
