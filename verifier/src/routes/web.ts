/**
 * The log's web page at `/`: look up or paste a receipt and see every check
 * run in the browser (signature against the key pinned there, entry, inclusion
 * against the signed tree head), the recent entries, and the history of
 * approved images. Static files, no third-party code, a strict CSP.
 */
import { readFileSync } from 'node:fs';
import type { Express, Request, Response } from 'express';
import { route } from '@veritee/service/express';

const file = (name: string) => readFileSync(new URL(`../../web/${name}`, import.meta.url), 'utf8');
const PAGE = file('index.html');
const SCRIPT = file('app.js');

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'self'",
  "style-src 'unsafe-inline'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function webRoutes(app: Express): void {
  app.get('/', route('/'), (_request: Request, response: Response) => {
    response.set('content-security-policy', CSP).type('text/html; charset=utf-8').send(PAGE);
  });
  app.get('/web/app.js', route('/web/app.js'), (_request: Request, response: Response) => {
    response.type('text/javascript; charset=utf-8').send(SCRIPT);
  });
}
