// Where CLI output goes. Commands write through this so they can be exercised without a terminal.
export interface Io {
  out(text: string): void; // stdout, a newline is added
  err(text: string): void; // stderr, a newline is added
  isTTY: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: Boolean(process.stdout.isTTY),
};
