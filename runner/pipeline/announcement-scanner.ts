/**
 * Pure: passes a step's output through, and takes out the helper's announcement that the
 * first script ended (`<token> <exit code>\n`, see step-helper.ts), however the output is
 * cut into chunks. Text that might be the start of the announcement is held back until
 * the next chunk says; everything else is passed on at once.
 */
export class AnnouncementScanner {
  private held = "";
  private announced = false;

  constructor(
    private readonly token: string,
    private readonly onText: (text: string) => void,
    private readonly onAnnounced: (exitCode: number) => void,
  ) {}

  write(text: string): void {
    if (this.announced) return this.onText(text);
    const data = this.held + text;
    this.held = "";
    const at = data.indexOf(this.token);
    if (at >= 0) {
      const end = data.indexOf("\n", at);
      if (end < 0) {
        this.emit(data.slice(0, at));
        this.held = data.slice(at);
        return;
      }
      this.emit(data.slice(0, at));
      const code = Number(data.slice(at + this.token.length, end).trim());
      this.announced = true;
      this.onAnnounced(Number.isInteger(code) ? code : 125);
      this.emit(data.slice(end + 1));
      return;
    }
    // Hold back a tail that is a prefix of the token.
    let keep = Math.min(this.token.length - 1, data.length);
    while (keep > 0 && !this.token.startsWith(data.slice(data.length - keep))) keep--;
    this.emit(data.slice(0, data.length - keep));
    this.held = data.slice(data.length - keep);
  }

  /** The output ended: what was held back was output after all. */
  end(): void {
    this.emit(this.held);
    this.held = "";
  }

  private emit(text: string): void {
    if (text) this.onText(text);
  }
}
