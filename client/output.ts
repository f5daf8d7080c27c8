// How commands that print data print it, as the Temporal CLI does: `-o text` (the default,
// for people: aligned columns cut to the terminal's width), `-o json` (one document) and
// `-o jsonl` (one JSON object a line, for scripts that stream). Numbers for people are
// grouped one way everywhere (1,234,567).
import type { Command } from 'commander';
import { Option } from 'commander';
import { CommandError } from '../common/errors';

const FORMATS = ['text', 'json', 'jsonl'] as const;
export type Format = (typeof FORMATS)[number];

/** Adds `-o, --output` (and the earlier `--json`, hidden) to a command that prints data. */
export function withOutput(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'how to print').choices(FORMATS).default('text'))
    .addOption(new Option('--json', 'the same as -o json').hideHelp());
}

/** The format a command's options ask for. */
export function formatOf(opts: { output?: string; json?: boolean }): Format {
  if (opts.json) return 'json';
  const f = (opts.output ?? 'text') as Format;
  if (!FORMATS.includes(f)) throw new CommandError(`-o takes ${FORMATS.join(', ')}, not '${opts.output}'`);
  return f;
}

const numbers = new Intl.NumberFormat('en-US');

/** 1234567 → 1,234,567: the one way numbers are written for people. */
export function count(n: number): string {
  return numbers.format(n);
}

/** The width to fit text output to: the terminal's, or COLUMNS, or none when piped. */
export function outputWidth(
  out: { isTTY?: boolean; columns?: number } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const columns = Number(env.COLUMNS);
  if (Number.isInteger(columns) && columns > 20) return columns;
  return out.isTTY && out.columns ? out.columns : undefined;
}

/**
 * Rows as aligned columns with a header, no borders. With a width, the column marked
 * `shrink` (else the last) is cut with '…' so that each line fits it.
 */
export function columns(rows: Record<string, unknown>[], options: { width?: number; shrink?: string } = {}): string {
  if (rows.length === 0) return '';
  const head = Object.keys(rows[0]);
  const cells = rows.map((row) => head.map((h) => (row[h] === null || row[h] === undefined ? '' : String(row[h]))));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const gap = 2;
  if (options.width !== undefined) {
    const i = Math.max(0, options.shrink ? head.indexOf(options.shrink) : head.length - 1);
    const others = widths.reduce((n, w, j) => (j === i ? n : n + w + gap), 0);
    widths[i] = Math.max(Math.min(widths[i], options.width - 1 - others), Math.min(widths[i], 8));
  }
  const cut = (text: string, w: number) => (text.length <= w ? text : `${text.slice(0, Math.max(0, w - 1))}…`);
  const line = (row: string[]) =>
    row
      .map((c, i) => cut(c, widths[i]).padEnd(i === row.length - 1 ? 0 : widths[i] + gap))
      .join('')
      .trimEnd();
  return [line(head), ...cells.map(line)].join('\n');
}

/** Prints data in the format asked: rows as columns, or the value as JSON / JSON lines. */
export function printRows(
  rows: Record<string, unknown>[],
  format: Format,
  options: { width?: number; shrink?: string; empty?: string } = {},
): void {
  if (format === 'json') console.log(JSON.stringify(rows, null, 2));
  else if (format === 'jsonl') for (const row of rows) console.log(JSON.stringify(row));
  else if (rows.length === 0) {
    if (options.empty) console.log(options.empty);
  } else console.log(columns(rows, { width: options.width ?? outputWidth(), shrink: options.shrink }));
}

/** Prints one record: a `field  value` list, or JSON. */
export function printRecord(record: Record<string, unknown>, format: Format): void {
  if (format === 'json') console.log(JSON.stringify(record, null, 2));
  else if (format === 'jsonl') console.log(JSON.stringify(record));
  else
    console.log(
      columns(
        Object.entries(record).map(([field, value]) => ({ field, value })),
        { width: outputWidth(), shrink: 'value' },
      ),
    );
}
