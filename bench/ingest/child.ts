/** A forked process of the ingest benchmark (server or load generator) spoken to by request/reply over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export class Child<In, Out extends { ev: string }> {
  readonly proc: ChildProcess;
  #waiters: { ev: string; resolve: (m: Out) => void }[] = [];
  constructor(file: string) {
    // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile of each measured window there.
    this.proc = fork(join(here, file), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.proc.on('message', (m: Out) => {
      const i = this.#waiters.findIndex((w) => w.ev === m.ev);
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
    });
    this.proc.on('exit', (code) => {
      if (code && this.#waiters.length) for (const w of this.#waiters.splice(0)) w.resolve({ ev: 'exit', code } as unknown as Out);
    });
  }
  ask<E extends Out['ev']>(msg: In, ev: E): Promise<Extract<Out, { ev: E }>> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ ev, resolve: (m) => (m.ev === ev ? resolve(m as Extract<Out, { ev: E }>) : reject(new Error(`${this.proc.spawnargs.at(-1)} exited while waiting for ${ev}`))) });
      this.proc.send(msg as object);
    });
  }
  kill(): void { if (this.proc.exitCode === null) this.proc.kill('SIGTERM'); }
  /** Waits for the process to exit on its own (a CPU profile is written at exit), then kills it. */
  async exited(ms: number): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const timer = setTimeout(() => this.kill(), ms);
    await new Promise((r) => this.proc.once('exit', r));
    clearTimeout(timer);
  }
}
