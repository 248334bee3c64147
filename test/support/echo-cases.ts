/** Scripts of every construct the echo must keep working, run by unit and image tests. */
export interface EchoCase {
  name: string;
  script: string;
  /** The top-level commands as split; echoed as `+ <first line>`. */
  commands: string[];
  /** Runs without `-e` (a `#!/bin/bash` script). */
  noErrexit?: boolean;
  /** Only these shells run it (bash-only syntax). */
  shells?: string[];
  /** The number of the command the status file names after a failure. */
  failing?: number;
}

export const ECHO_CASES: EchoCase[] = [
  {
    name: "simple commands, separators and a comment",
    script: "# setup\necho one; echo two\necho three & wait # background\n",
    commands: ["echo one", "echo two", "echo three &", "wait"],
  },
  {
    name: "hostile quoting: quotes that look like separators and echoes",
    script: [
      `echo 'a; b' "c && d" \\; e\\&f`,
      `echo "it's \\"quoted\\" \`echo back\`" 'single''joined'`,
      `printf '%s\\n' '+ not an echo' "$(printf '%s' "nested ) paren")"`,
      `echo '__kozmic' "\\$HOME" ';;' '#not a comment' a#b`,
      "",
    ].join("\n"),
    commands: [
      `echo 'a; b' "c && d" \\; e\\&f`,
      `echo "it's \\"quoted\\" \`echo back\`" 'single''joined'`,
      `printf '%s\\n' '+ not an echo' "$(printf '%s' "nested ) paren")"`,
      `echo '__kozmic' "\\$HOME" ';;' '#not a comment' a#b`,
    ],
  },
  {
    name: "a secret's variable is echoed as written, never expanded",
    script: 'echo "token: ${SECRET}" | cut -c1-9\ntest -n "$SECRET"\n',
    commands: ['echo "token: ${SECRET}" | cut -c1-9', 'test -n "$SECRET"'],
  },
  {
    name: "command substitutions, arithmetic, parameters and backticks",
    script: [
      'x=$(echo "$(echo deep)"; echo ")")',
      "n=$((1 + (2 * 3)))",
      'echo "$x $n ${x%%)} ${UNSET:-a;b} ${UNSET:-"q}"}"',
      "y=`echo \\`echo tick\\``; echo $y",
      "",
    ].join("\n"),
    commands: [
      'x=$(echo "$(echo deep)"; echo ")")',
      "n=$((1 + (2 * 3)))",
      'echo "$x $n ${x%%)} ${UNSET:-a;b} ${UNSET:-"q}"}"',
      "y=`echo \\`echo tick\\``",
      "echo $y",
    ],
  },
  {
    name: "heredocs: plain, quoted delimiter, <<- with tabs, two on a line, in $(…)",
    script: [
      "cat <<EOF",
      "expanded $HOME",
      "echo not a command; fi",
      "EOF",
      "cat <<'END' | tr a-z A-Z",
      "literal $HOME `x` 'q",
      "END",
      'cat <<-"TABS"',
      "\tindented",
      "\tTABS",
      "cat <<A; cat <<B",
      "first",
      "A",
      "second",
      "B",
      "v=$(cat <<EOF",
      "inside",
      "EOF",
      ")",
      'echo "$v"',
      "",
    ].join("\n"),
    commands: [
      "cat <<EOF",
      "cat <<'END' | tr a-z A-Z",
      'cat <<-"TABS"',
      "cat <<A",
      "cat <<B",
      "v=$(cat <<EOF\ninside\nEOF\n)",
      'echo "$v"',
    ],
  },
  {
    name: "compound commands: if, for, while, until, case, braces, subshells",
    script: [
      "if true; then",
      "  echo yes",
      "elif false; then echo no",
      "else echo never; fi",
      "for i in 1 2; do echo $i; done",
      "for j",
      "do echo $j; done",
      "i=0; while [ $i -lt 2 ]; do i=$((i + 1)); done; echo $i",
      "until true; do :; done",
      "case 'a;b' in",
      "  (a\\;b) echo matched;;",
      "  x|y) echo no ;;",
      "  *) case z in z) echo nested;; esac ;;",
      "esac",
      "{ echo brace; echo group; } > /dev/null",
      "( echo sub; exit 0 ) && echo after",
      "! false",
      "",
    ].join("\n"),
    commands: [
      "if true; then\n  echo yes\nelif false; then echo no\nelse echo never; fi",
      "for i in 1 2; do echo $i; done",
      "for j\ndo echo $j; done",
      "i=0",
      "while [ $i -lt 2 ]; do i=$((i + 1)); done",
      "echo $i",
      "until true; do :; done",
      "case 'a;b' in\n  (a\\;b) echo matched;;\n  x|y) echo no ;;\n  *) case z in z) echo nested;; esac ;;\nesac",
      "{ echo brace; echo group; } > /dev/null",
      "( echo sub; exit 0 ) && echo after",
      "! false",
    ],
  },
  {
    name: "function definitions are not echoed; their calls are",
    script: 'greet() {\n  echo "hi $1"\n}\nshout () ( echo LOUD )\ngreet you; shout\n',
    commands: ['greet() {\n  echo "hi $1"\n}', "shout () ( echo LOUD )", "greet you", "shout"],
  },
  {
    name: "continuation lines and trailing &&, ||, |",
    script: [
      "echo one \\",
      "  two \\",
      "  three",
      "true &&",
      "  echo and ||",
      "  echo or",
      "echo piped |",
      "",
      "  tr a-z A-Z",
      "",
    ].join("\n"),
    commands: [
      "echo one \\\n  two \\\n  three",
      "true &&\n  echo and ||\n  echo or",
      "echo piped |\n\n  tr a-z A-Z",
    ],
  },
  {
    name: "redirections with descriptors are not separators",
    script: "echo err >&2\necho both 2>&1 >/dev/null | cat\nexec 3>&1; echo three >&3\n",
    commands: ["echo err >&2", "echo both 2>&1 >/dev/null | cat", "exec 3>&1", "echo three >&3"],
  },
  {
    name: "a failing command stops the script and is named",
    script: "echo before\nfalse\necho after\n",
    commands: ["echo before", "false", "echo after"],
    failing: 2,
  },
  {
    name: "a failing multi-line command is named by its number",
    script: "echo start\nif true; then\n  sh -c 'exit 4'\nfi\n",
    commands: ["echo start", "if true; then\n  sh -c 'exit 4'\nfi"],
    failing: 2,
  },
  {
    name: "$? reaches the next command unchanged",
    script: 'false && true; echo "status $?"\nsh -c \'exit 3\' || echo "was $?"\n',
    commands: ["false && true", 'echo "status $?"', "sh -c 'exit 3' || echo \"was $?\""],
  },
  {
    name: "without -e the last command's status is the script's",
    script: "false\necho still running\nsh -c 'exit 5'\n",
    commands: ["false", "echo still running", "sh -c 'exit 5'"],
    noErrexit: true,
    failing: 3,
  },
  {
    name: "the script's own EXIT trap still runs (and nothing is named)",
    script: "trap 'echo cleanup $?' EXIT\necho work\nfalse\n",
    commands: ["trap 'echo cleanup $?' EXIT", "echo work", "false"],
  },
  {
    name: "set -u is unaffected",
    script: "set -u\necho ${UNSET_VAR}\n",
    commands: ["set -u", "echo ${UNSET_VAR}"],
    failing: 2,
  },
  {
    name: "$LINENO is the user's line",
    script: "echo line $LINENO\n\necho line $LINENO; echo same $LINENO\n",
    commands: ["echo line $LINENO", "echo line $LINENO", "echo same $LINENO"],
    shells: ["bash", "busybox"],
  },
  {
    name: "error messages keep the user's line numbers",
    script: "echo one\n\nno-such-command-kozmic arg\n",
    commands: ["echo one", "no-such-command-kozmic arg"],
    failing: 2,
  },
  {
    name: "bash's [[ ]], <(…) and |&",
    script: 'if [[ ( -n "a" ) && 1 < 2 ]]; then echo ok; fi\ncat <(echo sub)\necho piped |& cat\n',
    commands: [
      'if [[ ( -n "a" ) && 1 < 2 ]]; then echo ok; fi',
      "cat <(echo sub)",
      "echo piped |& cat",
    ],
    shells: ["bash"],
  },
  {
    name: "CRLF line ends: the shell sees the CR; the echo does not show it",
    script: "echo crlf\r\necho 'done'\r\n",
    commands: ["echo crlf\r", "echo 'done'\r"],
  },
  {
    name: "a long command shows its first lines and how many more",
    script: "if true; then\n  echo 1\n  echo 2\n  echo 3\n  echo 4\n  echo 5\nfi\n",
    commands: ["if true; then\n  echo 1\n  echo 2\n  echo 3\n  echo 4\n  echo 5\nfi"],
  },
];

/** What the echo prints for a command (without its dim style). */
export function echoLines(command: string): string[] {
  const lines = command.split("\n").map((line) => line.replace(/\r$/, ""));
  const shown = lines.length > 5 ? lines.slice(0, 4) : lines;
  const out = shown.map((line, i) => `${i === 0 ? "+ " : "  "}${line}`);
  if (shown.length < lines.length) out.push(`  … (${lines.length - shown.length} more lines)`);
  return out;
}
