// The command line's own conventions, none of which needs a database: every command's --help
// ends with an example, --version, usage errors in one line with a pointer to --help, -o on the
// commands that print data, and the completion scripts.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildProgram, leafCommands } from '../../client/cli';
import { columns } from '../../client/output';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');

function helpOf(command: ReturnType<typeof buildProgram>): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

/** `dms …` as a user runs it, with no metadata database: what it prints and its exit code. */
async function dms(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DMS_METADATA_URL: 'postgres://nobody@127.0.0.1:1/none' };
  return run(process.execPath, [DMS, ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('dms --help', () => {
  it('gives every command an example', () => {
    const leaves = leafCommands(buildProgram());
    expect(leaves.length).toBeGreaterThan(25);
    const without = leaves
      .filter(({ command }) => !/\nExamples?[^\n]*:\n {2}\$ .*\bdms /.test(helpOf(command)))
      .map((l) => l.path);
    expect(without).toEqual([]);
  });

  it('offers -o text|json|jsonl on every command that prints data', () => {
    const withOutput = leafCommands(buildProgram())
      .filter(({ command }) => command.options.some((o) => o.long === '--output'))
      .map((l) => l.path);
    expect(withOutput.sort()).toEqual([
      'checkpoint show',
      'connection list',
      'mapping list',
      'mapping show',
      'mapping validate',
      'rejects',
      'run',
      'schedule describe',
      'schedule list',
      'status',
      'verify',
      'watch',
    ]);
  });
});

describe('dms on the command line', () => {
  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(await dms('--version')).toEqual({ code: 0, stdout: `dms-etl ${version}\n`, stderr: '' });
  });

  it.each([
    [
      ['run', 'X', '--form-start'],
      "dms: unknown option '--form-start' (did you mean --from-start?); see `dms run --help`",
    ],
    [['stauts', 'X'], "dms: unknown command 'stauts' (did you mean status?); see `dms --help`"],
    [['schedule', 'create'], "dms: missing required argument 'MAPREF'; see `dms schedule create --help`"],
    [
      ['status', 'X', '-o', 'xml'],
      "dms: option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are text, json, jsonl; see `dms status --help`",
    ],
  ])('says what is wrong with `dms %s` in one line, with a pointer to --help', async (args, line) => {
    expect(await dms(...args)).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
  });

  it('warns of a DMS_ variable that nothing reads', async () => {
    const { stderr } = await run(process.execPath, [DMS, '--version'], {
      env: { ...process.env, DMS_BATCH_TIMOUT_MS: '5' },
    });
    expect(stderr).toBe(
      'dms: warning: DMS_BATCH_TIMOUT_MS is set, but dms-etl reads no such variable; did you mean DMS_BATCH_TIMEOUT_MS?\n',
    );
  });

  it('writes a bash completion that completes commands, subcommands, options and their values', async () => {
    const script = (await dms('completion', 'bash')).stdout;
    const complete = async (line: string) => {
      const words = line.split(' ');
      const probe = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _dms; echo "\${COMPREPLY[*]}"`;
      return (await run('bash', ['-c', probe])).stdout.trim();
    };
    expect(await complete('dms sch')).toBe('schedule');
    expect(await complete('dms schedule c')).toBe('create');
    expect(await complete('dms run SALES --w')).toBe('--wait --workflow-id');
    expect(await complete('dms status SALES -o ')).toBe('text json jsonl');
    expect(await complete('dms completion ')).toBe('bash zsh fish --help');
  });

  it('writes zsh and fish completions from the same tree', async () => {
    const zsh = (await dms('completion', 'zsh')).stdout;
    expect(zsh).toMatch(/^#compdef dms\n/);
    expect(zsh).toContain("'schedule create') echo '--cron --every --timezone --catchup-window --paused --help' ;;");
    const fish = (await dms('completion', 'fish')).stdout;
    expect(fish).toContain(
      "complete -c dms -n '__fish_seen_subcommand_from schedule; and not __fish_seen_subcommand_from create update list describe pause unpause trigger delete' -a create",
    );
    expect(fish).toContain(
      "complete -c dms -n '__fish_seen_subcommand_from run; and not __fish_seen_subcommand_from __none__' -l wait",
    );
  });
});

describe('columns for people', () => {
  const rows = [
    { run: 12, status: 'running', 'checkpoint / error': "'2026-11-01 12:00:00.000000' and a long tail of text" },
    { run: 9, status: 'failed', 'checkpoint / error': 'Mapping X: SRCQUERY …' },
  ];

  it('aligns the columns under a header, with no borders', () => {
    expect(columns(rows).split('\n')).toEqual([
      'run  status   checkpoint / error',
      "12   running  '2026-11-01 12:00:00.000000' and a long tail of text",
      '9    failed   Mapping X: SRCQUERY …',
    ]);
  });

  it('cuts the column it may cut so that every line fits the width', () => {
    const lines = columns(rows, { width: 40, shrink: 'checkpoint / error' }).split('\n');
    expect(lines.every((l) => l.length <= 39)).toBe(true);
    expect(lines[1]).toBe("12   running  '2026-11-01 12:00:00.000…");
    expect(lines[1]).toHaveLength(39);
  });
});
