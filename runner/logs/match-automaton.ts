/**
 * An Aho-Corasick automaton over UTF-16 code units: fed one character at a time, it knows
 * the longest pattern that ends at that character, and how long the longest end of the
 * text read so far is that could still grow into a pattern. Every pattern is looked for at
 * once, at a cost per character that does not grow with the number of patterns.
 */
export class MatchAutomaton {
  /** State 0 is the root (nothing matched yet). */
  static readonly ROOT = 0;

  /** Per state: the length of the text it stands for. */
  readonly depth: Int32Array;
  /** Per state: the length of the longest pattern that ends here, or 0. */
  readonly matched: Int32Array;
  private readonly fail: Int32Array;
  // Most states of long patterns have one child: kept in two arrays, the rest in a Map.
  private readonly onlyCode: Int32Array;
  private readonly onlyChild: Int32Array;
  private readonly children: (Map<number, number> | undefined)[];
  /** The root's moves for ASCII, looked up most often. */
  private readonly rootAscii = new Int32Array(128);

  constructor(patterns: Iterable<string>) {
    const depth: number[] = [0];
    const terminal: boolean[] = [false];
    const edges: Map<number, number>[] = [new Map()];
    for (const pattern of patterns) {
      if (pattern.length === 0) continue;
      let state = 0;
      for (let i = 0; i < pattern.length; i++) {
        const code = pattern.charCodeAt(i);
        let next = edges[state]!.get(code);
        if (next === undefined) {
          next = depth.length;
          depth.push(depth[state]! + 1);
          terminal.push(false);
          edges.push(new Map());
          edges[state]!.set(code, next);
        }
        state = next;
      }
      terminal[state] = true;
    }
    const n = depth.length;
    this.depth = Int32Array.from(depth);
    this.matched = new Int32Array(n);
    this.fail = new Int32Array(n);
    this.onlyCode = new Int32Array(n).fill(-1);
    this.onlyChild = new Int32Array(n);
    this.children = new Array<Map<number, number> | undefined>(n);
    for (let s = 0; s < n; s++) {
      const out = edges[s]!;
      if (out.size === 1) {
        const [code, child] = out.entries().next().value!;
        this.onlyCode[s] = code;
        this.onlyChild[s] = child;
      } else if (out.size > 1) {
        this.children[s] = out;
      }
    }
    for (const [code, child] of edges[0]!) if (code < 128) this.rootAscii[code] = child;
    // Breadth first, so each state's fail link is known before its children need it.
    const queue: number[] = [...edges[0]!.values()];
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head]!;
      this.matched[s] = terminal[s] ? depth[s]! : this.matched[this.fail[s]!]!;
      for (const [code, child] of edges[s]!) {
        let f = this.fail[s]!;
        let target = this.child(f, code);
        while (target === undefined && f !== 0) {
          f = this.fail[f]!;
          target = this.child(f, code);
        }
        this.fail[child] = target ?? 0;
        queue.push(child);
      }
    }
  }

  /** True when there is nothing to look for. */
  get empty(): boolean {
    return this.depth.length === 1;
  }

  /** The state after reading `code` in `state`. */
  step(state: number, code: number): number {
    for (;;) {
      if (state === 0) {
        return code < 128
          ? this.rootAscii[code]!
          : (this.children[0]?.get(code) ?? this.only0(code));
      }
      const next = this.child(state, code);
      if (next !== undefined) return next;
      state = this.fail[state]!;
    }
  }

  private only0(code: number): number {
    return this.onlyCode[0] === code ? this.onlyChild[0]! : 0;
  }

  private child(state: number, code: number): number | undefined {
    if (this.onlyCode[state] === code) return this.onlyChild[state];
    return this.children[state]?.get(code);
  }
}
