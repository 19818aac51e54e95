// Where the CLI writes: results to stdout (human text, or JSON under --json),
// everything else (messages, hints, spinners, progress bars) to stderr, with
// colors and animation only for a terminal and never under --json.
import cliProgress from 'cli-progress';
import { createConsola, type ConsolaInstance } from 'consola';
import { renderRecord, renderTable, transferStatus, type Column, type Field } from './format.js';

type Stream = NodeJS.WritableStream & { isTTY?: boolean };

export interface OutputOptions {
  json: boolean;
  stdout?: Stream;
  stderr?: Stream;
  env?: Record<string, string | undefined>;
}

export interface Progress {
  update(value: number): void;
  stop(): void;
}

export class Output {
  readonly json: boolean;
  /** stderr is a terminal, --json is off and NO_COLOR is not set: colors and animation allowed. */
  readonly fancy: boolean;
  private readonly stdout: Stream;
  private readonly stderr: Stream;
  private readonly messages: ConsolaInstance;

  constructor(options: OutputOptions) {
    const env = options.env ?? process.env;
    this.json = options.json;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.fancy = Boolean(this.stderr.isTTY) && !this.json && !env.NO_COLOR && env.TERM !== 'dumb';
    const stderr = this.stderr as NodeJS.WriteStream;
    this.messages = createConsola({
      // Fixed: consola would drop info messages when NODE_ENV=test or CI looks like a test run.
      level: 3,
      fancy: this.fancy,
      stdout: stderr,
      stderr,
      formatOptions: { colors: this.fancy, date: false },
    });
  }

  // --- results: stdout -------------------------------------------------------

  /** A line of human result text; nothing under --json (the command's return value is printed instead). */
  result(text: string): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  table<T>(rows: readonly T[], columns: readonly Column<T>[], empty?: string): void {
    if (this.json) return;
    if (rows.length === 0 && empty) this.info(empty);
    else this.result(renderTable(rows, columns));
  }

  record<T>(value: T, fields: readonly Field<T>[]): void {
    this.result(renderRecord(value, fields));
  }

  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  // --- everything else: stderr -------------------------------------------------

  info(message: string): void {
    this.messages.info(message);
  }

  success(message: string): void {
    this.messages.success(message);
  }

  warn(message: string): void {
    this.messages.warn(message);
  }

  /** Plain lines to stderr (error reports, prompts' context). */
  errorLines(lines: readonly string[]): void {
    for (const line of lines) this.stderr.write(`${line}\n`);
  }

  /** Runs `work` behind a spinner on a terminal; silently otherwise. */
  async spin<T>(label: string, work: () => Promise<T>): Promise<T> {
    if (!this.fancy) return work();
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let i = 0;
    const draw = () => this.stderr.write(`\r${frames[i++ % frames.length]} ${label}`);
    draw();
    const timer = setInterval(draw, 80);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      this.stderr.write('\r\u001b[K');
    }
  }

  /**
   * A progress bar on a terminal; a no-op otherwise. `unit: 'bytes'` shows
   * sizes, rate and time left in human units (uploads); the default shows a percentage.
   */
  progress(total: number, label: string, options: { unit?: 'bytes' | 'percent'; now?: () => number } = {}): Progress {
    if (!this.fancy) return { update: () => {}, stop: () => {} };
    const now = options.now ?? Date.now;
    const started = now();
    const bar = new cliProgress.SingleBar(
      {
        stream: this.stderr as NodeJS.WriteStream,
        format:
          options.unit === 'bytes'
            ? (barOptions, params) =>
                `${label} [${cliProgress.Format.BarFormat(params.progress, barOptions)}] ${transferStatus(params.value, params.total, now() - started)}`
            : `${label} [{bar}] {percentage}%`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (value) => bar.update(value), stop: () => bar.stop() };
  }
}
