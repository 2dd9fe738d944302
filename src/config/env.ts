/**
 * Small typed readers for environment variables. Each failure names the variable and what it
 * expected, so a bad setting stops the process with one clear line.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export class EnvReader {
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, { min = -Infinity, max = Infinity } = {}): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v)) throw new ConfigError(`${name}=${v} is not a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new ConfigError(`${name}=${v} is out of range (${min}…${max})`);
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    throw new ConfigError(`${name}=${v} is not a boolean (use true or false)`);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(`${name}=${v} must be one of: ${allowed.join(', ')}`);
    }
    return v as T;
  }

  list(name: string): string[] {
    const v = this.raw(name);
    return v === undefined
      ? []
      : v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  }

  url(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    try {
      new URL(v);
    } catch {
      throw new ConfigError(`${name}=${v} is not a valid URL`);
    }
    return v.replace(/\/+$/, '');
  }
}
