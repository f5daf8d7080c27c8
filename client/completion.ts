// `dms completion bash|zsh|fish`: a completion script written from the command tree itself,
// so that it always knows every command and option the CLI has: commands, subcommands, their
// options, and the values of -o and of `completion`.
import type { Command, Option } from 'commander';

interface Node {
  /** 'schedule create'; '' for dms itself. */
  path: string;
  command: Command;
}

function nodes(command: Command, path = ''): Node[] {
  return [{ path, command }, ...command.commands.flatMap((c) => nodes(c, path ? `${path} ${c.name()}` : c.name()))];
}

function visibleOptions(command: Command): Option[] {
  return (command.options as Option[]).filter((o) => !o.hidden);
}

/** What may follow a command: its subcommands, else its options (with --help). */
function wordsAfter(command: Command): string[] {
  if (command.commands.length > 0)
    return [...command.commands.map((c) => c.name()), '--help', ...(command.parent ? [] : ['--version'])];
  const choices = command.registeredArguments.flatMap((a) => a.argChoices ?? []);
  return [
    ...choices,
    ...visibleOptions(command).flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)),
    '--help',
  ];
}

/** Values an option or an argument takes, where they are few. */
const VALUES: Record<string, string[]> = { '-o': ['text', 'json', 'jsonl'], '--output': ['text', 'json', 'jsonl'] };

function bash(tree: Node[]): string {
  const cases = tree.map((n) => `    '${n.path}') echo '${wordsAfter(n.command).join(' ')}' ;;`).join('\n');
  const values = Object.entries(VALUES)
    .map(([flag, v]) => `    ${flag}) COMPREPLY=( $(compgen -W '${v.join(' ')}' -- "$cur") ); return ;;`)
    .join('\n');
  return `# dms completion for bash (written by \`dms completion bash\`)
_dms_words() {
  case "$1" in
${cases}
    *) return 1 ;;
  esac
}
_dms() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" i w
  case "$prev" in
${values}
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    _dms_words "\${path:+$path }$w" >/dev/null && path="\${path:+$path }$w"
  done
  COMPREPLY=( $(compgen -W "$(_dms_words "$path")" -- "$cur") )
}
complete -F _dms dms
`;
}

function fish(tree: Node[]): string {
  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = ['# dms completion for fish (written by `dms completion fish`)', 'complete -c dms -f'];
  for (const n of tree) {
    const words = n.path ? n.path.split(' ') : [];
    // The command line holds exactly this path so far (and nothing below it).
    const here =
      words.length === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${words.at(-1)}; and not __fish_seen_subcommand_from ${n.command.commands.map((c) => c.name()).join(' ') || '__none__'}`;
    for (const c of n.command.commands)
      lines.push(`complete -c dms -n ${quote(here)} -a ${c.name()} -d ${quote(c.description().split(':')[0])}`);
    if (n.command.commands.length === 0 && n.path) {
      for (const o of visibleOptions(n.command)) {
        const flags = [o.long ? `-l ${o.long.slice(2)}` : '', o.short ? `-s ${o.short.slice(1)}` : '']
          .filter(Boolean)
          .join(' ');
        const values = VALUES[o.long ?? '']
          ? ` -x -a ${quote(VALUES[o.long!].join(' '))}`
          : o.required || o.optional
            ? ' -r'
            : '';
        lines.push(`complete -c dms -n ${quote(here)} ${flags}${values} -d ${quote(o.description)}`);
      }
    }
  }
  for (const n of tree) {
    const choices = n.command.registeredArguments.flatMap((a) => a.argChoices ?? []);
    if (choices.length > 0)
      lines.push(
        `complete -c dms -n ${quote(`__fish_seen_subcommand_from ${n.command.name()}`)} -a ${quote(choices.join(' '))}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** The script for a shell; zsh takes the bash one through bashcompinit. */
export function completionScript(shell: 'bash' | 'zsh' | 'fish', program: Command): string {
  const tree = nodes(program);
  if (shell === 'fish') return fish(tree);
  if (shell === 'zsh')
    return `#compdef dms\n# dms completion for zsh (written by \`dms completion zsh\`)\nautoload -U +X bashcompinit && bashcompinit\n${bash(tree)}`;
  return bash(tree);
}
