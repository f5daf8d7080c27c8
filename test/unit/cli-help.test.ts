// Every `dms` command's --help ends with an example a user can copy.
import { describe, expect, it } from 'vitest';
import { buildProgram, leafCommands } from '../../client/cli';

function helpOf(command: ReturnType<typeof buildProgram>): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

describe('dms --help', () => {
  it('gives every command an example', () => {
    const leaves = leafCommands(buildProgram());
    expect(leaves.length).toBeGreaterThan(25);
    const without = leaves.filter(({ command }) => !/\nExamples?[^\n]*:\n {2}\$ .*\bdms /.test(helpOf(command))).map((l) => l.path);
    expect(without).toEqual([]);
  });
});
