/**
 * The critical alarm sound: a two-tone beep from Web Audio (no sound file to ship). Muting
 * is remembered across reloads; browsers only allow sound after a user gesture, which the
 * login click provides.
 */
const MUTE_KEY = 'shaobing.muted';

export class Alarm {
  private ctx: AudioContext | null = null;
  muted: boolean;
  beeps = 0;

  constructor(private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | null = typeof localStorage === 'undefined' ? null : localStorage) {
    this.muted = storage?.getItem(MUTE_KEY) === '1';
  }

  setMuted(m: boolean): void {
    this.muted = m;
    this.storage?.setItem(MUTE_KEY, m ? '1' : '0');
  }

  /** Call from a click handler once, so later beeps may play. */
  unlock(): void {
    try {
      this.ctx ??= new AudioContext();
      void this.ctx.resume();
    } catch { /* no audio device: the banner still shows */ }
  }

  beep(): void {
    if (this.muted) return;
    this.beeps++;
    try {
      this.ctx ??= new AudioContext();
      const ctx = this.ctx;
      const t0 = ctx.currentTime;
      for (const [i, freq] of [880, 660, 880].entries()) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'square';
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t0 + i * 0.22);
        gain.gain.exponentialRampToValueAtTime(0.15, t0 + i * 0.22 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.22 + 0.2);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t0 + i * 0.22);
        osc.stop(t0 + i * 0.22 + 0.21);
      }
    } catch { /* audio unavailable */ }
  }
}
