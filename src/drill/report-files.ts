/**
 * --report DIR: writes report.json (the report as the server answered it, indented for people), junit.xml and report.html,
 * creating DIR if it is missing. Each file is written whole under a temporary name and renamed, so a CI job that
 * collects artifacts after a crash finds either the previous file or the new one, never half of one.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../report/types.js';
import { renderHtml, type HtmlInput } from './html.js';
import { renderJunit, type JunitContext } from './junit.js';

export interface ReportFiles {
  json: string;
  junit: string;
  html: string;
}

function writeWhole(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

export function writeReportFiles(dir: string, report: Report, junit: JunitContext, html: Omit<HtmlInput, 'report'>): ReportFiles {
  mkdirSync(dir, { recursive: true });
  const files = { json: join(dir, 'report.json'), junit: join(dir, 'junit.xml'), html: join(dir, 'report.html') };
  writeWhole(files.json, JSON.stringify(report, null, 2) + '\n');
  writeWhole(files.junit, renderJunit(report, junit));
  writeWhole(files.html, renderHtml({ ...html, report }));
  return files;
}
